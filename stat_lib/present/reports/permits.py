"""The permits section of a department packet and the citywide redress figures.

Every number comes from :mod:`stat_lib.metrics.permits` (the stop-clock, compliance, the
redress ledger); this module arranges and displays them, every data string escaped.
A department with no ``permit_standards`` and no stored permits shows nothing.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from ...metrics import permits as pm
from ...metrics.registry import format_value, metric_def
from ...metrics.scoring import status as score_status
from ...store.permits import load_permits, permit_rejects
from ..html import HTML, TREND_ARROW, badge, change_text, esc, table

TILES = ("permits_issued", "permit_compliance", "median_permit_business_days",
         "permits_pending", "permit_redress_owed", "permit_redress_outstanding")
SCORECARD = ("permit_compliance", "median_permit_business_days", "permits_issued",
             "permits_pending", "permits_late", "permit_redress_owed",
             "permit_redress_outstanding")

CONVENTION = ("Business days to issue are counted as the 311 service levels count them: the "
              "business days (Monday to Friday, not a city holiday) after the day the "
              "application was complete, up to and including the day the permit was issued, "
              "less the business days the clock was stopped waiting on the applicant (after "
              "the day it stopped, up to and including the day it restarted). Complete and "
              "issued on the same day is 0 business days.")


class PermitsSection:
    """One department's permits for one period (built by ``DepartmentReport.permits``)."""

    def __init__(self, params, department, period, calendar):
        self.params, self.department, self.period = params, department, period
        permits, stops = load_permits(params, department.slug)
        permits = permits[permits["received_at"] < period.end]
        self.prep = pm.prepare_permits(permits, stops, department, calendar)

    @property
    def has_permits(self) -> bool:
        return bool(self.department.permit_standards) or len(self.prep.table) > 0

    @cached_property
    def summary(self) -> dict:
        return pm.permit_summary(self.prep, self.period)

    def outputs(self) -> list:
        """Heading, headline, standards table, charts, ledger, method note; [] without permits."""
        from IPython.display import Markdown
        if not self.has_permits:
            return []
        return [Markdown("## Permits: service standards and redress"), self.headline(),
                self.by_type(), *self.charts(), Markdown("### Redress ledger"),
                self.ledger_months(), self.ledger(), self.method()]

    def tiles(self):
        """Headline tiles of a department whose data is permits (vs the prior period)."""
        prior = pm.permit_summary(self.prep, self.period.prior())
        tiles = []
        for metric in TILES:
            d = metric_def(metric)
            value = self.summary[metric]
            tiles.append(
                f'<div class="stat-tile"><div class="stat-tile-label">{esc(d.label)}</div>'
                f'<div class="stat-tile-value" data-metric="{metric}">'
                f'{esc(_days(value) if d.unit == "business_days" else format_value(value, d.unit))}'
                f'</div><div class="stat-tile-change">vs '
                f'prior {esc(change_text(value, prior[metric], d.unit))}</div></div>')
        return HTML(f'<div class="stat-tiles">{"".join(tiles)}</div>')

    def scorecard(self):
        """The permits metrics: this period, prior, a year earlier, target, status, trend."""
        from ...metrics.scoring import trend_direction
        trend = self.trend
        rows = []
        for metric in SCORECARD:
            d, t = metric_def(metric), self.department.targets.get(metric)
            values = trend.loc[trend["metric"] == metric, "value"].tolist()
            year = pm.permit_summary(self.prep, self.period.year_ago())[metric]
            rows.append({"label": d.label, "now": format_value(values[-1], d.unit),
                         "prior": format_value(values[-2], d.unit),
                         "year": format_value(year, d.unit),
                         "target": format_value(t.target, d.unit) if t else "—",
                         "status": badge(score_status(values[-1], t)),
                         "trend": TREND_ARROW.get(trend_direction(values, t.direction if t
                                                                  else d.direction), "n/a")})
        return HTML(table(pd.DataFrame(rows), {
            "label": "Measure", "now": self.period.label, "prior": "Prior period",
            "year": "Same period last year", "target": "Target", "status": "Status",
            "trend": "Trend (3 periods)"}, raw=("status",)))

    @cached_property
    def trend(self) -> pd.DataFrame:
        return pm.permit_trend(self.prep, self.period)

    def moved(self, spc=None, partial: bool = False) -> pd.DataFrame:
        """What moved among the permits metrics (:func:`stat_lib.metrics.moved.what_moved`,
        the same process behaviour rules and baseline as the 311 measures)."""
        from ...metrics.moved import what_moved
        n = (spc.baseline_periods if spc else 24) + 1
        return what_moved(pm.permit_trend(self.prep, self.period, n=n),
                          {self.department.slug: self.department}, metrics=list(SCORECARD),
                          spc=spc, partial=partial)

    def published(self) -> dict:
        """Status counts and tile figures for the batch summary of a permits-only packet."""
        found = [score_status(self.summary[k], t) for k, t in self.department.targets.items()
                 if k in self.summary]
        figures = {k: (None if self.summary[k] is None else float(self.summary[k]))
                   for k in TILES}
        return {s: found.count(s) for s in ("met", "near", "missed")} | {"figures": figures}

    def headline(self):
        s = self.summary
        target = self.department.targets.get("permit_compliance")
        status = score_status(s["permit_compliance"], target)
        parts = [f"{s['permits_issued']:,} permits issued in {esc(self.period.describe())}; "
                 f"<strong>{esc(format_value(s['permit_compliance'], 'rate'))}</strong> within "
                 f"the standard ({s['permits_met']:,} of {s['permits_measured']:,} measured)"
                 + (f" {badge(status)} against a target of "
                    f"{esc(format_value(target.target, 'rate'))}" if target else "") + ".",
                 f"Median {esc(format_value(s['median_permit_business_days'], 'business_days'))}"
                 f" to issue; {s['permits_pending']:,} applications pending at period end.",
                 f"Redress owed on {s['permits_late']:,} late permits: "
                 f"{esc(format_value(s['permit_redress_owed'], 'dollars'))}, delivered "
                 f"{esc(format_value(s['permit_redress_delivered'], 'dollars'))}, outstanding "
                 f"<strong>{esc(format_value(s['permit_redress_outstanding'], 'dollars'))}"
                 f"</strong>."]
        if s["permits_no_complete_date"]:
            parts.append(f"{s['permits_no_complete_date']:,} issued permits have no "
                         f"complete-application date and are not measured.")
        return HTML('<p class="stat-lede">' + " ".join(parts) + "</p>")

    def by_type(self):
        rows = pm.compliance_by_type(self.prep, self.period)
        rows = rows.assign(
            target_text=[format_value(v, "rate") if v is not None and not pd.isna(v) else "—"
                         for v in rows["target"]],
            rate=[f"{format_value(v, 'rate')} ({m:,} of {n:,})"
                  for v, m, n in zip(rows["compliance"], rows["met"], rows["measured"])],
            median=[_days(v) for v in rows["median_business_days"]])
        return HTML(table(rows, {"permit_type": "Permit type",
                                 "within": "Standard (business days)", "issued": "Issued",
                                 "rate": "Within standard", "target_text": "Target",
                                 "median": "Median business days", "late": "Late"},
                          caption="By permit type (redress: the ledger below)"))

    def charts(self) -> list:
        from ..charts import trend_chart
        from ..permit_charts import business_days_chart
        trend = self.trend
        target = self.department.targets.get("permit_compliance")
        compliance = trend[trend["metric"] == "permit_compliance"]
        out = [trend_chart(compliance, target=target.target if target else None,
                           title="Permits issued within the standard, 13 periods")]
        dist = pm.clock_distribution(self.prep, self.period)
        if dist["permits"].sum():
            out.append(business_days_chart(dist))
        return out

    def ledger_months(self, months: int = 12):
        led = pm.ledger_by_month(self.prep, self.period, months)
        if led.empty:
            return HTML("<p>No permit was issued late in the last twelve months.</p>")
        total = {"month": "Total", "late": led["late"].sum(), "owed": led["owed"].sum(),
                 "delivered": led["delivered"].sum(), "outstanding": led["outstanding"].sum()}
        rows = pd.concat([led, pd.DataFrame([total])], ignore_index=True)
        rows = rows.assign(**{c + "_text": [format_value(v, "dollars") for v in rows[c]]
                              for c in ("owed", "delivered", "outstanding")})
        return HTML(table(rows, {"month": "Month issued", "late": "Late permits",
                                 "owed_text": "Owed by the schedule",
                                 "delivered_text": "Delivered",
                                 "outstanding_text": "Outstanding"},
                          caption="Redress by month of issue, last twelve months"))

    def ledger(self, n: int = 15):
        led = pm.redress_ledger(self.prep, self.period)
        if led.empty:
            return HTML(f"<p>No permit issued in {esc(self.period.describe())} was late.</p>")
        led = led.sort_values(["outstanding", "owed"], ascending=False).head(n)
        rows = led.assign(
            days=[f"{d:.0f} / {w:.0f}" for d, w in zip(led["business_days"], led["within"])],
            share=[f"{p:.0f}%" for p in led["percent"]],
            **{c + "_text": [format_value(v, "dollars") for v in led[c]]
               for c in ("fee", "owed", "delivered", "outstanding")})
        return HTML(table(rows, {"permit_id": "Permit", "permit_type": "Type",
                                 "days": "Business days / allowed", "fee_text": "Fee",
                                 "share": "Redress share", "owed_text": "Owed",
                                 "delivered_text": "Delivered",
                                 "outstanding_text": "Outstanding"},
                          caption=f"Late permits issued in {self.period.describe()}, largest "
                                  f"outstanding first (up to {n})"))

    def quality_note(self) -> str:
        """A data-quality line on the department's stored permits (plain text)."""
        tbl = self.prep.table
        rejected = permit_rejects(self.params, self.department.slug)
        return (f"{len(tbl):,} permits for {self.department.name} received before the period "
                f"ended; {int(tbl['quality'].notna().sum()):,} without a complete-application "
                f"date (not measured); {sum(rejected.values()):,} permit rows rejected at "
                f"ingest" + (" (" + ", ".join(f"{k} {v:,}" for k, v in rejected.items()) + ")"
                             if rejected else "") + ".")

    def method(self):
        rules = "; ".join(
            f"{st.type}: within {st.within_business_days} business days"
            + (f", redress {st.redress.percent_per_day:g}% of the fee per business day late "
               f"up to {st.redress.cap_percent:g}%" if st.redress else ", no redress")
            for st in self.department.permit_standards)
        rejected = sum(permit_rejects(self.params, self.department.slug).values())
        return HTML(f'<p class="stat-quality">{esc(CONVENTION)} Standards: {esc(rules)}. '
                    f"Redress owed = fee × min(cap, percent per day × business days late), "
                    f"delivered as the data records it, outstanding = owed − delivered. "
                    f"{rejected:,} permit rows of this department were rejected at ingest "
                    f"(see the permit_rejects table).</p>")


