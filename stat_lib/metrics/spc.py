"""Statistical process control: XmR and Laney p′ charts, four signal rules, two verdicts.

The method of NHS England's "Making Data Count", registered as method ``"spc"``
(:mod:`stat_lib.metrics.methods`). The latest period is judged against limits computed from a
**baseline**: the ``baseline_periods`` periods before it (``params.models.Spc``); a
``seasonal`` metric's baseline is the same month (quarter, week) of earlier years. Periods
without a value are left out; with fewer than ``min_points`` baseline points there is no
verdict, and a partial (to date) period is never judged.

- **XmR** (individuals; counts and durations): centre x̄ = mean of the baseline; mR̄ = mean of
  |x_i - x_(i-1)| over consecutive baseline points; limits x̄ ± 2.66·mR̄; one sigma is a third
  of that, 2.66·mR̄/3 (2.66 = 3/1.128, the d2 constant for ranges of two).
- **Laney p′** (rates with large denominators): p̄ = Σ numerators / Σ denominators of the
  baseline; σp_i = √(p̄(1 - p̄)/n_i); z_i = (p_i - p̄)/σp_i;
  σz = mean |z_i - z_(i-1)| / 1.128;
  one sigma at point i is σp_i·σz and its limits are p̄ ± 3·σp_i·σz, so between-period
  variation (over-dispersion) widens limits that the binomial alone makes too narrow.
- Limits are clipped to values the metric can take (never below 0; a rate never above 1).

Signal rules, each about the latest point (the chart also marks earlier points that fired):

- ``beyond_limit``: the latest point is above the upper or below the lower limit;
- ``run``: the latest 7 or more points on one side of the centre line (a point on it breaks
  the run);
- ``trend``: the latest 6 or more points each higher (or each lower) than the one before;
- ``two_of_three``: the latest point and one of the two before it beyond two sigma on the
  same side.

**Variation**: common cause when no rule fires; otherwise special cause, *improving* when
every signal points the metric's good way, *concerning* when one points the other way
(*neither* without a good direction). **Assurance** (with a target), from the limits at the
latest point: higher is better: lower limit >= target -> consistently met, upper limit <
target -> consistently missed, else hit and miss (mirrored when lower is better). Only under
common cause variation: after a signal the limits describe the process before it changed and
forecast nothing (recalculate them once the change is sustained), so there is no assurance
verdict and the text says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..core.errors import ParamsError
from ..params.models import Spc
from .methods import (COMMON, CONCERNING, HIT_AND_MISS, IMPROVING, MET, MISSED, NEITHER,
                      NO_VERDICT, NOT_JUDGED, Assessment, Method, register_method)
from .registry import METRICS

XMR_LIMIT = 2.66     # limits: mean ± 2.66 x mean moving range
D2 = 1.128           # mean moving range / sigma, for ranges of two points
RUN, TREND = 7, 6    # points in a run on one side / in a steady rise or fall
RULES = {"beyond_limit": "a point beyond a limit",
         "run": f"a run of {RUN} or more on one side of the mean",
         "trend": f"{TREND} or more in a row rising or falling",
         "two_of_three": "2 of 3 beyond two sigma on the same side"}
NON_NEGATIVE = ("count", "rate", "days", "business_days", "dollars", "seconds", "hours",
                "per_hour")


# ---- settings -----------------------------------------------------------------------------

def spc_settings(city_spc: Spc | None, department=None) -> Spc:
    """The city's ``spc:`` with the department's ``spc:`` keys laid over it."""
    base = (city_spc or Spc()).model_dump()
    own = department.spc if department is not None and department.spc else None
    if own is not None:
        base.update(own.model_dump(exclude_unset=True))
    try:
        merged = Spc(**base)
    except ValueError as exc:
        raise ParamsError(f"department {department.slug!r}: spc: {exc}; fix its "
                          f"params/departments/{department.slug}.yaml spc: keys",
                          key="spc") from None
    unknown = [m for m in merged.seasonal if m not in METRICS]
    if unknown:
        raise ParamsError(f"spc: seasonal names unknown metric(s) {', '.join(unknown)}; "
                          f"known metrics: {', '.join(METRICS)}", key="spc.seasonal")
    return merged


def periods_needed(settings: Spc, kind: str = "month") -> int:
    """Trend length that can fill the baseline: baseline + 1, or for seasonal metrics
    ``min_points`` earlier years of the same period + 1."""
    n = settings.baseline_periods + 1
    if settings.seasonal:
        per_year = {"month": 12, "quarter": 4, "week": 52, "year": 1}[kind]
        n = max(n, per_year * settings.min_points + 1)
    return n


# ---- limits -------------------------------------------------------------------------------

def xmr_limits(values) -> dict:
    """XmR centre, sigma and limits of a baseline (``mean, mr_bar, sigma, lower, upper``)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    mr_bar = float(np.abs(np.diff(x)).mean()) if len(x) > 1 else math.nan
    return {"mean": mean, "mr_bar": mr_bar, "sigma": XMR_LIMIT * mr_bar / 3,
            "lower": mean - XMR_LIMIT * mr_bar, "upper": mean + XMR_LIMIT * mr_bar}


