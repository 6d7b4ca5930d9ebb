"""The department packet: one method per section, every number from :mod:`stat_lib.metrics`.

Notebooks stay short (a parameters cell, then one call per section), so a liaison reading
``department.ipynb`` in JupyterLab sees the same figures the packet shows. This module only
arranges and displays; every string from data is HTML-escaped here or by the chart and map
modules.
"""

from __future__ import annotations

import functools
import logging
from functools import cached_property

import pandas as pd

from ... import metrics as m
from ...core.business_calendar import BusinessCalendar
from ...core.periods import Period
from ...metrics import scoring
from ...metrics.moved import assess_trend, period_is_partial, since_data_start, what_moved
from ...metrics.registry import format_value, metric_def, tiles
from ...metrics.spc import periods_needed, spc_settings
from ...metrics.tidy import cityscore_figures
from ...params import load_params
from ...store import load_districts, load_requests, quality_counts
from ..html import HTML, badge, change_text, esc, table, trend_text, use_branding
from ..spc_text import NOT_JUDGED_NOTE, chart_subtitle, method_lede, moved_table, unlisted_note
from ..summary import publish_summary
from ..audience import get_audience

log = logging.getLogger("stat_lib.report")
HEADLINE = tiles()  # (metric id, tile wording) from the metric registry
NO_REQUESTS = ("<p>No 311 requests for this department: its figures are its permits (see "
               "the permits section).</p>")


