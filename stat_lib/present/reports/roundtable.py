"""A roundtable packet: one to three departments briefed together (city.yaml ``roundtables:``).

The group shares one "since last session" section (each department's commitments, as in its own
packet), then each department's page one, computed exactly as in its own packet. Both need a
member's trend, summary and as-of only: they come from the period's figures
(:mod:`stat_lib.metrics.period_figures`, which the members' packets of the batch have already
cached) instead of loading and preparing every member's rows again (sanitation: 1.8M rows,
~5 CPU s). Where those figures would not give the same page (a trend cut short by the data's
start before the same period last year), or in a shipped job's private home, the member's
report is built from its rows as before.
"""

from __future__ import annotations

from functools import cached_property

from ...core.business_calendar import BusinessCalendar
from ...core.periods import Period
from ...metrics import scoring
from ...metrics.spc import spc_settings
from ...params import load_params
from ..audience import get_audience
from ..html import HTML, esc, use_branding
from ..summary import publish_summary
from .department import DepartmentReport


class RoundtableReport:
    """The packet of roundtable ``roundtable`` (its slug) for one period."""

    def __init__(self, home: str, roundtable: str, period: str, as_of: str | None = None):
        self.params = load_params(home)
        use_branding(self.params)
        self.group = next((r for r in self.params.city.roundtables if r.slug == roundtable),
                          None)
        if self.group is None:
            from ...core.errors import UsageError
            known = ", ".join(r.slug for r in self.params.city.roundtables) or "none"
            raise UsageError(f"unknown roundtable {roundtable!r}; known roundtables: {known} "
                             f"(city.yaml roundtables:)")
        self.home, self.period_text, self.as_of = home, period, as_of

    @cached_property
    def reports(self) -> dict[str, DepartmentReport]:
        return {slug: self._member(slug) for slug in self.group.departments}

    def _member(self, slug: str) -> DepartmentReport:
        """A member's report for page one and since last session: from the period's figures
        when they give the same page (see the module docstring), else from its rows."""
        from ...metrics.period_figures import PRIVATE_HOME, figures_folder, period_figures
        period = Period.parse(self.period_text, self.params.city.timezone)
        period = period.to_date(self.as_of) if self.as_of else period
        if not (figures_folder(self.params, period) / PRIVATE_HOME).exists():
            figures = period_figures(self.params, period, [slug]).departments[slug]
            if _same_card(figures.trend, period):
                return FiguresReport(self.params, slug, period, figures)
        return DepartmentReport(self.home, slug, self.period_text, self.as_of)

    def members(self):
        """Who is at the table."""
        names = [self.params.departments[s].name for s in self.group.departments]
        return HTML(f'<p class="stat-lede">{esc(self.group.name)}: {esc(", ".join(names))}.</p>')

    def since_last_session(self):
        """The group's commitments since the last session, department by department (each
        counted as in its own packet, :meth:`DepartmentReport.since_last_session`)."""
        return HTML("".join(f"<h3>{esc(r.department.name)}</h3>{r.since_last_session().data}"
                            for r in self.reports.values()))

    def page_one(self, slug: str):
        """One department's page one, under its name."""
        report = self.reports[slug]
        later = " stat-next" if slug != self.group.departments[0] else ""  # a new printed page
        return HTML(f'<div class="stat-roundtable-member{later}"><h3>'
                    f'{esc(report.department.name)}</h3>{report.page_one().data}</div>')

    def publish(self):
        publish_summary({"departments": list(self.group.departments)})


def _same_card(trend, period: Period) -> bool:
    """The figures' trend (from the period of the first request on) gives the scorecard of
    the full trend :class:`DepartmentReport` computes: the period, the prior one and the same
    period a year earlier are in it, and the three latest periods its trend column reads."""
    held = set(trend["period"])
    labels = {period.label, period.prior().label, period.year_ago().label}
    return labels <= held and len(held) >= 3


class FiguresReport(DepartmentReport):
    """A department's page one and "since last session" from its :class:`DepartmentFigures`
    of the period (no rows: the sections that need them are not for a roundtable)."""

    def __init__(self, params, slug: str, period: Period, figures):
        self.audience = get_audience("internal")
        self.params, self.period, self.figures = params, period, figures
        self.department = params.department(slug)
        self.calendar = BusinessCalendar.from_city(params.city)
        self.prep = None  # a section that reads rows fails loudly
        self.spc = spc_settings(params.city.spc, self.department)
        by_period = {p: dict(zip(g["metric"], g["value"]))
                     for p, g in figures.trend.groupby("period", sort=False)}
        card = scoring.scorecard(by_period[period.label], by_period.get(period.prior().label),
                                 by_period.get(period.year_ago().label), figures.trend,
                                 self.department)
        self.card = self._with_kpis(card)
        self.trend = None  # the figures' trend starts at the data: :attr:`spc_trend`

    @cached_property
    def permits_only(self) -> bool:
        return bool(self.department.permit_standards) and self.figures.empty

    @cached_property
    def summary(self) -> dict:
        return self.figures.summary

    @cached_property
    def spc_trend(self):
        return self.figures.trend  # already since the data's start, as the packet cuts it

    @cached_property
    def as_of_day(self):
        from ...metrics.commitments import as_of_day
        return as_of_day(self.figures.as_of, self.params.city.timezone, self.period.end)
