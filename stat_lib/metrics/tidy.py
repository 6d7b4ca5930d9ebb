"""Tidy figures: every metric of every department as rows (``metrics.csv``, open data).

``stat-lib metrics --period P`` prints :func:`tidy_figures`; every run writes it to
``outputs/<period>/metrics.csv``. One row per department x metric (standards add
``standard_compliance.<id>``, ``redress_count.<id>``, ``redress_dollars.<id>``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.cells import safe_frame
from ..core.periods import Period
from .prepare import Prepared, _as_of, data_as_of, prepare
from .registry import METRICS, format_value, metric_def, rate_parts
from .requests import department_summary, trend
from .scoring import status, target_for
from .standards import standards_report

COLUMNS = ["department", "department_name", "result", "period", "period_start", "period_end",
           "metric", "label", "value", "unit", "display", "target", "direction", "tolerance",
           "status", "numerator", "denominator"]
STANDARD_METRICS = ("standard_compliance", "redress_count", "redress_dollars")


def tidy_figures(params, period, departments=None, *, requests: pd.DataFrame | None = None,
                 as_of=None) -> pd.DataFrame:
    """Every metric of every (selected) department for ``period``.

    Parameters
    ----------
    params : params.Params
    period : Period or str
        ``2026-10``, ``2026-W42``, ``2026-Q3``, or a to-date period.
    departments : list of str, optional
        Department slugs; default all.
    requests : DataFrame, optional
        Canonical requests; default the store's, through each department's figures of the
        period (:mod:`stat_lib.metrics.period_figures`: computed once, cached).
    as_of : timestamp, optional
        Data currency for cohort outcomes (default: a period to date's cut-off, else the
        latest timestamp in the city's data).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; ``value`` is NaN where a figure is n/a (``display`` says
        "n/a"); ``status`` is met / near / missed / n/a.
    """
    period = _period(period, params.city.timezone)
    slugs = list(departments or params.departments)
    for slug in slugs:
        params.department(slug)  # unknown slug: UsageError listing the known ones
    if requests is None and as_of is None:  # each department's figures once per period
        from .period_figures import period_figures
        month = period_figures(params, period, slugs).window_rows("month")
        table = with_kpis(params, period, slugs, month.drop(columns="window")[COLUMNS])
        order = table["department"].map({s: i for i, s in enumerate(slugs)})
        return table.iloc[order.argsort(kind="stable")].reset_index(drop=True)  # its KPIs after it
    if requests is None:  # one department in memory at a time, one as_of for all of them
        from ..store import load_requests
        return pd.concat([tidy_figures(params, period, [slug], as_of=as_of,
                                       requests=load_requests(params, [slug], end=period.end))
                          for slug in slugs], ignore_index=True)
    calendar = BusinessCalendar.from_city(params.city)
    as_of = as_of if as_of is not None else data_as_of(requests)  # one for all
    return with_kpis(params, period, slugs,
                      _tidy(_prepare_all(params, slugs, requests, calendar, as_of), period,
                            calendar, params))


def with_kpis(params, period: Period, slugs, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus the submitted KPIs (``kpi.<id>``) of a whole period (none to date)."""
    from .kpis import kpi_figures
    kpis = None if period.is_to_date else kpi_figures(params, period, slugs, COLUMNS)
    if kpis is None or kpis.empty:
        return table
    return pd.concat([table, kpis], ignore_index=True) if len(table) else kpis


def _tidy(preps: dict, period: Period, calendar: BusinessCalendar, params=None,
          permits: dict | None = None) -> pd.DataFrame:
    rows = []
    for prep in preps.values():
        rows += department_rows(prep, prep.department, period, calendar)
        if params is not None:  # the permits kind's figures, for departments with permits
            rows += permit_rows(params, prep.department, period, calendar, permits)
    return pd.DataFrame(rows, columns=COLUMNS)


def permit_rows(params, department, period: Period, calendar: BusinessCalendar,
                cache: dict | None = None) -> list[dict]:
    """The tidy rows of one department's permits metrics (none without permit standards).

    ``cache``: slug -> prepared permits, filled on first use (the CityScore windows share it).
    """
    from .permits import permit_summary, prepare_permits
    if not department.permit_standards or not params.store_path.exists():
        return []
    cache = {} if cache is None else cache
    if department.slug not in cache:
        from ..store.permits import load_permits
        cache[department.slug] = prepare_permits(*load_permits(params, department.slug),
                                                 department, calendar)
    summary = permit_summary(cache[department.slug], period)
    return [_row(department, period, k, v, summary) for k, v in summary.items()
            if k in METRICS]


