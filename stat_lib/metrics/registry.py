"""The metric registry: one entry per metric, the one place a metric is defined.

An entry gives the metric's id, label, unit, good direction, definition (numerator,
denominator, exclusions) and its computation on a :class:`~stat_lib.metrics.windows.Window`
(the period masks of one prepared department). A rate names its numerator and denominator
metrics and is computed from them. ``scorecard`` marks the default scorecard rows and ``tile``
the headline tiles (with the tile's wording), in registration order. ``method`` names how the
metric is judged over time (:mod:`stat_lib.metrics.methods`; ``"spc"`` by default). Metrics of
a dataset kind are registered by that kind's module (``stat_lib.metrics.requests`` for
``requests``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..core.errors import MetricError
from ..core.kinds import get_kind

Unit = Literal["count", "rate", "days", "business_days", "dollars", "seconds", "hours",
               "per_hour"]


@dataclass(frozen=True)
class Metric:
    """One metric.

    ``compute(window)`` returns the value (None when undefined); None for a family computed
    per item by its own report (``standard_compliance.<id>``: :mod:`stat_lib.metrics.standards`).
    """

    id: str
    label: str
    unit: Unit
    direction: Literal["higher", "lower"] | None
    description: str
    kind: str = "requests"
    compute: Callable | None = None
    numerator: str | None = None
    denominator: str | None = None
    scorecard: bool = False
    tile: str | None = None
    method: str | None = "spc"  # how "what moved" judges it (stat_lib.metrics.methods)

    def value(self, window):
        """This metric on ``window``; a rate from its parts (None when the denominator is 0)."""
        if self.numerator:
            return rate(window.value(self.numerator), window.value(self.denominator))
        return self.compute(window)


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add a metric (ids are unique and contain no '.'; see :func:`check`)."""
    get_kind(metric.kind)
    if metric.id in METRICS or "." in metric.id:
        raise ValueError(f"metric id {metric.id!r} is registered twice or contains '.'")
    METRICS[metric.id] = metric
    return metric


def check() -> None:
    """Every rate's numerator and denominator is a registered metric of the same kind."""
    for m in METRICS.values():
        for part in (m.numerator, m.denominator):
            if part is not None and (part not in METRICS or METRICS[part].kind != m.kind):
                raise ValueError(f"rate {m.id!r} names {part!r}, not a {m.kind} metric")


def metric_def(metric: str) -> Metric:
    """The definition of ``metric`` (``standard_compliance.<id>`` resolves to its family)."""
    base = metric.split(".", 1)[0]
    if base not in METRICS:
        raise MetricError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")
    return METRICS[base]


def computed(kind: str = "requests") -> list[Metric]:
    """The metrics of ``kind`` with a computation on a window, in registration order."""
    return [m for m in METRICS.values() if m.kind == kind and
            (m.compute is not None or m.numerator is not None)]


def rate_parts() -> dict[str, tuple[str, str]]:
    """rate id -> (numerator id, denominator id)."""
    return {m.id: (m.numerator, m.denominator) for m in METRICS.values() if m.numerator}


def scorecard_ids() -> list[str]:
    """The default scorecard rows, in order."""
    return [m.id for m in METRICS.values() if m.scorecard]


def tiles() -> list[tuple[str, str]]:
    """The headline tiles: (metric id, tile wording), in order."""
    return [(m.id, m.tile) for m in METRICS.values() if m.tile]


def rate(num, den) -> float | None:
    """``num / den``; None (rendered "n/a") when the denominator is 0, never 0 or 100%."""
    return None if not den else num / den


def change(value, before, unit: str) -> float | None:
    """How ``value`` moved from ``before``: the difference for a rate (in rate units; a
    display shows points), the relative change otherwise; None when either is missing or a
    relative change would divide by 0."""
    if value is None or before is None or pd.isna(value) or pd.isna(before):
        return None
    if unit == "rate":
        return value - before
    return None if before == 0 else value / before - 1


def format_value(value, unit: str) -> str:
    """Display text: ``'87.5%'``, ``'3.2 days'``, ``'1,204'``, ``'$350'``, ``'3 min 45 s'``,
    ``'8.1'`` (hours, per hour); ``'n/a'`` for NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if unit == "rate":
        return f"{value:.1%}"
    if unit in ("days", "business_days"):
        return f"{value:,.1f} {'business days' if unit == 'business_days' else 'days'}"
    if unit == "dollars":
        return f"${value:,.0f}"
    if unit == "seconds":  # 28 s; 3 min 45 s
        whole = round(value)
        return f"{whole} s" if whole < 90 else f"{whole // 60} min {whole % 60:02d} s"
    if unit in ("hours", "per_hour"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"
