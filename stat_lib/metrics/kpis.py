"""KPIs departments submit (the ``kpi_submissions`` kind): scorecard rows, status, trend,
what moved, reconciliation with 311, CityScore figures, and who has submitted.

Tidy ids are ``kpi.<id>`` (the registered family ``kpi``). A KPI's value for a period is the
figure of the latest submission for that department and period (records store); its target is
the one in force on the period's first day (``targets:`` with ``from`` dates), judged with the
same met / near / missed rule as every metric (:func:`stat_lib.metrics.scoring.status`).

**Reconciliation** (``reconcile_with: {metric, service, tolerance}``): the 311 figure is the
requests metric computed on the department's requests (of one service, when given) for the
same period; the two *agree* when ``|kpi - 311| <= tolerance x |311|``, else they *differ by*
``kpi - 311``.

**Submission status** of a department and period (its KPIs of that frequency): *on time*
(received before the deadline of :func:`stat_lib.core.due_dates.due_deadline`), *late*
(received at or after it), *missing* (nothing received and the deadline has passed), *not yet
due* (nothing received, deadline ahead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.due_dates import due_day, due_deadline
from ..core.periods import Period
from ..params.models import Target
from ..store import submissions as records
from .methods import assess
from .moved import moved_row, ranked
from .registry import Metric, format_value, metric_def, register
from .scoring import status as target_status
from .scoring import trend_direction
from .spc import spc_settings

register(Metric("kpi", "Submitted KPI", "count", None,
                "the figure a department submitted for the period (its latest submission); "
                "label, unit, direction and target from the department's `kpis:`; tidy ids "
                "kpi.<id>", kind="kpi_submissions"))

CARD_COLUMNS = ["metric", "label", "unit", "value", "prior", "year_ago", "change_prior",
                "change_year", "target", "direction", "status", "trend", "display", "note",
                "review", "reconciliation"]


def kpis_of(department, period: Period) -> list:
    """The department's KPIs of ``period``'s frequency (monthly for a month)."""
    return [k for k in department.kpis if k.period_kind() == period.kind]


def target_of(kpi, period: Period) -> Target | None:
    """The KPI's target in force on the period's first day, as a scoring ``Target``."""
    value = kpi.target_on(period.first_day)
    if value is None or kpi.direction is None:
        return None
    return Target(target=value, direction=kpi.direction, tolerance=kpi.tolerance)


def kpi_trend(params, department, period: Period, n: int = 13,
              values: pd.DataFrame | None = None) -> pd.DataFrame:
    """KPI values over the ``n`` periods ending with ``period`` (long form, as
    :func:`stat_lib.metrics.trend`: ``department, period, period_start, metric, value``;
    NaN where nothing was submitted)."""
    cur = records.current_values(params, [department.slug]) if values is None else values
    got = {(p, k): v for p, k, v in zip(cur["period"], cur["kpi"], cur["value"])}
    rows = []
    for p in period.trailing(n):
        for kpi in kpis_of(department, period):
            v = got.get((p.label, kpi.id))
            rows.append({"department": department.slug, "period": p.label,
                         "period_start": p.with_tz(params.city.timezone).start,
                         "metric": f"kpi.{kpi.id}", "value": np.nan if v is None else float(v),
                         "numerator": np.nan, "denominator": np.nan})
    return pd.DataFrame(rows, columns=["department", "period", "period_start", "metric",
                                       "value", "numerator", "denominator"])


def kpi_scorecard(params, department, period: Period, prep=None,
                  trend: pd.DataFrame | None = None) -> pd.DataFrame:
    """One scorecard row per KPI (columns :data:`CARD_COLUMNS`); ``prep`` (the department's
    prepared requests) gives the reconciliation with 311."""
    cur = records.current_values(params, [department.slug])
    trend = kpi_trend(params, department, period, values=cur) if trend is None else trend
    now = cur[cur["period"] == period.label].set_index("kpi")
    rows = []
    for kpi in kpis_of(department, period):
        series = trend.loc[trend["metric"] == f"kpi.{kpi.id}"].set_index("period")["value"]
        value, prior, year = (_get(series, p.label) for p in
                              (period, period.prior(), period.year_ago()))
        t = target_of(kpi, period)
        rows.append({"metric": f"kpi.{kpi.id}", "label": kpi.label, "unit": kpi.unit,
                     "value": value, "prior": prior, "year_ago": year,
                     "change_prior": _diff(value, prior), "change_year": _diff(value, year),
                     "target": t.target if t else None, "direction": kpi.direction,
                     "status": target_status(value, t),
                     "trend": trend_direction(series.tolist(), kpi.direction),
                     "display": format_value(value, kpi.unit),
                     "note": _cell(now, kpi.id, "note"), "review": _review(now, kpi.id),
                     "reconciliation": reconciliation(kpi, value, prep, period)})
    return pd.DataFrame(rows, columns=CARD_COLUMNS)


def kpi_what_moved(department, trend: pd.DataFrame, period: Period, *, spc=None,
                   partial: bool = False) -> pd.DataFrame:
    """The KPIs judged by their method (SPC: an individuals chart on the submitted values,
    the KPI's own good direction and the target in force), ranked as
    :func:`stat_lib.metrics.moved.what_moved` ranks the 311 measures."""
    rows = []
    for kpi in kpis_of(department, period):
        metric = f"kpi.{kpi.id}"
        g = trend[(trend["metric"] == metric) & trend["value"].notna()]
        if g.empty:
            continue
        g = g.sort_values("period_start")
        t = target_of(kpi, period)
        a = assess(g, metric, direction=kpi.direction, target=t.target if t else None,
                   settings=spc_settings(spc, department), partial=partial)
        rows.append(moved_row(g, department.slug, metric, a, label=kpi.label))
    return ranked(rows)


def reconciliation(kpi, value, prep, period: Period) -> str:
    """``agrees with 311 (2,300 vs 2,302)``, ``differs by 52 (118 vs 66)`` or ``''``."""
    rec = kpi.reconcile_with
    if rec is None or prep is None or value is None or pd.isna(value):
        return ""
    other = reconcile_value(prep, period, rec)
    if other is None or pd.isna(other):
        return "311 figure n/a"
    both = f"({format_value(value, kpi.unit)} vs {format_value(other, kpi.unit)})"
    if abs(value - other) <= rec.tolerance * abs(other):
        return f"agrees with 311 {both}"
    return f"differs by {format_value(abs(value - other), kpi.unit)} {both}"


def reconcile_value(prep, period: Period, rec):
    """The 311 metric ``rec.metric`` for ``period`` (of one service when ``rec.service``);
    an unknown metric id is a ``MetricError`` listing the known ones."""
    metric_def(rec.metric)
    arrays = None
    if rec.service:
        svc = prep.department.service(rec.service)
        code = svc.code if svc else rec.service
        rows = (prep.frame["service_code"] == code).to_numpy()
        arrays = {k: v[rows] for k, v in prep.arrays.items()}
    return prep.values_window(period, arrays).value(rec.metric)


def kpi_figures(params, period: Period, departments=None, columns=None) -> pd.DataFrame:
    """Tidy rows (``stat_lib.metrics.tidy.COLUMNS``) of every submitted KPI of ``period``: the
    ``kpi.<id>`` figures that feed metrics.csv and CityScore."""
    slugs = list(departments or params.departments)
    cur = records.current_values(params, slugs)
    cur = cur[cur["period"] == period.label]
    rows = []
    for slug in slugs:
        dept = params.departments[slug]
        got = dict(zip(cur.loc[cur["department"] == slug, "kpi"],
                       cur.loc[cur["department"] == slug, "value"]))
        for kpi in kpis_of(dept, period):
            value, t = got.get(kpi.id), target_of(kpi, period)
            rows.append({"department": slug, "department_name": dept.name,
                         "result": dept.result, "period": period.label,
                         "period_start": period.start.isoformat(),
                         "period_end": period.end.isoformat(), "metric": f"kpi.{kpi.id}",
                         "label": kpi.label, "unit": kpi.unit,
                         "value": np.nan if value is None else float(value),
                         "display": format_value(value, kpi.unit),
                         "target": t.target if t else np.nan, "direction": kpi.direction,
                         "tolerance": t.tolerance if t else np.nan,
                         "status": target_status(value, t), "numerator": np.nan,
                         "denominator": np.nan})
    return pd.DataFrame(rows, columns=columns)


def submission_status(params, period: Period, now=None) -> pd.DataFrame:
    """Per department with KPIs of ``period``'s frequency: ``department, name, liaison, kpis,
    status`` (on time / late / missing / not yet due), ``due`` (last on-time day),
    ``received_at``, ``file``."""
    calendar = BusinessCalendar.from_city(params.city)
    n = params.city.submissions.due_business_days
    deadline, due = due_deadline(period, calendar, n), due_day(period, calendar, n)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    subs = records.latest_submissions(params)
    subs = subs[subs["period"] == period.label].set_index("department")
    rows = []
    for slug, dept in sorted(params.departments.items()):
        if not kpis_of(dept, period):
            continue
        got = slug in subs.index
        received = pd.Timestamp(subs.loc[slug, "received_at"]) if got else None
        state = (("on time" if received < deadline else "late") if got else
                 "missing" if now >= deadline else "not yet due")
        rows.append({"department": slug, "name": dept.name, "liaison": dept.liaison,
                     "kpis": len(kpis_of(dept, period)), "status": state, "due": due,
                     "received_at": received, "file": subs.loc[slug, "file"] if got else None})
    return pd.DataFrame(rows, columns=["department", "name", "liaison", "kpis", "status", "due",
                                       "received_at", "file"])


def awaiting_text(status: pd.DataFrame) -> str:
    """``Awaiting submission from Bureau of Street Lighting (due 2026-11-16).`` or ``''``."""
    waiting = status[status["status"].isin(["missing", "not yet due"])]
    if waiting.empty:
        return ""
    return (f"Awaiting submission from {', '.join(waiting['name'])} "
            f"(due {waiting['due'].iloc[0]}).")


def status_line(status: pd.DataFrame) -> str:
    """``KPI submissions: 3 on time, 1 late, 1 missing.`` (every state present, in order)."""
    if status.empty:
        return ""
    counts = status["status"].value_counts()
    parts = [f"{counts[s]} {s}" for s in ("on time", "late", "missing", "not yet due")
             if s in counts]
    return f"KPI submissions: {', '.join(parts)}."


def _get(series: pd.Series, label: str):
    v = series.get(label)
    return None if v is None or pd.isna(v) else float(v)


def _diff(a, b):
    return None if a is None or b is None else a - b


def _cell(frame: pd.DataFrame, kpi: str, column: str):
    if kpi not in frame.index:
        return None
    v = frame.loc[kpi, column]
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def _review(frame: pd.DataFrame, kpi: str) -> str:
    state = _cell(frame, kpi, "review")
    if state is None:
        return ""
    comment = _cell(frame, kpi, "review_comment")
    return f"{state}: {comment}" if comment else str(state)


def with_kpis(params, department, period: Period, prep, card: pd.DataFrame):
    """``(card, kpi_card)``: the 311 scorecard plus the department's submitted KPIs, labelled
    "(submitted)" (none for a period to date), and the KPI scorecard itself."""
    kpi_card = kpi_scorecard(params, department, period, prep)
    if period.is_to_date or kpi_card.empty:
        return card, kpi_card
    rows = kpi_card.assign(label=kpi_card["label"] + " (submitted)")
    return pd.concat([card, rows[card.columns]], ignore_index=True), kpi_card
