"""What the notebooks display: one object per packet, one method per section.

Notebooks stay short (a parameters cell, then one call per section), so a liaison reading
``department.ipynb`` in JupyterLab sees the same figures the packet shows. Every number comes
from :mod:`stat_lib.metrics` / :mod:`stat_lib.scoring`; this module only arranges and displays.
Every string from data is HTML-escaped here or by the chart and map modules.
"""

from __future__ import annotations

import html
from functools import cached_property

import pandas as pd

from . import metrics as m
from . import scoring
from .calendar import BusinessCalendar
from .config import load_params
from .metrics import format_value, metric_def
from .periods import Period

STATUS_BADGE = {"met": ("#2e7d32", "met"), "near": ("#f9a825", "near"),
                "missed": ("#c62828", "missed"), "n/a": ("#9e9e9e", "n/a")}
TREND_ARROW = {"improving": "▲ improving", "worsening": "▼ worsening", "steady": "► steady",
               "n/a": "n/a"}
HEADLINE = [("created", "Requests received"), ("closed", "Closed"),
            ("on_time_rate", "Closed on time"), ("median_days_to_close", "Median days to close"),
            ("backlog_open", "Open at period end"), ("overdue_open", "Overdue open")]


def HTML(text: str):
    from IPython.display import HTML as _HTML
    return _HTML(text)


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str) -> str:
    color, text = STATUS_BADGE.get(status, STATUS_BADGE["n/a"])
    return f'<span class="stat-badge" style="background:{color}">{esc(text)}</span>'


def table(rows: pd.DataFrame, columns: dict[str, str], *, raw: tuple = (),
          caption: str = "") -> str:
    """An HTML table of ``rows``; cells are escaped unless their column is in ``raw``."""
    head = "".join(f"<th>{esc(label)}</th>" for label in columns.values())
    body = []
    for _, row in rows.iterrows():
        cells = "".join(f"<td>{row[c] if c in raw else esc(row[c])}</td>" for c in columns)
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="stat-table">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _change_text(value, before, unit: str) -> str:
    if value is None or before is None or pd.isna(value) or pd.isna(before):
        return "n/a"
    if unit == "rate":
        text = f"{(value - before) * 100:+.1f} pts"
        return "0.0 pts" if text in ("+0.0 pts", "-0.0 pts") else text
    if before == 0:
        return "n/a"
    text = f"{value / before - 1:+.0%}"
    return "0%" if text in ("+0%", "-0%") else text


