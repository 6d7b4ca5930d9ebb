"""How a metric is judged: the method registry and the verdicts every method returns.

A metric names its method (:attr:`stat_lib.metrics.registry.Metric.method`, ``"spc"`` for the
operational metrics of ``requests``). A method turns one metric's series (oldest period first)
into an :class:`Assessment`: a **variation** verdict and, with a target, an **assurance**
verdict, plus the limits it used. Other kinds declare their own (a survey result with a margin
of error, say) with :func:`register_method`; "what moved", page one and "moved as promised"
call :func:`assess` and read the verdicts, whatever the method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..core.errors import MetricError
from .registry import metric_def

# variation verdicts
COMMON = "common_cause"
IMPROVING = "special_cause_improving"
CONCERNING = "special_cause_concerning"
NEITHER = "special_cause_neither"  # a signal on a metric with no good direction
NO_VERDICT = "no_verdict"          # too few points, or no value this period
NOT_JUDGED = "not_judged"          # a partial period (to date)
SPECIAL = (CONCERNING, IMPROVING, NEITHER)  # memo order: concerning first
WITHIN_MARGIN = "within_margin"    # a survey change no larger than the combined margin

# assurance verdicts (with a target)
MET = "consistently_met"
MISSED = "consistently_missed"
HIT_AND_MISS = "hit_and_miss"
# assurance of a survey result with a margin of error (stat_lib.metrics.satisfaction)
MET_BEYOND_MARGIN = "met_beyond_margin"
MISSED_BEYOND_MARGIN = "missed_beyond_margin"
TOO_CLOSE = "too_close_to_call"
TOO_FEW = "too_few_to_judge"

PAUSED = "no assurance verdict: the process changed"  # a signal, with a target
VERDICT_TEXT = {COMMON: "common cause variation", IMPROVING: "special cause: improving",
                CONCERNING: "special cause: concerning",
                NEITHER: "special cause: neither better nor worse",
                NO_VERDICT: "no verdict", NOT_JUDGED: "not judged (partial period)",
                MET: "target consistently met", MISSED: "target consistently missed",
                HIT_AND_MISS: "target hit and miss",
                WITHIN_MARGIN: "no change beyond the combined margin of error",
                MET_BEYOND_MARGIN: "target met (the whole margin of error above it)",
                MISSED_BEYOND_MARGIN: "target missed (the whole margin of error below it)",
                TOO_CLOSE: "too close to call (the target is inside the margin of error)",
                TOO_FEW: "too few responses to judge"}


@dataclass(frozen=True)
class Assessment:
    """One metric's verdicts for its latest period.

    ``lower``/``upper`` are exactly the limits the rules used at the latest point (NaN without
    a verdict); ``rules`` the rules that fired there, ``signals`` their wording; ``distance``
    how far the latest value is from the centre line in sigmas; ``reason`` says why there is
    no verdict. ``points`` is the charted series: ``period, value, mean, lower, upper, sigma,
    signal, baseline, partial``.
    """

    method: str
    chart: str
    variation: str
    assurance: str | None = None
    rules: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    value: float = float("nan")
    mean: float = float("nan")
    lower: float = float("nan")
    upper: float = float("nan")
    sigma: float = float("nan")
    distance: float = float("nan")
    direction: str | None = None
    target: float | None = None
    baseline_points: int = 0
    seasonal: bool = False
    reason: str = ""
    points: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)

    @property
    def special(self) -> bool:
        """A signal fired at the latest point."""
        return self.variation in SPECIAL

    def text(self) -> str:
        """The verdicts in words: ``'special cause: concerning (above the upper limit)'``."""
        out = VERDICT_TEXT[self.variation]
        if self.signals:
            out += f" ({'; '.join(self.signals)})"
        elif self.reason:
            out += f" ({self.reason})"
        if self.assurance_text:
            out += f"; {self.assurance_text}"
        return out

    @property
    def assurance_text(self) -> str:
        """``'target consistently met'``; after a signal on a targeted metric, why none."""
        if self.assurance:
            return VERDICT_TEXT[self.assurance]
        return PAUSED if self.special and self.target is not None else ""


@dataclass(frozen=True)
class Method:
    """A way to judge a metric: ``assess(series, *, metric, unit, direction, target, settings,
    partial)`` returns an :class:`Assessment` (see :func:`assess`)."""

    name: str
    description: str
    assess: Callable[..., Assessment]


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add a method (names are unique)."""
    if method.name in METHODS:
        raise ValueError(f"method {method.name!r} is registered twice")
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise MetricError(f"unknown method {name!r}; registered methods: {', '.join(METHODS)}")
    return METHODS[name]


def check_methods(metrics) -> None:
    """Every metric names a registered method (at import of :mod:`stat_lib.metrics`)."""
    for m in metrics.values():
        if m.method is not None and m.method not in METHODS:
            raise ValueError(f"metric {m.id!r} names method {m.method!r}; registered: "
                             f"{', '.join(METHODS)}")


def assess(series: pd.DataFrame, metric: str, *, direction: str | None = None,
           target: float | None = None, settings=None, partial: bool = False) -> Assessment:
    """The verdicts of ``metric`` on ``series`` by the metric's registered method.

    Parameters
    ----------
    series : DataFrame
        One metric of one department, oldest period first: ``period, value`` (and
        ``numerator, denominator`` for a rate), as in :func:`stat_lib.metrics.trend`.
    direction, target : the good direction and the target (None: none).
    settings : params.models.Spc, optional
        Baseline length, minimum points, seasonal metrics (default ``Spc()``).
    partial : bool
        The latest period is not complete (to date): it is shown, never judged.
    """
    d = metric_def(metric)
    if d.method is None:
        raise MetricError(f"metric {metric!r} declares no method; it cannot be judged")
    return get_method(d.method).assess(series, metric=metric, unit=d.unit,
                                       direction=direction, target=target,
                                       settings=settings, partial=partial)
