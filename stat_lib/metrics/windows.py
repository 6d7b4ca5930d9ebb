"""Period windows: the one definition of "created in", "ended in", "open at" and their kin.

Every rule is written once, on int64 nanosecond arrays (missing instants are ``NEVER``, after
every instant); :class:`Window` holds one period's masks over a prepared department, computed
on first use, and the frame helpers (:func:`open_at`, :func:`created_in`, :func:`ended_in`,
:func:`closed_in`) apply the same rules to a prepared frame's columns.

- **created in** ``[s, e)``: ``s <= requested_at < e``;
- **ended in** ``(s, e]``: the end is after ``s`` and at or before ``e``; a request whose end is
  not after its creation (zero or negative duration) ends in the period of its creation;
- **open at t**: ``requested_at < t`` and not ended at or before ``t``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..core.periods import Period

NEVER = np.iinfo(np.int64).max


def ints(ts: pd.Series) -> np.ndarray:
    """tz-aware timestamps -> int64 ns since the epoch; NaT -> NEVER (after every instant)."""
    values = ts.dt.as_unit("ns").array.asi8.copy()
    values[ts.isna().to_numpy()] = NEVER
    return values


def ns(ts) -> int:
    return pd.Timestamp(ts).as_unit("ns").value


def bounds(period: Period, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of ``period`` (given the city's timezone when it has none)."""
    if period.tz is None:
        period = period.with_tz(tz)
    return period.start, period.end


# ---- the rules ------------------------------------------------------------------------------

def created_mask(req: np.ndarray, s: int, e: int) -> np.ndarray:
    return (req >= s) & (req < e)


def ended_mask(req, end, has_end, pos, s: int, e: int) -> np.ndarray:
    """Ended in ``(s, e]``; zero/negative durations count in their creation's period."""
    return has_end & np.where(pos, (end > s) & (end <= e), created_mask(req, s, e))


def open_mask(req: np.ndarray, end: np.ndarray, t: int) -> np.ndarray:
    """Open at ``t``: requested before ``t`` and not ended at or before ``t``."""
    return (req < t) & ~(end <= t)


def relevant(req: np.ndarray, end: np.ndarray, s: int, e: int) -> np.ndarray:
    """Positions of the rows a mask of ``[s, e)`` can select: requested before ``e``, and
    ended after ``s`` or created in the period (created: ``req >= s``; ended: the end after
    ``s``, or a zero/negative duration created in it; open at ``s`` or ``e``: not ended by
    ``s``). Any other row is in no mask, so a window over these rows alone has the same
    values."""
    return np.flatnonzero((req < e) & ((end > s) | (req >= s)))


# ---- one period over a prepared department --------------------------------------------------

class Window:
    """The masks of one period over prepared arrays (``Prepared.arrays`` or a row subset).

    Metrics (:mod:`stat_lib.metrics.registry`) compute from these masks; each is built once.
    """

    def __init__(self, arrays: dict, period: Period, tz: str, as_of: pd.Timestamp):
        self.a, self.period, self.tz, self.as_of = arrays, period, tz, as_of
        self.s, self.e = (ns(t) for t in bounds(period, tz))
        self._values: dict = {}
        self.source: dict | None = None  # the rows ``a`` was cut from (``cut``)

    @classmethod
    def cut(cls, arrays: dict, period: Period, tz: str, as_of: pd.Timestamp) -> Window:
        """The window of ``period`` over only the rows of ``arrays`` its masks can select
        (:func:`relevant`: a month of a long history is a few percent of it): the same metric
        values for less work. Its masks are on those rows, not on ``arrays``: for values only.
        """
        w = cls(arrays, period, tz, as_of)
        rows = relevant(arrays["req"], arrays["end"], w.s, w.e)
        w.a, w.source = {k: v[rows] for k, v in arrays.items()}, arrays
        return w

    def other(self, period: Period) -> Window:
        """The same rows over another period (a cut window cuts its own from the source)."""
        if self.source is not None:
            return Window.cut(self.source, period, self.tz, self.as_of)
        return Window(self.a, period, self.tz, self.as_of)

    @cached_property
    def prior(self) -> Window:
        return self.other(self.period.prior())

    @cached_property
    def year_ago(self) -> Window:
        return self.other(self.period.year_ago())

    def value(self, metric: str):
        """The registered metric ``metric`` on this window (computed once)."""
        from .registry import METRICS
        return self.memo(metric, lambda: METRICS[metric].value(self))

    def memo(self, key: str, compute):
        """``compute()``, once per window (metrics share intermediate results through it)."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    @cached_property
    def created(self) -> np.ndarray:
        return created_mask(self.a["req"], self.s, self.e)

    @cached_property
    def ended(self) -> np.ndarray:
        a = self.a
        return ended_mask(a["req"], a["end"], a["has_end"], a["pos"], self.s, self.e)

    @cached_property
    def closed(self) -> np.ndarray:
        return self.ended & self.a["closed"]

    @cached_property
    def negative(self) -> np.ndarray:
        return self.ended & self.a["neg"]

    @cached_property
    def usable(self) -> np.ndarray:
        """Closed in the period, not duplicate, duration >= 0 (on-time and duration figures)."""
        return self.closed & ~self.a["dup"] & ~self.negative

    @cached_property
    def eligible(self) -> np.ndarray:
        """Usable with a due time: the on-time rate's denominator."""
        return self.usable & self.a["has_due"]

    @cached_property
    def open_start(self) -> np.ndarray:
        return open_mask(self.a["req"], self.a["end"], self.s)

    @cached_property
    def open_end(self) -> np.ndarray:
        return open_mask(self.a["req"], self.a["end"], self.e)

    @cached_property
    def overdue_end(self) -> np.ndarray:
        return self.open_end & (self.a["due"] < self.e)


# ---- the same rules on a prepared frame -----------------------------------------------------

def _series(mask: np.ndarray, df: pd.DataFrame) -> pd.Series:
    return pd.Series(mask, index=df.index, dtype=bool)


def open_at(df: pd.DataFrame, t: pd.Timestamp) -> pd.Series:
    """Open at ``t`` (prepared frame: ``_req``, ``_end``)."""
    return _series(open_mask(ints(df["_req"]), ints(df["_end"]), ns(t)), df)


def created_in(df: pd.DataFrame, s, e) -> pd.Series:
    return _series(created_mask(ints(df["_req"]), ns(s), ns(e)), df)


def ended_in(df: pd.DataFrame, s, e) -> pd.Series:
    """Ended in ``(s, e]``; zero/negative durations count in their creation's period."""
    end = ints(df["_end"])
    mask = ended_mask(ints(df["_req"]), end, end != NEVER, df["_pos"].to_numpy(dtype=bool),
                      ns(s), ns(e))
    return _series(mask, df)


def closed_in(df: pd.DataFrame, s, e) -> pd.Series:
    return ended_in(df, s, e) & (df["status"] == "closed")
