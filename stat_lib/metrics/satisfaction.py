"""The ``surveys`` kind: residents' satisfaction with a margin of error, and how it is judged.

**Share satisfied** (metric ``satisfaction``) of a group of responses (a department's, or a
district's, in one quarter): numerator = the summed weights of the responses whose answer is
one of city.yaml ``survey.satisfied`` (default the top two points of the scale, "top-two
box"), denominator = the summed weights of all stored responses of the group (weight 1 when the
export has none). Excluded: rejected rows (off the scale, unreadable, unknown department,
negative weight: kept with their reason in ``survey_rejects``).

**95% margin of error**: ``m = 1.96 x sqrt(p (1 - p) / n_eff)`` with ``p`` the (weighted)
share and ``n_eff`` Kish's effective sample size ``(sum w)^2 / sum w^2`` (``n`` itself when
every weight is equal). 100 responses at 50% give 1.96 x sqrt(0.25 / 100) = 9.8 points.
Fewer responses than ``survey.min_responses`` (default 30) are **too few to judge**: shown,
never given a status or a change.

**Status** against the department's ``targets.satisfaction``: *met* only when the whole
interval ``[p - m, p + m]`` lies above the target, *missed* only when it lies wholly below,
otherwise *too close to call*.

**What moved** (method ``survey_margin``): the latest survey quarter against the one before;
a change counts only when ``|p1 - p0| > sqrt(m1^2 + m0^2)`` (the combined margin), else "no
change beyond the combined margin of error".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..core.periods import Period
from .methods import (CONCERNING, IMPROVING, MET_BEYOND_MARGIN, MISSED_BEYOND_MARGIN,
                      NO_VERDICT, NOT_JUDGED, TOO_CLOSE, TOO_FEW, WITHIN_MARGIN, Assessment,
                      Method, register_method)
from .registry import Metric, register

Z = 1.96  # 95% confidence
GROUP_COLUMNS = ["group", "responses", "satisfied", "share", "n_eff", "margin", "too_few"]
STATUS_TEXT = {"met": "met", "missed": "missed", TOO_CLOSE: "too close to call",
               TOO_FEW: "too few to judge", None: "no target"}

register(Metric("satisfaction", "Residents satisfied (survey)", "rate", "higher",
                "numerator: summed weights of responses answering a `survey.satisfied` point "
                "(default top-two box); denominator: summed weights of the group's stored "
                "responses in the quarter; excluded: rejected rows (survey_rejects); 95% "
                "margin 1.96 x sqrt(p(1-p)/n_eff), n_eff = (sum w)^2 / sum w^2",
                kind="surveys", method="survey_margin"))


def effective_n(weights) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when there is no weight)."""
    w = np.asarray(weights, dtype=float)
    sq = float((w ** 2).sum())
    return float(w.sum()) ** 2 / sq if sq else 0.0


def margin_of_error(share: float, n_eff: float) -> float:
    """``1.96 x sqrt(p (1 - p) / n_eff)`` (NaN with no response)."""
    if not n_eff or share is None or pd.isna(share):
        return float("nan")
    return Z * math.sqrt(share * (1 - share) / n_eff)


def share_satisfied(answers, weights, satisfied) -> tuple[float, float, float]:
    """``(share, n_eff, margin)`` of one group: the weighted share answering a point of
    ``satisfied``, Kish's effective n and the 95% margin (NaN share when no weight)."""
    a, w = np.asarray(answers), np.asarray(weights, dtype=float)
    total = float(w.sum())
    share = float(w[np.isin(a, list(satisfied))].sum()) / total if total else float("nan")
    n_eff = effective_n(w)
    return share, n_eff, margin_of_error(share, n_eff)


def judge(share, margin, responses, target, min_responses: int):
    """``'met'``, ``'missed'``, :data:`TOO_CLOSE`, :data:`TOO_FEW` or None (no target): met
    only when the whole interval is above the target, missed only when wholly below."""
    if responses < min_responses or pd.isna(share):
        return TOO_FEW
    return None if target is None else against(share, margin, target)


def against(share: float, margin: float, target: float) -> str:
    """The interval ``[share - margin, share + margin]`` against ``target``."""
    if share - margin > target:
        return "met"
    if share + margin < target:
        return "missed"
    return TOO_CLOSE


# -- views -----------------------------------------------------------------------------------

def survey_quarter(period: Period, tz: str) -> Period:
    """The latest complete quarter at ``period``'s end: the survey period a packet shows
    (2026-10 -> 2026-Q3; 2026-Q3 -> 2026-Q3)."""
    end = period.end
    q = Period.containing(end - pd.Timedelta(microseconds=1), "quarter", tz)
    return q if q.end <= end else q.prior()


def in_quarter(responses: pd.DataFrame, quarter: Period) -> pd.DataFrame:
    at = responses["responded_at"]
    return responses[(at >= quarter.start) & (at < quarter.end)]


