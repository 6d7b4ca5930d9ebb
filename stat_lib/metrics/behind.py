"""The requests behind a figure: for each ``requests`` metric, the rows it counts or measures.

Each entry is a mask on a :class:`~stat_lib.metrics.windows.Window` built from the same masks
the metric's ``compute`` uses, so ``behind(...)`` of a count metric has exactly as many rows as
the metric's value (``tests/test_explore.py`` checks every one on the hand-worked fixture):

- a **count** (``created``, ``overdue_open`` ...): the rows it counts;
- a **rate** (``on_time_rate``, ``overdue_share`` ...): its denominator's rows, with a boolean
  ``in_numerator`` column (the numerator's rows are those with ``True``);
- a **duration** (``median_days_to_close`` ...): the closures it is computed over;
- a **change** (``created_change_prior``, ``created_change_year``): this period's created rows.

The standards family (``standard_compliance`` ...) is per standard
(:func:`stat_lib.metrics.standards_report`) and has no list here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import MetricError
from .prepare import Prepared
from .registry import METRICS, metric_def
from .requests import cohort_masks
from .windows import Window


def _on_time(w: Window) -> np.ndarray:
    return w.eligible & (w.a["end"] <= w.a["due"])


def _cohort(name: str):
    return lambda w: cohort_masks(w)[name]


MASKS = {
    "created": lambda w: w.created,
    "closed": lambda w: w.closed,
    "cancelled": lambda w: w.ended & w.a["cancelled"],
    "duplicates_closed": lambda w: w.closed & w.a["dup"],
    "negative_durations": lambda w: w.negative,
    "undated_closures": lambda w: w.ended & w.a["undated"],
    "no_sla_closed": lambda w: w.usable & ~w.a["has_due"],
    "on_time_met": _on_time,
    "on_time_eligible": lambda w: w.eligible,
    "cohort_on_time_met": _cohort("met"),
    "cohort_eligible": lambda w: cohort_masks(w)["met"] | cohort_masks(w)["late"],
    "cohort_pending": _cohort("pending"),
    "backlog_start": lambda w: w.open_start,
    "backlog_open": lambda w: w.open_end,
    "overdue_open": lambda w: w.overdue_end,
    "backlog_no_sla": lambda w: w.open_end & ~w.a["has_due"],
}
DURATIONS = ("median_days_to_close", "p90_days_to_close", "mean_days_to_close",
             "median_business_days_to_close", "p90_business_days_to_close",
             "mean_business_days_to_close")
CHANGES = ("created_change_prior", "created_change_year")


def supported() -> list[str]:
    """The metric ids :func:`behind` can list, in registration order."""
    rates = [m.id for m in METRICS.values() if m.numerator]
    return [k for k in METRICS if k in MASKS or k in DURATIONS or k in CHANGES or k in rates]


def masks(w: Window, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(rows behind ``metric`` on ``w``, the numerator's rows for a rate else None)."""
    d = metric_def(metric)
    if d.numerator:
        return masks(w, d.denominator)[0], masks(w, d.numerator)[0]
    if metric in MASKS:
        return MASKS[metric](w), None
    if metric in DURATIONS:
        return w.usable, None
    if metric in CHANGES:
        return w.created, None
    raise MetricError(f"no request list behind {metric!r}; lists exist for: "
                      f"{', '.join(supported())} (standards: metrics.standards_report)")


def behind(prep: Prepared, w: Window, metric: str, rows: np.ndarray | None = None
           ) -> pd.DataFrame:
    """The prepared rows behind ``metric`` on window ``w``.

    Parameters
    ----------
    prep : Prepared
        The department's prepared requests.
    w : Window
        A window over ``prep.arrays`` or over the row subset ``prep.arrays[k][rows]``.
    rows : bool array, optional
        The subset of ``prep.frame`` that ``w`` was built on (a slice); default all rows.

    Returns
    -------
    DataFrame
        The prepared rows (canonical columns, ``_due`` ...) plus ``in_numerator`` for a rate,
        ``days_overdue`` (period end - due, days) for requests open at the period's end, and
        ``days_to_close`` for closures.
    """
    frame = prep.frame if rows is None else prep.frame[rows]
    mask, numerator = masks(w, metric)
    out = frame[mask].copy()
    if numerator is not None:
        out["in_numerator"] = numerator[mask]
    end = pd.Timestamp(w.e, unit="ns", tz="UTC").tz_convert(w.tz)
    if metric_def(metric).id in ("backlog_open", "overdue_open", "backlog_no_sla",
                                 "overdue_share"):
        out["days_overdue"] = (end - out["_due"]).dt.total_seconds() / 86400
        out = out.sort_values("days_overdue", ascending=False, na_position="last")
    if metric in DURATIONS or metric in ("closed", "on_time_met", "on_time_eligible",
                                         "on_time_rate", "no_sla_closed"):
        out["days_to_close"] = out["_days"]
    return out
