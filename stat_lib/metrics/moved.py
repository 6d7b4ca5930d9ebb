"""What moved: each metric judged by its method (:mod:`stat_lib.metrics.methods`), ranked.

A row is listed (``flagged``) only when a signal rule fired at the latest period; it names the
rules and carries exactly the limits they used (``lower``, ``upper``). Ranked for the memo:
concerning before improving (then signals on metrics with no good direction), then by
distance from the centre line in sigmas. :func:`assess_trend` gives one metric's
:class:`~stat_lib.metrics.methods.Assessment` for other sections (page one, "moved as
promised").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.periods import Period
from .methods import SPECIAL, Assessment, assess
from .registry import METRICS, metric_def, scorecard_ids
from .scoring import direction_of, target_for
from .spc import spc_settings

COLUMNS = ["rank", "department", "metric", "label", "period", "value", "prior",
           "change_prior", "year_ago", "change_year", "method", "chart", "mean", "lower",
           "upper", "sigma", "distance", "rules", "signals", "variation", "assurance",
           "assurance_text", "target", "flagged", "reason", "moved"]


def default_metrics() -> list[str]:
    """The metrics "what moved" judges: the scorecard's, plus the overdue share."""
    return [m for m in scorecard_ids() if m in METRICS] + ["overdue_share"]


def assess_trend(trend: pd.DataFrame, department, metric: str, *, spc=None,
                 partial: bool = False) -> Assessment:
    """One metric of one department judged on its trend (long form of
    :func:`stat_lib.metrics.trend`), with the department's target, direction and
    ``spc:`` settings laid over the city's ``spc`` (a ``params.models.Spc``)."""
    series = trend[trend["metric"] == metric]
    if "period_start" in series.columns:
        series = series.sort_values("period_start")
    t = target_for(department, metric) if department is not None else None
    direction = direction_of(department, metric) if department is not None else \
        metric_def(metric).direction
    return assess(series, metric, direction=direction, target=t.target if t else None,
                  settings=spc_settings(spc, department), partial=partial)


def period_is_partial(params, period) -> bool:
    """The period is not complete: a period to date, or the city's data (every department:
    a quiet department's last request says nothing) ends before the period does."""
    from ..store import latest_change
    if period.is_to_date:
        return True
    latest = latest_change(params)
    return latest is not None and latest < period.end


def since_data_start(trend: pd.DataFrame, first, tz: str) -> pd.DataFrame:
    """The trend from the period holding the first request on: a period before the data
    began reads 0 requests, which is no measurement, and would pull the baseline down."""
    if trend.empty or first is None or pd.isna(first):
        return trend
    kind = Period.parse(str(trend["period"].iloc[0])).kind
    start = Period.containing(first, kind, tz).start
    return trend[pd.to_datetime(trend["period_start"]) >= start]


def what_moved(trends: pd.DataFrame, departments: dict | None = None,
               metrics: list[str] | None = None, *, spc=None,
               partial: bool = False) -> pd.DataFrame:
    """Every department x metric of ``trends`` judged; signals first, ranked.

    Parameters
    ----------
    trends : DataFrame
        Long form of :func:`stat_lib.metrics.trend` (``department, period, period_start,
        metric, value, numerator, denominator``), enough periods to fill the baseline.
    departments : dict of slug -> params.Department, optional
        Targets, good directions and ``spc:`` overrides.
    spc : params.models.Spc, optional
        The city's ``spc:`` settings (default 24 baseline periods, 12 points needed).
    partial : bool
        The latest period is to date: shown, never judged.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`; ``rank`` is 1.. for flagged rows (NaN otherwise); ``rules`` and
        ``signals`` are ``'; '``-joined; ``lower``/``upper`` are the limits the rules used.
    """
    ids = metrics or default_metrics()
    rows = []
    for (dept, metric), g in trends[trends["metric"].isin(ids)].groupby(
            ["department", "metric"], sort=False):
        d = (departments or {}).get(dept)
        a = assess_trend(g, d, metric, spc=spc, partial=partial)
        rows.append(moved_row(g.sort_values("period_start"), dept, metric, a))
    return ranked(rows)


def ranked(rows: list[dict]) -> pd.DataFrame:
    """Rows of :func:`moved_row` as the memo ranks them: concerning, improving, the rest;
    then by distance from the mean in sigmas."""
    out = pd.DataFrame(rows, columns=COLUMNS[1:])
    out["_order"] = [SPECIAL.index(v) if v in SPECIAL else len(SPECIAL)
                     for v in out["variation"]]
    out = out.sort_values(["_order", "distance"], ascending=[True, False],
                          na_position="last").drop(columns="_order")
    out.insert(0, "rank", np.where(out["flagged"], np.arange(1, len(out) + 1), np.nan))
    return out.reset_index(drop=True)


def moved_row(g: pd.DataFrame, dept: str, metric: str, a: Assessment,
              label: str | None = None) -> dict:
    """One judged metric as a row of :data:`COLUMNS` (``g``: its trend, oldest first)."""
    values = g["value"].to_numpy(dtype=float)
    value = values[-1] if len(values) else np.nan
    prior = values[-2] if len(values) > 1 else np.nan
    year_label = Period.parse(g["period"].iloc[-1]).year_ago().label
    year_rows = g.loc[g["period"] == year_label, "value"]
    year = float(year_rows.iloc[0]) if len(year_rows) else np.nan
    moved = "up" if value > prior else "down" if value < prior else "flat"
    return {"department": dept, "metric": metric, "label": label or metric_def(metric).label,
            "period": g["period"].iloc[-1], "value": value, "prior": prior,
            "change_prior": value - prior, "year_ago": year, "change_year": value - year,
            "method": a.method, "chart": a.chart, "mean": a.mean, "lower": a.lower,
            "upper": a.upper, "sigma": a.sigma, "distance": a.distance,
            "rules": "; ".join(a.rules), "signals": "; ".join(a.signals),
            "variation": a.variation, "assurance": a.assurance,
            "assurance_text": a.assurance_text, "target": a.target, "flagged": a.special,
            "reason": a.reason, "moved": moved}
