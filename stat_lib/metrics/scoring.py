"""Targets and status, trend direction, scorecards and CityScore.

- **status**: with a target ``T``, direction and tolerance ``tol`` (fraction of T): *higher is
  better*: met when value >= T, near when value >= T x (1 - tol), else missed; *lower is better*:
  met when value <= T, near when value <= T x (1 + tol), else missed; ``n/a`` without a value or
  a target.
- **trend direction** over the last three periods ``a, b, c``: each step (a->b, b->c) is good, bad
  or flat (|change| <= 1% of the larger magnitude); improving when no step is bad and one is
  good, worsening when no step is good and one is bad, else steady; ``n/a`` with fewer than three
  values or no good direction.
- **CityScore**: a metric's score is actual/target (target/actual when lower is better), capped at
  ``results.cityscore_cap``; department, strategic result and city scores are unweighted means of
  their metrics' scores.
"""

from __future__ import annotations

import math

import pandas as pd

from ..params.models import Department, Target
from .registry import format_value, metric_def, scorecard_ids

FLAT = 0.01


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def status(value, target: Target | None) -> str:
    """``'met'``, ``'near'``, ``'missed'`` or ``'n/a'`` for ``value`` against ``target``."""
    if target is None or _missing(value):
        return "n/a"
    t, tol = target.target, target.tolerance
    if target.direction == "higher":
        return "met" if value >= t else "near" if value >= t * (1 - tol) else "missed"
    return "met" if value <= t else "near" if value <= t * (1 + tol) else "missed"


def trend_direction(values, direction: str | None) -> str:
    """``'improving'``, ``'worsening'``, ``'steady'`` or ``'n/a'`` over the last three values."""
    last = [v for v in list(values)[-3:]]
    if direction is None or len(last) < 3 or any(_missing(v) for v in last):
        return "n/a"
    sign = 1 if direction == "higher" else -1
    steps = [_step(a, b) * sign for a, b in zip(last, last[1:])]
    if min(steps) >= 0 and max(steps) > 0:
        return "improving"
    if max(steps) <= 0 and min(steps) < 0:
        return "worsening"
    return "steady"


def _step(a: float, b: float) -> int:
    if abs(b - a) <= FLAT * max(abs(a), abs(b)):
        return 0
    return 1 if b > a else -1


def target_for(department: Department, metric: str) -> Target | None:
    """The department's target for ``metric`` (a standard's own ``target`` for its compliance)."""
    if metric in department.targets:
        return department.targets[metric]
    if metric.startswith("standard_compliance."):
        sid = metric.split(".", 1)[1]
        for st in department.standards:
            if st.id == sid and st.target is not None:
                return Target(target=st.target, direction="higher")
    return None


def direction_of(department: Department, metric: str) -> str | None:
    """The good direction: the target's, else the metric's default."""
    t = target_for(department, metric)
    return t.direction if t else metric_def(metric).direction


# ---- scorecard --------------------------------------------------------------------------------

def scorecard(summary_now: dict, summary_prior: dict | None, summary_year_ago: dict | None,
              trend: pd.DataFrame | None, department: Department,
              metrics: list[str] | None = None) -> pd.DataFrame:
    """One row per metric: this period, prior, same period last year, target, status, trend.

    Parameters
    ----------
    summary_now, summary_prior, summary_year_ago : dict
        :func:`stat_lib.metrics.department_summary` of the period, the prior period and the same
        period a year earlier (None when unavailable).
    trend : DataFrame
        :func:`stat_lib.metrics.trend` (long form); gives the trend direction.
    metrics : list of str, optional
        Metric ids in display order; default the registry's scorecard metrics plus every
        targeted metric.

    Returns
    -------
    DataFrame
        ``metric, label, unit, value, prior, year_ago, change_prior, change_year, target,
        direction, status, trend`` and ``display`` (formatted value, "n/a" when missing).
    """
    ids = metrics or list(dict.fromkeys([*scorecard_ids(), *department.targets]))
    rows = []
    for m in ids:
        if m not in summary_now:
            continue
        d, t = metric_def(m), target_for(department, m)
        value = summary_now[m]
        prior = (summary_prior or {}).get(m)
        year = (summary_year_ago or {}).get(m)
        rows.append({"metric": m, "label": d.label, "unit": d.unit, "value": value,
                     "prior": prior, "year_ago": year, "change_prior": _diff(value, prior),
                     "change_year": _diff(value, year), "target": t.target if t else None,
                     "direction": direction_of(department, m), "status": status(value, t),
                     "trend": trend_direction(_series(trend, m), direction_of(department, m)),
                     "display": format_value(value, d.unit)})
    return pd.DataFrame(rows)


