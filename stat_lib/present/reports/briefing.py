"""The cabinet briefing: one citywide page for the Mayor on the 3-6 measures in city.yaml.

Each measure (a department and a metric, ``briefing.metrics``) shows its value this period and
over the fiscal year to date, its variation and assurance verdicts and one generated sentence
(:func:`stat_lib.metrics.briefing.briefing_sentence`); then the overdue commitments across
departments, from the page-one sources registered for the briefing
(:data:`stat_lib.metrics.page_one.BRIEFING_SOURCES`). The figures are the departments' figures
of the period (:mod:`stat_lib.metrics.period_figures`), the same as in their packets.
"""

from __future__ import annotations

import pandas as pd

from ...core.periods import Period
from ...metrics.briefing import briefing_sentence
from ...metrics.commitments import as_of_day
from ...metrics.methods import VERDICT_TEXT
from ...metrics.moved import assess_trend
from ...metrics.page_one import briefing_items
from ...metrics.period_figures import period_figures
from ...metrics.registry import format_value, metric_def
from ...params import load_params
from ..html import HTML, esc, table, use_branding
from ..summary import publish_summary


class BriefingReport:
    """The briefing of one period (``department`` is the run slug, ``"briefing"``)."""

    def __init__(self, home: str, period: str, as_of: str | None = None):
        self.params = load_params(home)
        use_branding(self.params)
        self.chosen = self.params.city.briefing.metrics if self.params.city.briefing else []
        for c in self.chosen:
            metric_def(c.metric)  # an unknown metric id: MetricError naming the known ones
        for c in self.chosen:
            self.params.department(c.department)  # unknown slug: UsageError naming the known
        self.period = Period.parse(period, self.params.city.timezone)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.figures = period_figures(self.params, self.period,
                                      list(dict.fromkeys(c.department for c in self.chosen)))

    @property
    def fiscal(self):
        """The fiscal year to date at this period's end (city.yaml fiscal_year_start_month)."""
        return self.period.fiscal_to_date(self.params.city.fiscal_year_start_month)

    def rows(self) -> pd.DataFrame:
        """One row per chosen measure: value, fiscal year to date, verdicts, sentence."""
        out = []
        for c in self.chosen:
            f, d = self.figures.departments[c.department], metric_def(c.metric)
            dept = self.params.departments[c.department]
            a = assess_trend(f.trend, dept, c.metric, spc=self.params.city.spc,
                             partial=self.figures.partial)
            out.append({"department": dept.name, "measure": d.label,
                        "value": format_value(f.summary.get(c.metric), d.unit),
                        "fiscal": format_value(f.fiscal.get(c.metric), d.unit),
                        "variation": VERDICT_TEXT[a.variation], "assurance": a.assurance_text
                        or "no target", "sentence": briefing_sentence(
                            dept.name, d.label, d.unit, self.period.label, a)})
        return pd.DataFrame(out)

    def measures(self):
        """The chosen measures: a sentence each, then the table of values and verdicts."""
        if not self.chosen:
            return HTML("<p>No briefing measures are configured (city.yaml "
                        "<code>briefing: metrics:</code>).</p>")
        rows = self.rows()
        sentences = "".join(f"<li>{esc(s)}</li>" for s in rows["sentence"])
        return HTML(f'<div class="stat-briefing-part"><ol class="stat-briefing">{sentences}</ol>'
                    f'<div class="stat-text-table">'
                    + table(rows, {"department": "Department", "measure": "Measure",
                                   "value": self.period.label, "fiscal": self.fiscal.label,
                                   "variation": "Variation", "assurance": "Assurance"})
                    + "</div></div>")

    def overdue_commitments(self, top: int = 3):
        """Overdue commitments across departments (the ``top`` longest overdue), from the
        page-one sources registered for the briefing."""
        tz = self.params.city.timezone
        days = [as_of_day(f.as_of, tz, self.period.end)
                for f in self.figures.departments.values()]
        items = briefing_items(self.params, self.period, max(days) if days else None)
        return HTML('<div class="stat-briefing-part"><h3>Overdue commitments across '
                    'departments</h3>' + self._overdue_html(items, top) + "</div>")

    @staticmethod
    def _overdue_html(items, top: int) -> str:
        if items is None:
            return ('<p class="stat-note">Commitments are not tracked in this installation '
                    'yet, so none can be listed here.</p>')
        if not items:
            return "<p>No commitment is overdue.</p>"
        shown = "".join(f"<li>{esc(dept)}: {esc(s.text)}</li>" for dept, s in items[:top])
        more = (f'<p class="stat-note">and {len(items) - top} more overdue; the citywide '
                f'packet lists every one.</p>' if len(items) > top else "")
        return (f"<p>{len(items)} commitment{'s' if len(items) != 1 else ''} overdue, the "
                f"longest first:</p><ol>{shown}</ol>{more}")

    def page(self):
        """The whole page as one block (it prints on one sheet): measures, then overdue
        commitments."""
        return HTML(self.measures().data + self.overdue_commitments().data)

    def publish(self):
        publish_summary({"measures": len(self.chosen)})