def _days(value) -> str:
    """Business days as a bare number (the label or header names the unit)."""
    return "n/a" if value is None or pd.isna(value) else f"{value:,.1f}"


def citywide_redress(params, period, calendar) -> pd.DataFrame:
    """Per department with permits: issued, compliance, redress owed and outstanding in
    ``period`` and outstanding on the whole ledger up to its end."""
    rows = []
    for slug, dept in params.departments.items():
        if not dept.permit_standards:
            continue
        sec = PermitsSection(params, dept, period, calendar)
        s = sec.summary
        led = pm.ledger_by_month(sec.prep, period)
        rows.append({"department": slug, "department_name": dept.name,
                     "issued": s["permits_issued"], "compliance": s["permit_compliance"],
                     "owed": s["permit_redress_owed"],
                     "outstanding": s["permit_redress_outstanding"],
                     "outstanding_to_date": float(led["outstanding"].sum()) if len(led) else 0.0})
    return pd.DataFrame(rows, columns=["department", "department_name", "issued", "compliance",
                                       "owed", "outstanding", "outstanding_to_date"])


def citywide_permits(params, period, calendar) -> list:
    """The citywide packet's permits section: redress owed and outstanding, per department."""
    from IPython.display import Markdown
    rows = citywide_redress(params, period, calendar)
    if rows.empty:
        return []
    owed, out = rows["owed"].sum(), rows["outstanding"].sum()
    lede = (f'<p class="stat-lede">Redress owed on permits issued late in '
            f"{esc(period.describe())}: <strong>{esc(format_value(owed, 'dollars'))}</strong>, "
            f"of which <strong>{esc(format_value(out, 'dollars'))}</strong> is outstanding; "
            f"outstanding on every late permit to date: "
            f"<strong>{esc(format_value(rows['outstanding_to_date'].sum(), 'dollars'))}"
            f"</strong>.</p>")
    shown = rows.assign(
        rate=[format_value(v, "rate") for v in rows["compliance"]],
        **{c + "_text": [format_value(v, "dollars") for v in rows[c]]
           for c in ("owed", "outstanding", "outstanding_to_date")})
    return [Markdown("## Permits and redress"), HTML(lede), HTML(table(shown, {
        "department_name": "Department", "issued": "Permits issued",
        "rate": "Within standard", "owed_text": "Redress owed",
        "outstanding_text": "Outstanding (this period)",
        "outstanding_to_date_text": "Outstanding (all to date)"}))]
