"""The contact-center packet: the 311 center as a department of its own, one per period.

Every number comes from :mod:`stat_lib.metrics.telephony`; every chart and table that uses the
service-level threshold or the short-abandon cutoff prints the definition that applied
(:func:`~stat_lib.metrics.telephony.definition_text`), and says so when it changed inside the
range shown.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ...core.errors import ParamsError
from ...core.periods import Period
from ...metrics import telephony as tel
from ...metrics.methods import assess
from ...metrics.registry import format_value, metric_def
from ...metrics.spc import periods_needed, spc_settings
from ...params import load_params
from ...store.telephony import load_telephony, telephony_rejects
from ..html import HTML, badge, esc, table, use_branding
from ..spc_text import chart_subtitle
from ..summary import publish_summary

FMT = {"rate": ".0%", "seconds": ",.0f", "per_hour": ".1f", "count": ",.0f"}


def _verdict(a) -> str:
    """The variation verdict and, with a target, the assurance one (details on the charts)."""
    from ...metrics.methods import VERDICT_TEXT
    return VERDICT_TEXT[a.variation] + (f"; {a.assurance_text}" if a.assurance_text else "")


class ContactCenterReport:
    """The contact-center packet of one period (run slug ``contact-center``)."""

    def __init__(self, home: str, period: str, as_of: str | None = None):
        self.params = load_params(home)
        use_branding(self.params)
        self.center = self.params.city.contact_center
        if self.center is None:
            raise ParamsError("no contact_center: block; the contact-center packet needs its "
                              "definitions (service_level: [{from: YYYY-MM-DD, seconds: N}])",
                              path=self.params.home / "params" / "city.yaml",
                              key="contact_center")
        tz = self.params.city.timezone
        self.period = Period.parse(period, tz)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.partial = self.period.is_to_date
        self.spc = spc_settings(self.params.city.spc)
        self.n = periods_needed(self.spc, self.period.kind)
        self.prep = tel.prepare_telephony(load_telephony(self.params, end=self.period.end),
                                          self.center, tz)
        self.summary = tel.telephony_summary(self.prep, self.period)
        self.trend = tel.telephony_trend(self.prep, self.period, self.n)

    # -- the definitions in words ----------------------------------------------------------

    def _days(self, periods) -> tuple[dt.date, dt.date]:
        return periods[0].first_day, (periods[-1].end - pd.Timedelta(seconds=1)).date()

    def definition(self, charted: bool = False) -> str:
        """The definitions that applied in the period (over the charted range when
        ``charted``)."""
        periods = self.period.trailing(self.n) if charted else [self.period]
        return tel.definition_text(self.center, *self._days(periods))

    def definitions(self):
        return HTML(f'<p class="stat-note"><strong>Definitions this period:</strong> '
                    f'{esc(self.definition())}. The phone system counts calls answered within '
                    f'the threshold and short abandons itself; city.yaml '
                    f'<code>contact_center:</code> states which threshold it used and from '
                    f'when.</p>')

    # -- scorecard -------------------------------------------------------------------------

    def target(self, metric: str):
        return self.center.targets.get(metric)

    def assessment(self, metric: str):
        series = self.trend[self.trend["metric"] == metric]
        d = metric_def(metric)
        return assess(series, metric, direction=d.direction, target=self.target(metric),
                      settings=self.spc, partial=self.partial)

    def status(self, metric: str) -> str:
        """``met``/``missed`` against the target this period; ``n/a`` without one."""
        value, target, d = self.summary.get(metric), self.target(metric), metric_def(metric)
        if value is None or target is None or d.direction is None:
            return "n/a"
        good = value >= target if d.direction == "higher" else value <= target
        return "met" if good else "missed"

    def scorecard_rows(self) -> pd.DataFrame:
        prior = tel.telephony_summary(self.prep, self.period.prior())
        rows = []
        for m in tel.SCORECARD:
            d = metric_def(m)
            target = self.target(m)
            rows.append({"metric": d.label, "value": format_value(self.summary.get(m), d.unit),
                         "prior": format_value(prior.get(m), d.unit),
                         "target": "none" if target is None else format_value(target, d.unit),
                         "status": badge(self.status(m)),
                         "verdict": _verdict(self.assessment(m)), "label": d.label,
                         "definition": d.description})
        return pd.DataFrame(rows)

    def tiles(self) -> str:
        out = []
        for m in ("service_level", "abandonment_rate", "average_speed_of_answer",
                  "calls_offered"):
            d = metric_def(m)
            out.append(f'<div class="stat-tile"><div class="stat-tile-label">{esc(d.label)}'
                       f'</div><div class="stat-tile-value">'
                       f'{esc(format_value(self.summary.get(m), d.unit))}</div></div>')
        return f'<div class="stat-tiles">{"".join(out)}</div>'

    def page_one(self):
        """Headline tiles and the scorecard with targets; the definitions above them."""
        rejected = sum(telephony_rejects(self.params).values())
        note = (f'<p class="stat-note">{rejected:,} telephony row(s) were rejected at ingest '
                f'(<code>stat-lib ingest</code> lists them by reason); they are not counted '
                f'here.</p>'
                if rejected else "")
        head = (f"<h2>{esc(self.center.name)}: {esc(self.period.describe())}</h2>"
                if hasattr(self.period, "describe") else "")
        cols = {"metric": "Measure", "value": self.period.label, "prior": "Prior period",
                "target": "Target", "status": "Against target", "verdict": "Variation"}
        rows = self.scorecard_rows()
        defs = "".join(f"<li><strong>{esc(r.label)}</strong>: {esc(r.definition)}</li>"
                       for r in rows.itertuples())
        return HTML(head + self.tiles() + self.definitions().data
                    + table(rows, cols, raw=("status",),
                            caption=f"Scorecard; {self.definition()}")
                    + f'<ul class="stat-note">{defs}</ul>' + note)

    # -- charts ----------------------------------------------------------------------------

    def spc_chart(self, metric: str):
        from ..charts import spc_chart
        d, a = metric_def(metric), self.assessment(metric)
        subtitle = [self.definition(charted=True), *chart_subtitle(a, self.period.label)]
        return spc_chart(a.points, target=self.target(metric), title=d.label,
                         subtitle=subtitle, fmt=FMT.get(d.unit, ",.0f"))

    def heatmaps(self):
        from ..telephony_charts import heatmap
        from IPython.display import display
        cells = tel.by_hour_and_day(self.prep, self.period)
        if cells.empty:
            return HTML("<p>No intervals in this period.</p>")
        what = f"{self.period.label}; {self.definition()}"
        display(heatmap(cells, "offered", title="Calls offered by hour and day of week",
                        subtitle=f"{self.period.label}: total calls offered in each hour",
                        legend="Calls offered"))
        return heatmap(cells, "service_level", title="Service level by hour and day of week",
                       subtitle=what, fmt=".0%", legend="Service level", scheme="redyellowgreen")

    def worst_intervals(self):
        top = self.center.worst_intervals
        rows = tel.worst_intervals(self.prep, self.period, top)
        if rows.empty:
            return HTML("<p>No interval with 20 or more counted calls this period.</p>")
        shown = pd.DataFrame({
            "queue": rows["queue"],
            "start": rows["interval_start"].dt.strftime("%a %Y-%m-%d %H:%M"),
            "offered": rows["offered"].map("{:,}".format),
            "service_level": rows["service_level"].map(lambda v: format_value(v, "rate")),
            "abandonment": rows["abandonment_rate"].map(lambda v: format_value(v, "rate")),
            "wait": rows["average_speed_of_answer"].map(lambda v: format_value(v, "seconds"))})
        cols = {"queue": "Queue", "start": "Interval start", "offered": "Offered",
                "service_level": "Service level", "abandonment": "Abandoned",
                "wait": "Average wait"}
        return HTML(table(shown, cols, nowrap=("start",), caption=(
            f"The {len(shown)} intervals with the lowest service level ({self.period.label}, "
            f"intervals with 20 or more counted calls); {self.definition()}")))

    def staffing(self):
        from ..telephony_charts import staffing_chart
        hours = tel.staffing_by_hour(self.prep, self.period)
        if hours.empty or not hours["agent_hours_per_day"].fillna(0).any():
            return HTML("<p>No agent hours in the export: no staffing hint.</p>")
        ratio = hours["offered_per_agent_hour"]
        worst = hours.loc[ratio.idxmax()]
        best = hours.loc[ratio.idxmin()]
        text = (f"<p>Calls offered per agent hour were highest at {int(worst['hour']):02d}:00 "
                f"({worst['offered_per_agent_hour']:.1f}; service level "
                f"{format_value(worst['service_level'], 'rate')}) and lowest at "
                f"{int(best['hour']):02d}:00 ({best['offered_per_agent_hour']:.1f}): hours "
                f"where the ratio is high are where added staff would help most.</p>")
        from IPython.display import display
        display(HTML(text))
        return staffing_chart(hours, subtitle=f"{self.period.label}: mean per day open")

    def publish(self):
        """Headline figures and met / missed counts (the index page's columns) to the manifest."""
        states = [self.status(m) for m in tel.SCORECARD]
        publish_summary({**{k: v for k, v in self.summary.items()
                            if k in ("period", *tel.SCORECARD, "calls_offered")},
                         "met": states.count("met"), "near": 0,
                         "missed": states.count("missed")})