def requests_section(as_list: bool, note: bool = True):
    """A 311 section: one line instead (``note=False``: nothing) for a department whose data
    is permits only."""
    def wrap(method):
        @functools.wraps(method)
        def section(self, *args, **kwargs):
            if self.permits_only:
                text = NO_REQUESTS if note else ""
                return [HTML(text)] if as_list else HTML(text)
            return method(self, *args, **kwargs)
        return section
    return wrap


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
    audience : str
        ``"internal"`` (default) or ``"public"`` (:mod:`stat_lib.present.audience`).
    """

    def __init__(self, home: str, department: str, period: str, as_of: str | None = None,
                 audience: str = "internal"):
        self.audience = get_audience(audience)
        self.params = load_params(home)
        use_branding(self.params)
        self.department = self.params.department(department)
        tz = self.params.city.timezone
        self.period = Period.parse(period, tz)
        if as_of:
            self.period = self.period.to_date(as_of)
        self.calendar = BusinessCalendar.from_city(self.params.city)
        requests = load_requests(self.params, [department], end=self.period.end)
        self.prep = m.prepare(requests, self.department, self.calendar, as_of)
        self.spc = spc_settings(self.params.city.spc, self.department)
        n = max(13, periods_needed(self.spc, self.period.kind))  # the SPC baseline's reach
        self.card, self.trend = scoring.department_scorecard(
            self.prep, self.department, self.period, self.calendar, n=n)
        self.card = self._with_kpis(self.card)

    @cached_property
    def permits_only(self) -> bool:
        """Permit standards and no 311 request at all: the packet shows its permits."""
        return bool(self.department.permit_standards) and self.prep.frame.empty

    @cached_property
    def permits_section(self):
        from .permits import PermitsSection
        return PermitsSection(self.params, self.department, self.period, self.calendar)

    # --- cover and headline -------------------------------------------------------------------

    @cached_property
    def summary(self) -> dict:
        return m.department_summary(self.prep, self.department, self.period, self.calendar)

    def headline(self):
        """Six headline figures with their change vs the prior period and a year earlier."""
        if self.permits_only:
            return self.permits_section.tiles()
        card = self.card.set_index("metric")
        tiles = []
        for metric, _tile in HEADLINE:
            unit, label = metric_def(metric).unit, metric_def(metric).label  # one name each
            value = self.summary.get(metric)
            prior = card["prior"].get(metric) if metric in card.index else None
            year = card["year_ago"].get(metric) if metric in card.index else None
            tiles.append(
                f'<div class="stat-tile"><div class="stat-tile-label">{esc(label)}</div>'
                f'<div class="stat-tile-value" data-metric="{metric}">'
                f'{esc(format_value(value, unit))}</div>'
                f'<div class="stat-tile-change">vs prior {esc(change_text(value, prior, unit))}'
                f' · vs last year {esc(change_text(value, year, unit))}</div></div>')
        return HTML(f'<div class="stat-tiles">{"".join(tiles)}</div>')

    # --- page one: what needs a decision -----------------------------------------------------

    @cached_property
    def signals(self) -> dict:
        """:func:`stat_lib.metrics.page_one.page_one`: attention, going well, questions (the
        311 measures' and the submitted KPIs' "what moved" rows)."""
        from ...metrics.kpis import kpi_trend, kpi_what_moved, kpis_of, submission_status
        from ...metrics.page_one import PageOneInputs, page_one
        moved, subs = self.moved, None
        if kpis_of(self.department, self.period) and not self.period.is_to_date:
            subs = submission_status(self.params, self.period)
            trend = kpi_trend(self.params, self.department, self.period,
                              n=max(13, periods_needed(self.spc, self.period.kind)))
            kpi_moved = kpi_what_moved(self.department, trend, self.period,
                                       spc=self.params.city.spc)
            moved = pd.concat([moved, kpi_moved], ignore_index=True) if len(kpi_moved) \
                else moved
        survey_moved = self.satisfaction_section.moved()  # judged by its own method
        if len(survey_moved) and not self.period.is_to_date:
            moved = pd.concat([moved, survey_moved], ignore_index=True)
        return page_one(PageOneInputs(self.params, self.department, self.period, self.card,
                                      moved, subs, as_of_day=self.as_of_day,
                                      personal=self.audience.personal_data))

    def status_tiles(self) -> str:
        """The headline tiles, each with its target status as colour and word."""
        from ..page_one import status_tile
        card = self.card.set_index("metric")
        out = []
        for metric, label in HEADLINE:
            unit = metric_def(metric).unit
            value = self.summary.get(metric)
            got = metric in card.index
            prior, year = (card[c].get(metric) if got else None for c in ("prior", "year_ago"))
            change = (f"vs prior {change_text(value, prior, unit)} · vs last year "
                      f"{change_text(value, year, unit)}")
            out.append(status_tile(label, format_value(value, unit), change, metric,
                                   card["status"].get(metric, "n/a") if got else "n/a"))
        return f'<div class="stat-tiles">{"".join(out)}</div>'

    @cached_property
    def fiscal(self) -> Period:
        """The fiscal year to date at this period's end (``FY2027-to-date``)."""
        return self.period.fiscal_to_date(self.params.city.fiscal_year_start_month)

    @cached_property
    def fiscal_summary(self) -> dict:
        """:func:`stat_lib.metrics.department_summary` over the fiscal year to date."""
        return m.department_summary(self.prep, self.department, self.fiscal, self.calendar)

    def page_one(self):
        """Page one: the worst item first, tiles with status, needs attention, going well,
        questions for the session and the analyst's notes (sessions/<period>/<slug>.md)."""
        from ..page_one import notes_html, page_one_html
        notes = notes_html(self.params.home, self.period.label, self.department.slug)
        return HTML(page_one_html(self.signals, self.status_tiles(), notes))

    # --- since last session (sessions and commitments) ---------------------------------------

    @cached_property
    def as_of_day(self):
        """The data's as-of day: the period's last day, or the newest record's day when the
        data ends sooner (days overdue count to it, so a rebuilt packet says the same)."""
        from ...metrics.commitments import as_of_day
        return as_of_day(self.prep.as_of, self.params.city.timezone, self.period.end)

    def overdue_commitments(self) -> pd.DataFrame:
        """This department's commitments overdue at :attr:`as_of_day`, most overdue first."""
        from ...metrics import commitments as c
        return c.overdue(*c.load(self.params), self.as_of_day, self.department.slug)

    def delivered_commitments(self) -> pd.DataFrame:
        """This department's commitments done since its last session (up to the as-of day)."""
        from ...metrics import commitments as c
        return c.delivered_since(*c.load(self.params), self.department.slug, self.as_of_day)

    def since_last_session(self):
        """Commitments due since the last session: done, overdue (days), dropped; for each
        tied to a metric, whether it moved as promised."""
        from ..sessions_section import since_last_session
        return HTML(since_last_session(self.params, self.department.slug, self.as_of_day,
                                       self.assessment, columns=self.audience.columns))

    # --- scorecard ----------------------------------------------------------------------------

    def scorecard(self):
        """Metric, this period, prior, same period last year, target, status, trend."""
        if self.permits_only:
            return self.permits_section.scorecard()
        rows = self.card.assign(
            now=self.card["display"],
            prior_text=[format_value(v, u) for v, u in zip(self.card["prior"], self.card["unit"])],
            year_text=[format_value(v, u) for v, u in zip(self.card["year_ago"],
                                                          self.card["unit"])],
            target_text=[format_value(v, u) if v is not None and not pd.isna(v) else "—"
                         for v, u in zip(self.card["target"], self.card["unit"])],
            status_html=[badge(s) for s in self.card["status"]],
            fiscal_text=[format_value(self.fiscal_summary.get(k), u) for k, u in
                         zip(self.card["metric"], self.card["unit"])],
            trend_text=[trend_text(t, d) for t, d in zip(self.card["trend"],
                                                         self.card["direction"])])
        counts = self.card["status"].value_counts()
        line = " · ".join(f"{counts.get(s, 0)} {s}" for s in ("met", "near", "missed"))
        return HTML(f'<p class="stat-lede">Targets: {esc(line)}.</p>' + table(rows, {
            "label": "Measure", "now": str(self.period.label), "prior_text": "Prior period",
            "year_text": "Same period last year", "fiscal_text": self.fiscal.label,
            "target_text": "Target",
            "status_html": "Status", "trend_text": "Trend (3 periods)"},
            raw=("status_html",)))

    # --- what moved: statistical process control ----------------------------------------------

    @cached_property
    def partial(self) -> bool:
        """The period is not complete: a period to date, or the data ends before it does."""
        return period_is_partial(self.params, self.period)

    @cached_property
    def spc_trend(self) -> pd.DataFrame:
        first = self.prep.frame["requested_at"].min() if len(self.prep.frame) else None
        return since_data_start(self.trend, first, self.params.city.timezone)

    @cached_property
    def moved(self) -> pd.DataFrame:
        """:func:`stat_lib.metrics.moved.what_moved` of this department (all rows, ranked)."""
        if self.permits_only:  # its measures are its permits
            return self.permits_section.moved(self.params.city.spc, self.partial)
        return what_moved(self.spc_trend, {self.department.slug: self.department},
                          spc=self.params.city.spc, partial=self.partial)

    def assessment(self, metric: str):
        """One metric's variation and assurance verdicts (page one, "moved as promised")."""
        return assess_trend(self.spc_trend, self.department, metric, spc=self.params.city.spc,
                            partial=self.partial)

    def what_moved(self, top: int = 5):
        """Measures whose process behaviour chart signals this period, ranked for the memo."""
        moved = self.moved
        flagged = moved[moved["flagged"]].head(top)
        parts = [method_lede(self.spc, self.period.label, self.partial)]
        if flagged.empty:
            parts.append(NOT_JUDGED_NOTE if self.partial else
                         "<p>No measure shows a signal this period.</p>")
        else:
            parts.append(moved_table(flagged))
        return HTML("".join(parts) + unlisted_note(moved))

    # --- submitted KPIs -----------------------------------------------------------------------

    def _with_kpis(self, card: pd.DataFrame) -> pd.DataFrame:
        """The scorecard plus the department's submitted KPIs (none for a period to date)."""
        from ...metrics.kpis import with_kpis
        card, self.kpi_card = with_kpis(self.params, self.department, self.period, self.prep,
                                        card)
        return card

    def kpis(self):
        """Submitted KPIs: submission status, target, status, trend, what moved, 311 check."""
        from ..kpi_section import kpi_section
        return kpi_section(self.params, self.department, self.period, self.prep, self.kpi_card,
                           audience=self.audience)

    # --- service standards --------------------------------------------------------------------

    @cached_property
    def by_service(self) -> pd.DataFrame:
        return m.on_time_by_service(self.prep, self.department, self.period, self.calendar)

    @requests_section(as_list=True)
    def on_time_by_service(self):
        from ..charts import ontime_by_service
        target = scoring.target_for(self.department, "on_time_rate")
        data = self.by_service[self.by_service["on_time_rate"].notna()].copy()
        data["on_time_rate"] = data["on_time_rate"].astype(float)
        chart = ontime_by_service(data, target=target.target if target else None) \
            if len(data) else None
        rows = self.by_service.assign(
            rate=[format_value(v, "rate") for v in self.by_service["on_time_rate"]],
            median=[format_value(v, "days") for v in self.by_service["median_days_to_close"]],
            **counts_text(self.by_service, ("closed", "backlog_open", "overdue_open")))
        name = {k: metric_def(k).label for k in ("closed", "on_time_rate", "median_days_to_close",
                                                 "backlog_open", "overdue_open")}
        tbl = HTML(table(rows, {"service_name": "Service", "sla": "SLA", "closed": name["closed"],
                                "rate": name["on_time_rate"],
                                "median": name["median_days_to_close"],
                                "backlog_open": name["backlog_open"],
                                "overdue_open": name["overdue_open"]}, nowrap=("sla",))
                   + zero_median_note(self.by_service["median_days_to_close"]))
        return [x for x in (chart, tbl) if x is not None]

    @requests_section(as_list=True)
    def time_to_close(self):
        from ..charts import time_to_close_chart
        dist = m.time_to_close_distribution(self.prep, self.department, self.period,
                                            self.calendar)
        if dist.empty:
            return [HTML("<p>No requests were closed in this period.</p>")]
        s = self.summary
        text = (f"<p>Median {esc(format_value(s['median_days_to_close'], 'days'))}, "
                f"90th percentile {esc(format_value(s['p90_days_to_close'], 'days'))}, "
                f"mean {esc(format_value(s['mean_days_to_close'], 'days'))} "
                f"(median "
                f"{esc(format_value(s['median_business_days_to_close'], 'business_days'))})."
                f"</p>") + zero_median_note([s["median_days_to_close"]])
        return [time_to_close_chart(dist["days_to_close"].to_numpy(dtype=float)), HTML(text)]

    # --- backlog ------------------------------------------------------------------------------

    @requests_section(as_list=True)
    def backlog(self):
        from ..charts import aging_chart
        ages = self.aging_table()
        s = self.summary
        lede = "<p>" + "; ".join(
            f"{esc(metric_def(k).label)}: {esc(format_value(s[k], metric_def(k).unit))}"
            for k in ("backlog_open", "backlog_start", "overdue_open", "overdue_share")) + ".</p>"
        sla = ages[ages["scheme"] == "sla"].assign(
            share_text=lambda d: [format_value(v, "rate") for v in d["share"]])
        sla = sla.assign(**counts_text(sla, ("requests",)))
        return [HTML(lede), aging_chart(m.open_ages(self.prep, self.period)),
                HTML(table(sla, {"bucket": "Age against SLA", "requests": "Open requests",
                                 "share_text": "Share"}))]

    def aging_table(self) -> pd.DataFrame:
        return m.aging(self.prep, self.department, self.period, self.calendar)

    def open_requests(self) -> pd.DataFrame:
        return m.open_requests(self.prep, self.period)

    @requests_section(as_list=False, note=False)  # the backlog section says it once
    def oldest_overdue(self, n: int = 10):
        over = self.overdue_requests()
        if over.empty:
            return HTML("<p>No open request is overdue at period end.</p>")
        if self.audience.public:  # no single request is published
            return HTML(f"<p>{len(over):,} open requests are overdue at period end (by "
                        f"service in the table above; single requests are not published).</p>")
        rows = over.head(n).assign(days=lambda d: d["days_overdue"].map("{:,.0f}".format),
                                   opened=lambda d: d["requested_at"].dt.strftime("%Y-%m-%d"))
        return HTML(table(rows, {"request_id": "Request", "service_name": "Service",
                                 "address": "Address", "opened": "Opened",
                                 "days": "Days overdue"}, caption="Most overdue open requests",
                          nowrap=("request_id", "opened", "days")))

    def overdue_requests(self) -> pd.DataFrame:
        return m.overdue_requests(self.prep, self.period)

    # --- trends -------------------------------------------------------------------------------

    @requests_section(as_list=True)
    def trends(self, metrics=("created", "on_time_rate", "backlog_open", "median_days_to_close")):
        """Process behaviour charts: values, mean, limits, target, signals highlighted; every
        measure that missed its target this period gets one too (after ``metrics``)."""
        from ..charts import spc_chart
        charts = []
        for metric in list(metrics) + [k for k in self.missed() if k not in metrics]:
            d, a = metric_def(metric), self.assessment(metric)
            fmt = ".0%" if d.unit == "rate" else (",.1f" if d.unit == "days" else ",.0f")
            charts.append(spc_chart(a.points, target=a.target, title=d.label, fmt=fmt,
                                    subtitle=chart_subtitle(a, self.period.label)))
        return charts

    def missed(self) -> list[str]:
        """The registry's measures (judged over time) that missed their target this period."""
        from ...metrics.registry import METRICS
        rows = self.card[self.card["status"] == "missed"]
        return [k for k in rows["metric"] if k in METRICS and METRICS[k].method is not None]

    # --- maps ---------------------------------------------------------------------------------

    def by_district(self, layer: str) -> pd.DataFrame:
        """Headline figures per district of ``layer``, computed by stat_lib.metrics."""
        return m.by_district(self.prep, self.period, layer)

    @requests_section(as_list=True)
    def maps(self):
        """Per boundary layer: on time against the target (numbered districts, the ranked table
        beside) and requests received; then density over the districts and overdue clusters.
        The public edition: district counts only, small ones withheld."""
        if self.audience.public:
            from ..public_maps import district_maps
            return district_maps(self.params, self.period,
                                 row=self.department.slug, name=self.department.name)
        from ..maps import density_map, overdue_map
        basemap = self.params.city.basemap
        out = []
        for b in self.params.city.boundaries:
            out += self.district_maps(b, load_districts(self.params, b.layer), basemap)
        created = m.created_requests(self.prep, self.period)
        first = self.params.city.boundaries[0] if self.params.city.boundaries else None
        outline = load_districts(self.params, first.layer) if first else None
        if created[["lat", "lon"]].notna().all(axis=1).any():
            out.append(density_map(created, title="Where this period's requests came from",
                                   basemap=basemap, outline=outline))
        over = self.overdue_requests()
        if not over.empty:
            out.append(overdue_map(over, basemap=basemap, districts=outline,
                                   title="Overdue open requests at period end"))
        return out

    def district_maps(self, boundary, districts, basemap):
        """The on-time map of one boundary layer (against the target when there is one) and
        its requests-received map, numbered alike."""
        from ..district_maps import district_maps
        values = self.by_district(boundary.layer)
        target = scoring.target_for(self.department, "on_time_rate")
        return district_maps(districts, values, boundary.name, target, basemap)

    # --- standards and quality ----------------------------------------------------------------

    @requests_section(as_list=False)
    def standards(self):
        if not self.department.standards:
            return HTML("<p>This department has not published a customer service standard "
                        "(a promise to residents with redress when it is missed).</p>")
        rep = m.standards_report(self.prep, self.department, self.period, self.calendar)
        rows = rep.assign(
            **counts_text(rep, ("closed",)),
            compliance=[format_value(v, "rate") for v in rep["standard_compliance"]],
            owed=[format_value(v, "count") for v in rep["redress_count"]],
            dollars=[format_value(v, "dollars") for v in rep["redress_dollars"]])
        cols = {"promise": "Promise", "closed": "Closed", "compliance": "Met",
                "owed": "Redress owed (requests)", "dollars": "Redress owed ($)"}
        return HTML(table(rows, {k: v for k, v in cols.items() if k in rows.columns}))

    @cached_property
    def satisfaction_section(self):
        from ..satisfaction_section import SatisfactionSection
        return SatisfactionSection(self.params, self.department, self.period, self.audience)

    def satisfaction(self) -> list:
        """Resident satisfaction (heading included): the latest survey quarter's share
        satisfied with its margin, the change, districts, comments (internal only); []
        for a department without survey responses."""
        return self.satisfaction_section.outputs()

    def permits(self) -> list:
        """The permits section (heading included); [] for a department without permits."""
        return self.permits_section.outputs()

    def data_quality(self):
        note = (self.permits_section.quality_note() if self.permits_only else
                quality_note(self.params, self.department.slug))
        return HTML(f'<p class="stat-quality">{esc(note)}</p>')

    # --- for the batch ------------------------------------------------------------------------

    def publish(self):
        """Record status counts and headline figures in the manifest (via the notebook)."""
        counts = self.card["status"].value_counts()
        figures = {k: (None if v is None or pd.isna(v) else float(v))
                   for k, v in self.summary.items() if k in dict(HEADLINE)}
        own = {"met": int(counts.get("met", 0)), "near": int(counts.get("near", 0)),
               "missed": int(counts.get("missed", 0)), "figures": figures}
        if self.permits_only:
            own = self.permits_section.published()
        publish_summary({**own, "cityscore": self.cityscore()})
        self._keep_figures()

    def _keep_figures(self) -> None:
        """Hand this packet's prepared rows to the period's figures cache (metrics.csv and the
        period-wide packets read it); a failure only costs them a load of their own."""
        from ...metrics.period_figures import keep_own
        try:
            keep_own(self.params, self.period, self.prep)
        except Exception as exc:  # noqa: BLE001  (the readers compute and report it themselves)
            log.warning("%s: figures not cached (%s)", self.department.slug, exc)

    def cityscore(self) -> float | None:
        figs = cityscore_figures(self.params, self.period, [self.department.slug],
                                 requests=self.prep.frame,
                                 prepared={self.department.slug: self.prep})
        tables = scoring.cityscore(self.params, figs)
        dept = tables["departments"]
        month = dept[dept["period"] == self.period.label]
        return None if month.empty or pd.isna(month["score"].iloc[0]) else \
            round(float(month["score"].iloc[0]), 3)


