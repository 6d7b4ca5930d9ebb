"""Frames for reading: the explorer's numbers as the packet writes them (``87.5%``,
``3.2 days``, ``1,204``, ``n/a``), times as local minutes. For display only: compute on the
frames the ``Home`` returns, never on these texts."""

from __future__ import annotations

import pandas as pd

from ..metrics.registry import METRICS, format_value

DAYS = ("days_overdue", "days_to_close")


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with metric columns formatted by their unit, day counts to one
    decimal and timestamps as ``YYYY-MM-DD HH:MM`` (local)."""
    out = frame.copy()
    for col in out.columns:
        if col in METRICS:
            out[col] = [format_value(_plain(v), METRICS[col].unit) for v in out[col]]
        elif col in DAYS:
            out[col] = [format_value(_plain(v), "days") for v in out[col]]
        elif isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return out


def _plain(value):
    return None if value is None or pd.isna(value) else value