def _prepare_all(params, slugs, requests, calendar, as_of, prepared=None) -> dict:
    """Each department's requests prepared once, with ``as_of`` (frames of ``prepared``, the
    same requests already prepared, are reused: only as_of differs)."""
    out = {}
    for slug in slugs:
        dept, done = params.departments[slug], (prepared or {}).get(slug)
        out[slug] = (prepare(requests, dept, calendar, as_of) if done is None else
                     Prepared(done.frame, dept, calendar, _as_of(done.frame, as_of, calendar.tz)))
    return out


def department_rows(requests, department, period: Period, calendar: BusinessCalendar,
                    as_of=None) -> list[dict]:
    """The tidy rows of one department (see :func:`tidy_figures`)."""
    prep = prepare(requests, department, calendar, as_of)
    summary = department_summary(prep, department, period, calendar)
    values = {k: v for k, v in summary.items() if k in METRICS}
    for st in standards_report(prep, department, period, calendar).itertuples():
        for metric in STANDARD_METRICS:
            values[f"{metric}.{st.standard}"] = getattr(st, metric)
    return [_row(department, period, metric, value, summary) for metric, value in values.items()]


def _row(department, period: Period, metric: str, value, summary: dict) -> dict:
    d, t = metric_def(metric), target_for(department, metric)
    num = den = np.nan
    parts = rate_parts()
    if metric in parts:
        num, den = (summary[k] for k in parts[metric])
    return {"department": department.slug, "department_name": department.name,
            "result": department.result, "period": period.label,
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
            "metric": metric, "label": d.label, "unit": d.unit,
            "value": np.nan if value is None or pd.isna(value) else float(value),
            "display": format_value(value, d.unit),
            "target": t.target if t else np.nan,
            "direction": t.direction if t else d.direction,
            "tolerance": t.tolerance if t else np.nan, "status": status(value, t),
            "numerator": num, "denominator": den}


def cityscore_figures(params, period, departments=None, *, requests=None,
                      as_of=None, prepared: dict | None = None) -> pd.DataFrame:
    """Tidy figures over the CityScore windows of a month (month, quarter- and year-to-date),
    with a ``window`` column; feed to :func:`stat_lib.metrics.scoring.cityscore`.

    ``prepared`` (optional): slug -> :class:`stat_lib.metrics.Prepared` of these same
    ``requests``, whose frames are reused instead of preparing each department again.
    """
    period = _period(period, params.city.timezone)
    slugs = list(departments or params.departments)
    for slug in slugs:
        params.department(slug)  # unknown slug: UsageError listing the known ones
    covered = prepared is not None and all(s in prepared for s in slugs)
    if requests is None and not covered:
        from ..store import load_requests
        requests = load_requests(params, departments=departments, end=period.end)
    calendar = BusinessCalendar.from_city(params.city)
    if as_of is None:  # as tidy_figures: the latest instant in all these requests
        frames = [requests] if requests is not None else [prepared[s].frame for s in slugs]
        frames = [f for f in frames if len(f)] or frames[:1]
        as_of = max(data_as_of(f) for f in frames)
    preps = _prepare_all(params, slugs, requests, calendar, as_of, prepared)
    permits: dict = {}
    frames = [_tidy(preps, _period(p, params.city.timezone), calendar, params, permits
                    ).assign(window=name) for name, p in period.windows().items()]
    frames[0] = with_kpis(params, period, slugs, frames[0]).assign(window="month")
    return pd.concat(frames, ignore_index=True)


def trends(params, period, departments=None, *, requests=None, n: int = 13) -> pd.DataFrame:
    """:func:`stat_lib.metrics.trend` of every (selected) department, stacked; feed to
    :func:`stat_lib.metrics.moved.what_moved` with ``params.departments``."""
    period = _period(period, params.city.timezone)
    slugs = list(departments or params.departments)
    if requests is None:
        from ..store import load_requests
        requests = load_requests(params, departments=slugs, end=period.end)
    calendar = BusinessCalendar.from_city(params.city)
    as_of = data_as_of(requests)
    return pd.concat([trend(requests, params.department(s), period, calendar, n=n, as_of=as_of)
                      for s in slugs], ignore_index=True)


def _period(period, tz: str) -> Period:
    if isinstance(period, str):
        return Period.parse(period, tz)
    return period if period.tz else period.with_tz(tz)


def to_csv(table: pd.DataFrame, path: str | Path | None = None) -> str:
    """CSV text of the figures (n/a as an empty cell, text made spreadsheet-safe:
    :mod:`stat_lib.core.cells`); also written to ``path`` when given."""
    text = safe_frame(table).to_csv(index=False, lineterminator="\n")
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def to_json(table: pd.DataFrame, path: str | Path | None = None) -> str:
    """JSON array of records (n/a as ``null``); also written to ``path`` when given."""
    records = json.loads(table.to_json(orient="records", date_format="iso"))
    text = json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