ZERO_MEDIAN = ("A median of 0.0 days means half or more of that service's closed requests were "
               "closed within about an hour of being created; a request closed at the moment it "
               "was logged counts as 0 days.")


def zero_median_note(medians) -> str:
    """The note under a table whose medians show "0.0 days" (empty when none does)."""
    shown = [format_value(v, "days") for v in medians]
    return f'<p class="stat-note">{esc(ZERO_MEDIAN)}</p>' if "0.0 days" in shown else ""


def counts_text(frame: pd.DataFrame, columns) -> dict:
    """Whole-count columns as display text with thousands separators ("2,302")."""
    return {c: [format_value(v, "count") for v in frame[c]] for c in columns if c in frame}


def quality_note(params, department: str) -> str:
    """A short data-quality note on one department's stored rows, for its packet."""
    dept = params.department(department)
    c = quality_counts(params, department)
    n = c["requests"]
    if n == 0:
        return f"No requests for {dept.name} in the store."
    note = (f"{n:,} requests for {dept.name}; {c['no_coordinates']:,} "
            f"({c['no_coordinates'] / n:.1%}) without usable coordinates (placed by the "
            f"source's district columns where given)")
    if c["unplaced"]:
        note += f"; {c['unplaced']:,} not placed in at least one district layer"
    if c["flagged"]:
        note += f"; {c['flagged']:,} carry a data-quality flag"
    return note + (f"; {c['rejected']:,} rows of the source files could not be used (each is "
                   f"kept with its reason for the analysts).")