class DepartmentReport:
    """Everything one department's packet shows for one period.

    Parameters
    ----------
    home : str
        The folder holding params/, data/ and outputs/.
    department : str
        Department slug.
    period : str
        ``2026-10``, ``2026-W42`` or ``2026-Q3``.
    as_of : str, optional
        ISO timestamp: a period to date (nightly month-to-date runs).
    """

    def __init__(self, home: str, department: str, period: str, as_of: str | None = None):
        from .store import load_requests
        self.params = load_params(home)
        _use_branding(self.params)
        self.department = self.params.department(department)
        tz = self.params.city.timezone
        self.period = Period.parse(period, tz)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.calendar = BusinessCalendar.from_city(self.params.city)
        requests = load_requests(self.params, [department], end=self.period.end)
        self.prep = m.prepare(requests, self.department, self.calendar, as_of)
        self.card, self.trend = scoring.department_scorecard(
            self.prep, self.department, self.period, self.calendar)

    # --- cover and headline ------------------------------------------------------------------

    @cached_property
    def summary(self) -> dict:
        return m.department_summary(self.prep, self.department, self.period, self.calendar)

    def headline(self):
        """Six headline figures with their change vs the prior period and a year earlier."""
        card = self.card.set_index("metric")
        tiles = []
        for metric, label in HEADLINE:
            unit = metric_def(metric).unit
            value = self.summary.get(metric)
            prior = card["prior"].get(metric) if metric in card.index else None
            year = card["year_ago"].get(metric) if metric in card.index else None
            tiles.append(
                f'<div class="stat-tile"><div class="stat-tile-label">{esc(label)}</div>'
                f'<div class="stat-tile-value" data-metric="{metric}">'
                f'{esc(format_value(value, unit))}</div>'
                f'<div class="stat-tile-change">vs prior {esc(_change_text(value, prior, unit))}'
                f' · vs last year {esc(_change_text(value, year, unit))}</div></div>')
        return HTML(f'<div class="stat-tiles">{"".join(tiles)}</div>')

    # --- scorecard ------------------------------------------------------------------------------

    def scorecard(self):
        """Metric, this period, prior, same period last year, target, status, trend."""
        rows = self.card.assign(
            now=self.card["display"],
            prior_text=[format_value(v, u) for v, u in zip(self.card["prior"], self.card["unit"])],
            year_text=[format_value(v, u) for v, u in zip(self.card["year_ago"],
                                                          self.card["unit"])],
            target_text=[format_value(v, u) if v is not None and not pd.isna(v) else "—"
                         for v, u in zip(self.card["target"], self.card["unit"])],
            status_html=[badge(s) for s in self.card["status"]],
            trend_text=[TREND_ARROW.get(t, t) for t in self.card["trend"]])
        counts = self.card["status"].value_counts()
        line = " · ".join(f"{counts.get(s, 0)} {s}" for s in ("met", "near", "missed"))
        return HTML(f'<p class="stat-lede">Targets: {esc(line)}.</p>' + table(rows, {
            "label": "Measure", "now": str(self.period.label), "prior_text": "Prior period",
            "year_text": "Same period last year", "target_text": "Target",
            "status_html": "Status", "trend_text": "Trend (3 periods)"},
            raw=("status_html",)))

    def what_moved(self, top: int = 5):
        """This department's changes larger than normal variation, ranked."""
        moved = scoring.what_moved(self.trend, {self.department.slug: self.department})
        flagged = moved[moved["flagged"]].head(top)
        if flagged.empty:
            return HTML('<p>No measure moved outside its normal range of the last twelve '
                        'periods.</p>')
        rows = flagged.assign(
            now=[format_value(v, metric_def(k).unit) for v, k in zip(flagged["value"],
                                                                    flagged["metric"])],
            normal=[f"{format_value(lo, metric_def(k).unit)} – {format_value(hi, metric_def(k).unit)}"
                    for lo, hi, k in zip(flagged["low"], flagged["high"], flagged["metric"])])
        return HTML(table(rows, {"label": "Measure", "now": "This period",
                                 "normal": "Normal range (12 periods)", "moved": "Moved",
                                 "assessment": "Assessment"}))

    # --- service standards -----------------------------------------------------------------------

    @cached_property
    def by_service(self) -> pd.DataFrame:
        return m.on_time_by_service(self.prep, self.department, self.period, self.calendar)

    def on_time_by_service(self):
        from .charts import ontime_by_service
        target = scoring.target_for(self.department, "on_time_rate")
        data = self.by_service[self.by_service["on_time_rate"].notna()].copy()
        data["on_time_rate"] = data["on_time_rate"].astype(float)
        chart = ontime_by_service(data, target=target.target if target else None) \
            if len(data) else None
        rows = self.by_service.assign(
            rate=[format_value(v, "rate") for v in self.by_service["on_time_rate"]],
            median=[format_value(v, "days") for v in self.by_service["median_days_to_close"]])
        tbl = HTML(table(rows, {"service_name": "Service", "sla": "SLA", "closed": "Closed",
                                "rate": "On time", "median": "Median to close",
                                "backlog_open": "Open", "overdue_open": "Overdue"}))
        return [x for x in (chart, tbl) if x is not None]

    def time_to_close(self):
        from .charts import time_to_close_chart
        dist = m.time_to_close_distribution(self.prep, self.department, self.period,
                                            self.calendar)
        if dist.empty:
            return [HTML("<p>No requests were closed in this period.</p>")]
        s = self.summary
        text = (f"<p>Median {esc(format_value(s['median_days_to_close'], 'days'))}, "
                f"90th percentile {esc(format_value(s['p90_days_to_close'], 'days'))}, "
                f"mean {esc(format_value(s['mean_days_to_close'], 'days'))} "
                f"(median {esc(format_value(s['median_business_days_to_close'], 'business_days'))})."
                f"</p>")
        return [time_to_close_chart(dist["days_to_close"].to_numpy(dtype=float)), HTML(text)]

    # --- backlog -----------------------------------------------------------------------------------

    def backlog(self):
        from .charts import aging_chart
        ages = self.aging_table()
        s = self.summary
        lede = (f"<p>{s['backlog_open']:,} open at period end ({s['backlog_start']:,} at its "
                f"start); {s['overdue_open']:,} overdue "
                f"({esc(format_value(s['overdue_share'], 'rate'))} of the backlog).</p>")
        sla = ages[ages["scheme"] == "sla"].assign(
            share_text=lambda d: [format_value(v, "rate") for v in d["share"]])
        open_now = self.open_requests()
        age_days = (self.period.end - open_now["requested_at"]).dt.total_seconds() / 86400
        return [HTML(lede), aging_chart(age_days.to_numpy(dtype=float)),
                HTML(table(sla, {"bucket": "Age against SLA", "requests": "Open requests",
                                 "share_text": "Share"}))]

    def aging_table(self) -> pd.DataFrame:
        return m.aging(self.prep, self.department, self.period, self.calendar)

    def open_requests(self) -> pd.DataFrame:
        df = self.prep.frame
        return df[m.open_at(df, self.period.end)]

    def oldest_overdue(self, n: int = 10):
        over = self.overdue_requests()
        if over.empty:
            return HTML("<p>No open request is overdue at period end.</p>")
        rows = over.head(n).assign(days=lambda d: d["days_overdue"].map("{:,.0f}".format),
                                   opened=lambda d: d["requested_at"].dt.strftime("%Y-%m-%d"))
        return HTML(table(rows, {"request_id": "Request", "service_name": "Service",
                                 "address": "Address", "opened": "Opened",
                                 "days": "Days overdue"}, caption="Most overdue open requests"))

    def overdue_requests(self) -> pd.DataFrame:
        df = self.open_requests()
        df = df[(df["_due"] < self.period.end).fillna(False)].copy()
        df["days_overdue"] = (self.period.end - df["_due"]).dt.total_seconds() / 86400
        return df.sort_values("days_overdue", ascending=False)

    # --- trends ------------------------------------------------------------------------------------

    def trends(self, metrics=("created", "on_time_rate", "backlog_open", "median_days_to_close")):
        from .charts import trend_chart
        charts = []
        for metric in metrics:
            d = metric_def(metric)
            series = self.trend[self.trend["metric"] == metric]
            target = scoring.target_for(self.department, metric)
            fmt = ".0%" if d.unit == "rate" else (",.1f" if d.unit == "days" else ",.0f")
            charts.append(trend_chart(series, target=target.target if target else None,
                                      title=d.label, fmt=fmt))
        return charts

    # --- maps --------------------------------------------------------------------------------------

    def by_district(self, layer: str) -> pd.DataFrame:
        """Headline figures per district of ``layer``, computed by stat_lib.metrics."""
        return by_district(self.prep, self.period, layer)

    def maps(self):
        """On-time and volume choropleths per boundary layer, density, overdue clusters."""
        from .maps import choropleth, density_map, overdue_map
        from .store import load_districts
        basemap = self.params.city.basemap
        out = []
        for b in self.params.city.boundaries:
            districts = load_districts(self.params, b.layer)
            values = self.by_district(b.layer)
            rates = values.assign(value=values["on_time_rate"].astype(float))
            out.append(choropleth(districts, rates, value="value", count="count",
                                  title=f"Closed on time by {b.name.lower()}",
                                  value_title="On time", basemap=basemap))
            out.append(choropleth(districts, values.assign(value=values["created"]),
                                  value="value", title=f"Requests received by {b.name.lower()}",
                                  fmt=",.0f", value_title="Requests", higher_is_better=None,
                                  basemap=basemap))
        df = self.prep.frame
        created = df[m.created_in(df, self.period.start, self.period.end)]
        if created[["lat", "lon"]].notna().all(axis=1).any():
            out.append(density_map(created, title="Where this period's requests came from",
                                   basemap=basemap))
        over = self.overdue_requests()
        if not over.empty:
            first = self.params.city.boundaries[0] if self.params.city.boundaries else None
            out.append(overdue_map(over, basemap=basemap, districts=load_districts(
                self.params, first.layer) if first else None))
        return out

    # --- standards and quality -----------------------------------------------------------------

    def standards(self):
        if not self.department.standards:
            return HTML("<p>No customer service standard is configured for this department "
                        "(params/departments/&lt;slug&gt;.yaml, <code>standards:</code>).</p>")
        rep = m.standards_report(self.prep, self.department, self.period, self.calendar)
        rows = rep.assign(
            compliance=[format_value(v, "rate") for v in rep["standard_compliance"]],
            owed=[format_value(v, "count") for v in rep["redress_count"]],
            dollars=[format_value(v, "dollars") for v in rep["redress_dollars"]])
        cols = {"promise": "Promise", "closed": "Closed", "compliance": "Met",
                "owed": "Redress owed (requests)", "dollars": "Redress owed ($)"}
        return HTML(table(rows, {k: v for k, v in cols.items() if k in rows.columns}))

    def data_quality(self):
        from .store import quality_note
        return HTML(f'<p class="stat-quality">{esc(quality_note(self.params, self.department.slug))}'
                    f'</p>')

    # --- for the batch -------------------------------------------------------------------------

    def publish(self):
        """Record status counts and headline figures in the manifest (via the notebook)."""
        from .manifest import publish_summary
        counts = self.card["status"].value_counts()
        figures = {k: (None if v is None or pd.isna(v) else float(v))
                   for k, v in self.summary.items() if k in dict(HEADLINE)}
        publish_summary({"met": int(counts.get("met", 0)), "near": int(counts.get("near", 0)),
                         "missed": int(counts.get("missed", 0)),
                         "cityscore": self.cityscore(), "figures": figures})

    def cityscore(self) -> float | None:
        from .figures import cityscore_figures
        figs = cityscore_figures(self.params, self.period, [self.department.slug],
                                 requests=self.prep.frame,
                                 prepared={self.department.slug: self.prep})
        tables = scoring.cityscore(self.params, figs)
        dept = tables["departments"]
        month = dept[dept["period"] == self.period.label]
        return None if month.empty or pd.isna(month["score"].iloc[0]) else \
            round(float(month["score"].iloc[0]), 3)