def by_group(responses: pd.DataFrame, survey, column: str | None = None) -> pd.DataFrame:
    """Per value of ``column`` (the whole frame as one group when None): :data:`GROUP_COLUMNS`
    (``satisfied`` is the weighted numerator)."""
    keys = responses[column].fillna("(no district)") if column else \
        pd.Series("all", index=responses.index)
    rows = []
    for key, g in responses.groupby(keys, sort=True):
        share, n_eff, margin = share_satisfied(g["answer"], g["weight"], survey.satisfied_points)
        w = g["weight"].to_numpy(dtype=float)
        rows.append({"group": key, "responses": len(g),
                     "satisfied": float(w[g["answer"].isin(survey.satisfied_points)].sum()),
                     "share": share, "n_eff": n_eff, "margin": margin,
                     "too_few": len(g) < survey.min_responses})
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def satisfaction_trend(responses: pd.DataFrame, survey, quarter: Period, department: str,
                       n: int = 8) -> pd.DataFrame:
    """The department's figure per quarter, the ``n`` to ``quarter`` (long form of
    :func:`stat_lib.metrics.trend` plus ``responses, n_eff, margin, too_few``)."""
    rows = []
    for q in quarter.trailing(n):
        got = by_group(in_quarter(responses, q), survey)
        r = got.iloc[0] if len(got) else None
        rows.append({"department": department, "period": q.label, "period_start": q.start,
                     "metric": "satisfaction",
                     "value": float(r["share"]) if r is not None else np.nan,
                     "numerator": float(r["satisfied"]) if r is not None else np.nan,
                     "denominator": float(r["n_eff"]) if r is not None else np.nan,
                     "responses": int(r["responses"]) if r is not None else 0,
                     "margin": float(r["margin"]) if r is not None else np.nan,
                     "too_few": bool(r["too_few"]) if r is not None else True})
    return pd.DataFrame(rows)


def recent_comments(responses: pd.DataFrame, quarter: Period, n: int = 4) -> pd.DataFrame:
    """The ``n`` latest non-empty comments of ``quarter``: ``responded_at, district, answer,
    comment`` (internal packets only: a comment can name a person)."""
    got = in_quarter(responses, quarter)
    got = got[got["comment"].fillna("").str.strip() != ""]
    return got.sort_values("responded_at", ascending=False).head(n)[
        ["responded_at", "district", "answer", "comment"]].reset_index(drop=True)


# -- the method ------------------------------------------------------------------------------

def assess_margin(series: pd.DataFrame, *, metric: str, unit: str, direction=None,
                  target=None, settings=None, partial: bool = False) -> Assessment:
    """Method ``survey_margin``: the latest quarter against the one before (see the module).

    ``series`` is :func:`satisfaction_trend` (oldest first). ``lower``/``upper`` are the
    latest figure's 95% interval, ``mean`` the previous quarter's figure, ``distance`` the
    change in combined margins; the assurance verdict comes from :func:`judge`."""
    s = series.reset_index(drop=True)
    base = {"method": "survey_margin", "chart": "survey", "direction": direction,
            "target": target, "points": s}
    if s.empty:
        return Assessment(variation=NO_VERDICT, reason="no survey responses", **base)
    last = s.iloc[-1]
    p1, m1 = float(last["value"]), float(last["margin"])
    interval = {"value": p1, "lower": p1 - m1, "upper": p1 + m1, "sigma": m1 / Z}
    too_few = bool(last["too_few"])
    assurance = _assurance(p1, m1, too_few, target)
    if partial:
        return Assessment(variation=NOT_JUDGED, assurance=assurance, **interval, **base)
    if too_few:
        return Assessment(variation=NO_VERDICT, assurance=assurance, reason=(
            f"{int(last['responses'])} responses in {last['period']}: too few to judge"),
            **interval, **base)
    prev = s.iloc[-2] if len(s) > 1 else None
    if prev is None or bool(prev["too_few"]):
        return Assessment(variation=NO_VERDICT, assurance=assurance, reason=(
            "too few responses the quarter before to compare"), **interval, **base)
    p0, m0 = float(prev["value"]), float(prev["margin"])
    change, combined = p1 - p0, math.hypot(m1, m0)
    common = {**interval, **base, "mean": p0, "distance": abs(change) / combined,
              "assurance": assurance}
    if abs(change) <= combined:
        return Assessment(variation=WITHIN_MARGIN, reason=(
            f"{_points(change)} since {prev['period']}, within the combined margin of "
            f"±{combined * 100:.1f} points"), **common)
    better = (change > 0) == (direction != "lower")
    signal = (f"{'up' if change > 0 else 'down'} {abs(change) * 100:.1f} points in "
              f"{last['period']} from {p0:.0%} in {prev['period']}, beyond the combined "
              f"margin of ±{combined * 100:.1f} points")
    return Assessment(variation=IMPROVING if better else CONCERNING,
                      rules=("beyond_combined_margin",), signals=(signal,), **common)


def _assurance(p, m, too_few: bool, target):
    if target is None or too_few:
        return None if target is None else TOO_FEW
    verdict = against(p, m, target)
    return {"met": MET_BEYOND_MARGIN, "missed": MISSED_BEYOND_MARGIN}.get(verdict, verdict)


def _points(change: float) -> str:
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.1f} points"


register_method(Method("survey_margin", "a survey share with its 95% margin of error: a "
                       "change counts beyond the combined margin sqrt(m1^2 + m2^2); a target "
                       "is met or missed only when the whole interval clears it",
                       assess_margin))
