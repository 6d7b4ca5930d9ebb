"""The citywide packet: every department's headline, CityScore, what moved, a city map.

Department figures are computed the same way as in the department packets (it reads no other
notebook), once per period for every reader (:mod:`stat_lib.metrics.period_figures`): this
packet holds each department's figures, never all their rows.
"""

from __future__ import annotations

import pandas as pd

from ... import metrics as m
from ...core.business_calendar import BusinessCalendar
from ...core.periods import Period
from ...metrics import scoring
from ...metrics.moved import what_moved
from ...metrics.period_figures import period_figures
from ...metrics.tidy import with_kpis
from ...params import load_params
from ...store import load_districts
from ..html import HTML, esc, score_text, table, use_branding
from ..spc_text import NOT_JUDGED_NOTE, method_lede, moved_table
from ..summary import publish_summary
from ..audience import get_audience
from .department import HEADLINE


class CitywideReport:
    """The citywide packet: every department's headline, CityScore, what moved, a city map."""

    def __init__(self, home: str, period: str, as_of: str | None = None,
                 audience: str = "internal"):
        self.audience = get_audience(audience)
        self.params = load_params(home)
        use_branding(self.params)
        self.period = Period.parse(period, self.params.city.timezone)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.calendar = BusinessCalendar.from_city(self.params.city)
        # each department's figures of the period (3 windows, trend, districts), not its rows
        self.period_figures = period_figures(self.params, self.period)
        self.figures = self._cityscore_figures()
        self.scores = scoring.cityscore(self.params, self.figures)
        self.names = {slug: d.name for slug, d in self.params.departments.items()}
        self.windows = {p.label: self._window_title(name, p)
                        for name, p in self.period.windows().items()}

    def _cityscore_figures(self) -> pd.DataFrame:
        """Tidy figures of the CityScore windows, every department (the month with KPIs)."""
        pf, slugs = self.period_figures, list(self.params.departments)
        month = with_kpis(self.params, self.period, slugs,
                          pf.window_rows("month").drop(columns="window")).assign(window="month")
        return pd.concat([month, pf.window_rows("quarter"), pf.window_rows("year")],
                         ignore_index=True)

    @staticmethod
    def _window_title(name: str, period: Period) -> str:
        return {"month": period.describe(), "quarter": f"Q{period.number} to date",
                "year": f"{period.year} to date"}[name]

    def submissions(self):
        """Which departments submitted their KPIs for the period: on time, late, awaited."""
        from ..kpi_section import submissions_table
        return submissions_table(self.params, self.period.without_cut())

    def follow_up(self):
        """Follow-up rate by department (done by due date / due) and overdue commitments, as
        of the data's as-of day."""
        from ...metrics.commitments import as_of_day
        from ..sessions_section import follow_up
        newest = max((f.as_of for f in self.period_figures.departments.values()
                      if not pd.isna(f.as_of)), default=None)
        day = as_of_day(newest, self.params.city.timezone, self.period.end)
        return HTML(follow_up(self.params, day, self.names, columns=self.audience.columns))

    def headline_table(self):
        month = self.figures[self.figures["window"] == "month"]
        month = month[~month["department"].isin(self.permits_only)]  # shown in permits()
        wide = month.pivot_table(index=["department", "department_name"], columns="metric",
                                 values="display", aggfunc="first").reset_index()
        cols = {"department_name": "Department"}
        cols.update({k: label for k, label in HEADLINE if k in wide.columns})
        return HTML(table(wide, cols))

    @property
    def permits_only(self) -> list[str]:
        """Departments with permit standards and no 311 request: their row is in permits()."""
        return [slug for slug, f in self.period_figures.departments.items()
                if self.params.departments[slug].permit_standards and f.empty]

    def permits(self) -> list:
        """Permits and redress across departments (heading included); [] without permits."""
        from .permits import citywide_permits
        return citywide_permits(self.params, self.period, self.calendar)

    def cityscore(self):
        from ..charts import cityscore_chart
        parts = []
        city = self.scores["city"]
        if not city.empty:
            cells = " · ".join(f"{esc(self.windows.get(r.period, r.period))}: "
                               f"<strong>{score_text(r.score)}</strong>" for r in city.itertuples())
            parts.append(HTML(f'<p class="stat-lede">CityScore — {cells}. 1.00 means on target; '
                              f'each measure counts at most '
                              f'{self.params.results.cityscore_cap:.2f}.</p>'))
        month = self.scores["departments"]
        month = month[month["period"] == self.period.label]
        if not month.empty:
            data = month.assign(name=month["department"].map(self.names))[["name", "score"]]
            parts.append(cityscore_chart(data.dropna(subset=["score"])))
        for name, label in (("departments", "Department"), ("results", "Strategic result")):
            tbl = self.scores[name]
            if tbl.empty:
                continue
            key = "department" if name == "departments" else "name"
            tbl = tbl.assign(text=[score_text(v) for v in tbl["score"]])
            if key == "department":
                tbl[key] = tbl[key].map(self.names)
            wide = tbl.pivot_table(index=key, columns="period", values="text",
                                   aggfunc="first").reset_index()
            order = [p for p in self.windows if p in wide.columns]
            parts.append(HTML(table(wide, {key: label, **{p: self.windows[p] for p in order}})))
        return parts

    def what_moved(self, top: int = 10):
        """Every department's measures on process behaviour charts; signals ranked."""
        moved, partial = self.moved()
        flagged = moved[moved["flagged"]].head(top)
        parts = [method_lede(self.params.city.spc, self.period.label, partial)]
        if flagged.empty:
            parts.append(NOT_JUDGED_NOTE if partial else
                         "<p>No measure of any department shows a signal this period.</p>")
        else:
            parts.append(moved_table(flagged, self.names))
        return HTML("".join(parts))

    def moved(self):
        """(:func:`stat_lib.metrics.moved.what_moved` of every department, partial?)."""
        frames = [f.trend for f in self.period_figures.departments.values()]
        partial = self.period_figures.partial
        return what_moved(pd.concat(frames, ignore_index=True), self.params.departments,
                          spc=self.params.city.spc, partial=partial), partial

    def by_district(self, layer: str) -> pd.DataFrame:
        """City-wide figures per district: departments' numerators and denominators summed."""
        return m.combine_districts([f.districts[layer]
                                    for f in self.period_figures.departments.values()])

    def maps(self):
        from ..maps import choropleth, outline_labels
        if not self.params.city.boundaries:
            return [HTML("<p>No district boundaries are set up for this city, so there is no "
                         "map.</p>")]
        if self.audience.public:
            from ..public_maps import district_maps
            return district_maps(self.params, self.period,
                                 figures=self.period_figures, name="all departments")
        b = self.params.city.boundaries[0]
        values = self.by_district(b.layer)
        districts = load_districts(self.params, b.layer)
        return [choropleth(districts, values, value="value",
                           count="count", title=f"Closed on time, all departments, by "
                                                f"{b.name.lower()}", value_title="On time",
                           basemap=self.params.city.basemap,
                           numbers=outline_labels(districts))]  # district names printed

    def publish(self):
        city = self.scores["city"]
        month = city[city["period"] == self.period.label]
        score = None if month.empty or pd.isna(month["score"].iloc[0]) else \
            round(float(month["score"].iloc[0]), 3)
        counts = self.figures.loc[self.figures["window"] == "month", "status"].value_counts()
        publish_summary({"met": int(counts.get("met", 0)), "near": int(counts.get("near", 0)),
                         "missed": int(counts.get("missed", 0)), "cityscore": score})