def laney_limits(numerators, denominators, at=None) -> dict:
    """Laney p′ centre and per-point sigma and limits.

    ``numerators``/``denominators`` are the baseline's; ``at`` the denominators to give limits
    for (default the baseline's). Returns ``mean`` (p̄), ``sigma_z`` and arrays ``sigma``
    (σp_i·σz), ``lower``, ``upper`` for each of ``at``.
    """
    num, den = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    p_bar = float(num.sum() / den.sum())
    spread = p_bar * (1 - p_bar)
    if spread <= 0:  # every baseline period at 0% or 100%: no binomial spread to scale
        sigma_z = 0.0
    else:
        z = (num / den - p_bar) / np.sqrt(spread / den)
        sigma_z = float(np.abs(np.diff(z)).mean() / D2) if len(z) > 1 else math.nan
    n = den if at is None else np.asarray(at, dtype=float)
    n = np.where(n > 0, n, np.nan)  # a period with no denominator has no limits
    sigma = np.sqrt(max(spread, 0.0) / n) * sigma_z
    return {"mean": p_bar, "sigma_z": sigma_z, "sigma": sigma,
            "lower": p_bar - 3 * sigma, "upper": p_bar + 3 * sigma}


def _clip(lower, upper, unit: str):
    if unit in NON_NEGATIVE:
        lower = np.maximum(lower, 0.0)
    if unit == "rate":
        upper = np.minimum(upper, 1.0)
    return lower, upper


# ---- rules --------------------------------------------------------------------------------

def rule_points(x, mean, sigma, lower, upper) -> dict[str, np.ndarray]:
    """For each rule, the sign of the signal at each point (+1 up, -1 down, 0 none).

    A point carries a rule's sign when it belongs to that rule's pattern ending at or passing
    through it (a whole run, a whole rise); :func:`fired` reads the latest point.
    """
    x = np.asarray(x, dtype=float)
    sigma, lower, upper = (np.broadcast_to(np.asarray(a, dtype=float), x.shape)
                           for a in (sigma, lower, upper))
    beyond = np.where(x > upper, 1, np.where(x < lower, -1, 0))
    side = np.sign(x - mean).astype(int)
    steps = np.sign(np.diff(x)).astype(int)
    return {"beyond_limit": beyond, "run": _streaks(side, RUN),
            "trend": _rises(steps, TREND), "two_of_three": _two_of_three(x, mean, sigma)}


def _streaks(signs: np.ndarray, length: int) -> np.ndarray:
    """Signs kept where they belong to a streak of ``length`` or more equal non-zero signs."""
    out = np.zeros(len(signs), dtype=int)
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0 and i - start >= length:
                out[start:i] = signs[start]
            start = i
    return out


