"""The packets' KPI parts: a department's submitted KPIs and the period's submission status.

Numbers come from :mod:`stat_lib.metrics.kpis`; this module only arranges them, every data
string escaped (:func:`stat_lib.present.html.esc`).
"""

from __future__ import annotations

import pandas as pd

from ..metrics import kpis
from ..metrics.registry import format_value
from ..metrics.spc import periods_needed, spc_settings
from .html import HTML, badge, esc, table, trend_text
from .spc_text import moved_table


def submission_line(params, department, period) -> str:
    """``Submitted on time: 2026-11-15 (sanitation-2026-10.csv), due 2026-11-16.``"""
    status = kpis.submission_status(params, period)
    row = status[status["department"] == department.slug]
    if row.empty:
        return ""
    r = row.iloc[0]
    if r["status"] in ("missing", "not yet due"):
        return f"Awaiting submission from {department.name} (due {r['due']})."
    when = pd.Timestamp(r["received_at"]).tz_convert(params.city.timezone)
    return f"Submitted {r['status']}: {when:%Y-%m-%d} ({r['file']}), due {r['due']}."


def kpi_section(params, department, period, prep, card: pd.DataFrame | None = None,
                audience=None):
    """The department packet's KPI section: status line, table, what moved (HTML pieces).

    ``audience`` (:class:`stat_lib.present.audience.Audience`): the public edition shows no
    note or review."""
    from .audience import INTERNAL
    audience = audience or INTERNAL
    if not department.kpis:
        return [HTML("<p>This department does not submit performance figures of its own "
                     "(KPIs); the measures above come from its service requests.</p>")]
    if not kpis.kpis_of(department, period):
        return [HTML(f"<p>KPIs are submitted per month or quarter; none for a "
                     f"{esc(period.kind)}.</p>")]
    reach = max(13, periods_needed(spc_settings(params.city.spc, department), period.kind))
    trend = kpis.kpi_trend(params, department, period, n=reach)
    card = kpis.kpi_scorecard(params, department, period, prep, trend) if card is None else card
    out = [HTML(f'<p class="stat-lede">{esc(submission_line(params, department, period))}</p>')]
    out.append(HTML('<div class="stat-kpis">' + table(_rows(card), audience.columns({
        "label": "KPI (submitted)", "display": str(period.label), "prior_text": "Prior period",
        "target_text": "Target", "status_html": "Status", "trend_text": "Trend (3 periods)",
        "reconciliation": "Check against 311", "remark": "Note / review"}),
        raw=("status_html",)) + "</div>"))
    moved = kpis.kpi_what_moved(department, trend, period, spc=params.city.spc,
                                partial=period.is_to_date)
    flagged = moved[moved["flagged"]] if len(moved) else moved
    if len(flagged):
        units = {f"kpi.{k.id}": k.unit for k in department.kpis}
        out.append(HTML("<h4>What moved among the submitted KPIs</h4>"
                        + moved_table(flagged, units=units)))
    return out


def _rows(card: pd.DataFrame) -> pd.DataFrame:
    def text(v, u):
        return "—" if v is None or pd.isna(v) else format_value(v, u)
    return card.assign(
        prior_text=[text(v, u) for v, u in zip(card["prior"], card["unit"])],
        target_text=[text(v, u) for v, u in zip(card["target"], card["unit"])],
        status_html=[badge(s) for s in card["status"]],
        trend_text=[trend_text(t, d) for t, d in zip(card["trend"], card["direction"])],
        remark=[" · ".join(x for x in (n, r) if x) for n, r in
                zip(card["note"].fillna(""), card["review"].fillna(""))])


def submissions_table(params, period):
    """The citywide packet's submission status: the line ("Awaiting submission from ...")
    and one row per department."""
    status = kpis.submission_status(params, period)
    if status.empty:
        return HTML("<p>No department has submitted KPIs configured for this period.</p>")
    text = " ".join(x for x in (kpis.status_line(status), kpis.awaiting_text(status)) if x)
    tz = params.city.timezone
    rows = status.assign(received=[
        "—" if r is None or pd.isna(r) else f"{pd.Timestamp(r).tz_convert(tz):%Y-%m-%d}"
        for r in status["received_at"]])
    return HTML(f'<p class="stat-lede stat-submissions">{esc(text)}</p>' + table(rows, {
        "name": "Department", "status": "Submission", "received": "Received", "due": "Due",
        "kpis": "KPIs"}))
