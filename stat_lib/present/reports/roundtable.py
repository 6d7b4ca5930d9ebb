"""A roundtable packet: one to three departments briefed together (city.yaml ``roundtables:``).

The group shares one "since last session" section (each department's commitments, as in its own
packet), then each department's page one, computed exactly as in its own packet.
"""

from __future__ import annotations

from functools import cached_property

from ...params import load_params
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
        return {slug: DepartmentReport(self.home, slug, self.period_text, self.as_of)
                for slug in self.group.departments}

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