def _rises(steps: np.ndarray, points: int) -> np.ndarray:
    """Point signs of streaks of ``points - 1`` or more equal steps (``points`` points)."""
    out = np.zeros(len(steps) + 1, dtype=int)
    marked = _streaks(steps, points - 1)
    for i, s in enumerate(marked):
        if s:
            out[i] = out[i + 1] = s
    return out


def _two_of_three(x, mean, sigma) -> np.ndarray:
    out = np.zeros(len(x), dtype=int)
    for sign, far in ((1, x > mean + 2 * sigma), (-1, x < mean - 2 * sigma)):
        for i in range(len(x)):
            window = far[max(0, i - 2):i + 1]
            if far[i] and window.sum() >= 2:
                out[max(0, i - 2):i + 1][window] = sign
    return out


def fired(marks: dict[str, np.ndarray]) -> dict[str, int]:
    """The rules that fire at the latest point, with their sign.

    ``two_of_three`` fires only when the latest point is itself beyond two sigma."""
    return {rule: int(m[-1]) for rule, m in marks.items() if len(m) and m[-1]}


def _wording(rule: str, sign: int, marks: dict[str, np.ndarray], x: np.ndarray) -> str:
    up = sign > 0
    if rule == "beyond_limit":
        return "above the upper limit" if up else "below the lower limit"
    if rule == "run":
        return f"{_tail_length(marks[rule])} periods in a row {'above' if up else 'below'} the mean"
    if rule == "trend":  # points = steps + 1 (two rises split by a tie are two streaks)
        k = _tail_length(np.sign(np.diff(x)).astype(int)) + 1
        return f"{k} periods in a row {'rising' if up else 'falling'}"
    return f"2 of the last 3 periods beyond two sigma, {'above' if up else 'below'} the mean"


def _tail_length(mark: np.ndarray) -> int:
    k = 0
    while k < len(mark) and mark[len(mark) - 1 - k] == mark[-1]:
        k += 1
    return k


# ---- the method ---------------------------------------------------------------------------

def assess_spc(series: pd.DataFrame, *, metric: str, unit: str, direction: str | None = None,
               target: float | None = None, settings: Spc | None = None,
               partial: bool = False) -> Assessment:
    """Judge the latest row of ``series`` (see the module docstring)."""
    settings = settings or Spc()
    rate = unit == "rate" and {"numerator", "denominator"} <= set(series.columns)
    chart = "p_prime" if rate else "xmr"
    seasonal = metric in settings.seasonal
    s = series.reset_index(drop=True)
    base = _baseline(s, settings.baseline_periods, seasonal, rate)
    common = dict(method="spc", chart=chart, direction=direction, target=target,
                  baseline_points=len(base), seasonal=seasonal)
    if s.empty:
        return Assessment(variation=NO_VERDICT, reason="no periods", **common)
    last = s.iloc[-1]
    value = float(last["value"]) if pd.notna(last["value"]) else math.nan
    judged = s.iloc[base + [len(s) - 1]]
    enough = len(base) >= settings.min_points
    lim = _limits(judged, base, s, rate, unit) if enough else None
    points = _points(judged, lim, partial)
    if not enough and not partial:
        reason = (f"{len(base)} {'same-period earlier-year ' if seasonal else ''}baseline "
                  f"points; {settings.min_points} needed")
        return Assessment(variation=NO_VERDICT, value=value, reason=reason, points=points,
                          **common)
    if partial:
        return Assessment(variation=NOT_JUDGED, value=value, points=points,
                          reason="partial period: not judged against full-period limits",
                          **common)
    if math.isnan(value):
        return Assessment(variation=NO_VERDICT, reason="no value this period", points=points,
                          **common)
    x = judged["value"].to_numpy(dtype=float)
    marks = rule_points(x, lim["mean"], lim["sigma"], lim["lower"], lim["upper"])
    points["signal"] = np.any([m != 0 for m in marks.values()], axis=0)
    points["signal_kind"] = _signal_kinds(marks, direction)
    hits = fired(marks)
    low, high, sig = (float(lim[k][-1]) for k in ("lower", "upper", "sigma"))
    return Assessment(
        variation=_variation(hits, direction),
        assurance=None if hits else _assurance(low, high, target, direction),
        rules=tuple(hits), signals=tuple(_wording(r, v, marks, x) for r, v in hits.items()),
        value=value, mean=lim["mean"], lower=low, upper=high, sigma=sig,
        distance=abs(value - lim["mean"]) / sig if sig > 0 else
        (0.0 if value == lim["mean"] else math.inf), points=points, **common)