def department_scorecard(requests, department: Department, period, calendar,
                         n: int = 13, metrics: list[str] | None = None):
    """The scorecard and trend of one department in one pass.

    The :func:`stat_lib.metrics.trend` of ``n`` periods supplies this period, the prior one and,
    when the trend reaches back that far (13 months, 5 quarters), the same period a year
    earlier.

    Returns
    -------
    (DataFrame, DataFrame)
        :func:`scorecard` and the trend.
    """
    from .requests import trend as compute_trend
    tr = compute_trend(requests, department, period, calendar, n=n)
    by_period = {p: dict(zip(g["metric"], g["value"])) for p, g in tr.groupby("period", sort=False)}
    now = by_period[period.label]
    prior = by_period.get(period.prior().label)
    year = by_period.get(period.year_ago().label)
    return scorecard(now, prior, year, tr, department, metrics), tr


def _diff(a, b):
    return None if _missing(a) or _missing(b) else a - b


def _series(trend: pd.DataFrame | None, metric: str) -> list:
    if trend is None or trend.empty:
        return []
    return trend.loc[trend["metric"] == metric, "value"].tolist()


# ---- CityScore --------------------------------------------------------------------------------

def metric_score(value, target: float | None, direction: str | None, cap: float) -> float | None:
    """actual/target (target/actual when lower is better), capped; None when undefined.

    A lower-is-better metric at 0 scores the cap; a target of 0 for higher-is-better is undefined.
    """
    if _missing(value) or target is None or _missing(target) or direction is None:
        return None
    if direction == "higher":
        return None if target <= 0 else min(cap, max(value, 0) / target)
    if value <= 0:
        return cap
    return min(cap, target / value)


def cityscore(params, figures: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """CityScore tables from tidy figures (:func:`stat_lib.metrics.tidy.tidy_figures`).

    Each ``period`` (e.g. the month, quarter-to-date and year-to-date windows) is scored apart.

    Returns
    -------
    dict
        ``'metrics'`` (figure rows with a ``score``), ``'departments'``
        (``period, department, result, score, metrics``), ``'results'``
        (``period, result, name, score, metrics``) and ``'city'`` (``period, score, metrics``).
        A score is the unweighted mean of its metrics' scores; None when no metric is scored.
    """
    cap = params.results.cityscore_cap
    scored = figures.copy()
    scored["score"] = [metric_score(v, t, d, cap) for v, t, d in
                       zip(scored["value"], scored["target"], scored["direction"])]
    scored = scored[scored["score"].notna()]
    results = {r.id: r.name for r in params.results.results}
    scored["result"] = scored["department"].map(
        {slug: d.result for slug, d in params.departments.items()})
    keys = ["window", "period"] if "window" in scored.columns else ["period"]
    by_dept = _mean_scores(scored, [*keys, "department", "result"])
    by_result = _mean_scores(scored[scored["result"].notna()], [*keys, "result"])
    by_result.insert(len(keys) + 1, "name", by_result["result"].map(results))
    return {"metrics": scored.reset_index(drop=True), "departments": by_dept,
            "results": by_result, "city": _mean_scores(scored, keys)}


def _mean_scores(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "score", "metrics"])
    grouped = frame.groupby(keys, dropna=False, sort=False)["score"]
    return grouped.agg(score="mean", metrics="count").reset_index()


# "what moved" is judged by each metric's method: stat_lib.metrics.moved (SPC: .spc).
