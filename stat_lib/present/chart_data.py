"""altair's data transformer for packet charts: the same values, without pandas' copies.

altair's ``default`` transformer copies each frame and converts it column by column with
pandas (``sanitize_pandas_dataframe``, then ``to_dict(orient="records")``): about a third of
a packet chart's display, for frames of a few rows. :func:`values` builds the same records
from each column's numpy values (floats: NaN and infinities become None; integers and bools:
Python numbers; text: None for missing). Any frame it does not know how to convert
value-for-value (another dtype, object columns among them: pandas re-infers their type
first, so ``["x", None]`` gives ``"x", NaN``; a non-text column name, a MultiIndex, more rows
than ``max_rows``) goes to altair's transformer, which converts it or raises its own error.
``tests/test_chart_data.py`` compares both on every kind of column.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
from altair.vegalite.data import default_data_transformer

NAME = "stat_lib"


def values(data, max_rows: int = 5000):
    """``{"values": records}`` of a pandas frame, as altair's ``default`` transformer gives
    them; other data (and frames outside the fast path) through that transformer."""
    columns = _columns(data, max_rows) if type(data) is pd.DataFrame else None
    if columns is None:
        return default_data_transformer(data, max_rows=max_rows)
    names = list(data.columns)
    return {"values": [dict(zip(names, row)) for row in zip(*columns)] if names
            else [{} for _ in range(len(data))]}


def _columns(df: pd.DataFrame, max_rows: int) -> list[list] | None:
    """Each column's JSON-ready values, or None when the frame needs altair's own path."""
    if (len(df) > max_rows or isinstance(df.columns, (pd.MultiIndex, pd.RangeIndex))
            or isinstance(df.index, pd.MultiIndex) or not df.columns.is_unique
            or not all(isinstance(c, str) for c in df.columns)):
        return None
    out = []
    for name in df.columns:
        column = _column(df[name])
        if column is None:
            return None
        out.append(column)
    return out


def _column(s: pd.Series) -> list | None:
    kind = str(s.dtype)
    if kind in ("str", "string"):
        return _with_none(s.astype(object).tolist(), s.isna().to_numpy())
    if not isinstance(s.dtype, np.dtype):
        return None  # categories, nullable and arrow types, dates with a time zone
    if s.dtype == np.float64:
        return [None if math.isnan(v) or math.isinf(v) else v for v in s.to_numpy().tolist()]
    if s.dtype.kind in "iub":
        return s.to_numpy().tolist()
    return None


def _with_none(items: list, missing: np.ndarray) -> list:
    if missing.any():
        return [None if m else v for v, m in zip(items, missing.tolist())]
    return items


def enable() -> None:
    """Register :func:`values` as altair's data transformer and make it the active one."""
    alt.data_transformers.register(NAME, values)
    alt.data_transformers.enable(NAME)