class CitywideReport:
    """The citywide packet: every department's headline, CityScore, what moved, a city map."""

    def __init__(self, home: str, period: str, as_of: str | None = None):
        from .figures import cityscore_figures
        from .store import load_requests
        self.params = load_params(home)
        _use_branding(self.params)
        self.period = Period.parse(period, self.params.city.timezone)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.calendar = BusinessCalendar.from_city(self.params.city)
        # each department loaded (by SQL) and prepared once: the figures (3 windows), trends
        # and maps reuse it
        self.prepared = {slug: m.prepare(load_requests(self.params, [slug], end=self.period.end),
                                         d, self.calendar)
                         for slug, d in self.params.departments.items()}
        self.figures = cityscore_figures(self.params, self.period, as_of=as_of,
                                         prepared=self.prepared)
        self.scores = scoring.cityscore(self.params, self.figures)
        self.names = {slug: d.name for slug, d in self.params.departments.items()}
        self.windows = {p.label: self._window_title(name, p)
                        for name, p in self.period.windows().items()}

    @staticmethod
    def _window_title(name: str, period: Period) -> str:
        return {"month": period.describe(), "quarter": f"Q{period.number} to date",
                "year": f"{period.year} to date"}[name]

    def headline_table(self):
        month = self.figures[self.figures["window"] == "month"]
        wide = month.pivot_table(index=["department", "department_name"], columns="metric",
                                 values="display", aggfunc="first").reset_index()
        cols = {"department_name": "Department"}
        cols.update({k: label for k, label in HEADLINE if k in wide.columns})
        return HTML(table(wide, cols))

    def cityscore(self):
        from .charts import cityscore_chart
        parts = []
        city = self.scores["city"]
        if not city.empty:
            cells = " · ".join(f"{esc(self.windows.get(r.period, r.period))}: "
                               f"<strong>{_score(r.score)}</strong>" for r in city.itertuples())
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
            tbl = tbl.assign(text=[_score(v) for v in tbl["score"]])
            if key == "department":
                tbl[key] = tbl[key].map(self.names)
            wide = tbl.pivot_table(index=key, columns="period", values="text",
                                   aggfunc="first").reset_index()
            order = [p for p in self.windows if p in wide.columns]
            parts.append(HTML(table(wide, {key: label, **{p: self.windows[p] for p in order}})))
        return parts

    def what_moved(self, top: int = 10):
        frames = [m.trend(prep, self.params.departments[slug], self.period, self.calendar)
                  for slug, prep in self.prepared.items()]
        moved = scoring.what_moved(pd.concat(frames, ignore_index=True),
                                   self.params.departments)
        flagged = moved[moved["flagged"]].head(top)
        if flagged.empty:
            return HTML("<p>No measure moved outside its normal range of the last twelve "
                        "periods.</p>")
        rows = flagged.assign(
            rank_text=flagged["rank"].astype(int).astype(str),
            name=flagged["department"].map(self.names),
            now=[format_value(v, metric_def(k).unit) for v, k in zip(flagged["value"],
                                                                    flagged["metric"])],
            normal=[f"{format_value(lo, metric_def(k).unit)} – "
                    f"{format_value(hi, metric_def(k).unit)}"
                    for lo, hi, k in zip(flagged["low"], flagged["high"], flagged["metric"])])
        return HTML(table(rows, {"rank_text": "#", "name": "Department", "label": "Measure",
                                 "now": "This period", "normal": "Normal range (12 periods)",
                                 "moved": "Moved", "assessment": "Assessment"}))

    def by_district(self, layer: str) -> pd.DataFrame:
        """City-wide figures per district: departments' numerators and denominators summed."""
        parts = [by_district(prep, self.period, layer) for prep in self.prepared.values()]
        total = pd.concat(parts).groupby("key", as_index=False).sum(numeric_only=True)
        total["value"] = (total["on_time_met"] / total["count"]).where(total["count"] > 0)
        return total

    def maps(self):
        from .maps import choropleth
        from .store import load_districts
        if not self.params.city.boundaries:
            return [HTML("<p>No boundary layer is configured (city.yaml "
                         "<code>boundaries:</code>).</p>")]
        b = self.params.city.boundaries[0]
        values = self.by_district(b.layer)
        return [choropleth(load_districts(self.params, b.layer), values, value="value",
                           count="count", title=f"Closed on time, all departments, by "
                                                f"{b.name.lower()}", value_title="On time",
                           basemap=self.params.city.basemap)]

    def publish(self):
        from .manifest import publish_summary
        city = self.scores["city"]
        month = city[city["period"] == self.period.label]
        score = None if month.empty or pd.isna(month["score"].iloc[0]) else \
            round(float(month["score"].iloc[0]), 3)
        counts = self.figures.loc[self.figures["window"] == "month", "status"].value_counts()
        publish_summary({"met": int(counts.get("met", 0)), "near": int(counts.get("near", 0)),
                         "missed": int(counts.get("missed", 0)), "cityscore": score})


def by_district(prep, period: Period, layer: str) -> pd.DataFrame:
    """Headline figures per district of ``layer`` for one prepared department.

    One vectorized pass (:func:`stat_lib.metrics.counts_by`), equal to
    ``department_summary`` of each district's rows.
    """
    keys, c = m.counts_by(prep, period, f"district_{layer}")
    rows = [{"key": key, "created": c["created"][i], "closed": c["closed"][i],
             "on_time_met": c["on_time_met"][i], "count": c["on_time_eligible"][i],
             "on_time_rate": _rate(c["on_time_met"][i], c["on_time_eligible"][i]),
             "backlog_open": c["backlog_open"][i], "overdue_open": c["overdue_open"][i]}
            for i, key in enumerate(keys)]
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


DISTRICT_COLUMNS = ["key", "created", "closed", "on_time_met", "count", "on_time_rate",
                    "backlog_open", "overdue_open"]


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _use_branding(params) -> None:
    from .charts import use_branding
    use_branding(params.city.branding)


def _score(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.2f}"