def _valid(s: pd.DataFrame, rate: bool) -> pd.Series:
    ok = s["value"].notna()
    if rate:
        ok &= s["denominator"].notna() & (s["denominator"] > 0) & s["numerator"].notna()
    return ok


def _baseline(s: pd.DataFrame, n: int, seasonal: bool, rate: bool) -> list[int]:
    """Positions of the baseline rows (before the latest): trailing ``n`` periods, or the same
    season of earlier years; rows without a value left out."""
    if len(s) < 2:
        return []
    earlier = s.iloc[:-1]
    if seasonal:
        season = s["period"].astype(str).str[4:]
        earlier = earlier[season.iloc[:-1] == season.iloc[-1]]
    earlier = earlier.tail(n)
    return [int(i) for i in earlier.index[_valid(earlier, rate)]]


def _limits(judged: pd.DataFrame, base: list[int], s: pd.DataFrame, rate: bool,
            unit: str) -> dict:
    b = s.iloc[base]
    if rate:
        lim = laney_limits(b["numerator"], b["denominator"], judged["denominator"])
    else:
        lim = xmr_limits(b["value"])
        lim = {**lim, **{k: np.full(len(judged), lim[k]) for k in ("sigma", "lower", "upper")}}
    lim["lower"], lim["upper"] = _clip(np.asarray(lim["lower"], dtype=float),
                                       np.asarray(lim["upper"], dtype=float), unit)
    return lim


def _points(judged: pd.DataFrame, lim: dict | None, partial: bool) -> pd.DataFrame:
    n = len(judged)
    columns = {"period": judged["period"].astype(str).to_numpy(),
               "value": judged["value"].to_numpy(dtype=float)}
    for k in ("mean", "lower", "upper", "sigma"):
        columns[k] = np.broadcast_to(lim[k], n).astype(float) if lim else np.full(n, np.nan)
    columns.update(signal=np.zeros(n, dtype=bool), signal_kind=[""] * n,
                   baseline=[True] * (n - 1) + [False], partial=[False] * (n - 1) + [partial])
    return pd.DataFrame(columns)  # one frame, not a column at a time


def _signal_kinds(marks: dict[str, np.ndarray], direction: str | None) -> list[str]:
    """Per point: '' (no signal), 'improving', 'concerning' or 'neither' (no good direction)."""
    signs = np.stack(list(marks.values()))
    kinds = []
    for col in signs.T:
        hits = {str(i): int(v) for i, v in enumerate(col) if v}
        kinds.append(_variation(hits, direction).replace("special_cause_", "") if hits else "")
    return kinds


def _variation(hits: dict[str, int], direction: str | None) -> str:
    if not hits:
        return COMMON
    if direction is None:
        return NEITHER
    good = 1 if direction == "higher" else -1
    return IMPROVING if all(v == good for v in hits.values()) else CONCERNING


def _assurance(lower: float, upper: float, target: float | None, direction: str | None):
    if target is None or direction is None or math.isnan(lower) or math.isnan(upper):
        return None
    if direction == "higher":
        return MET if lower >= target else MISSED if upper < target else HIT_AND_MISS
    return MET if upper <= target else MISSED if lower > target else HIT_AND_MISS


register_method(Method("spc", "statistical process control: XmR charts for counts and "
                       "durations, Laney p′ charts for rates; four signal rules", assess_spc))
