"""Rows of any dataset kind, as DataFrames: the loader registry of the explorer.

A kind's loader reads its rows from its store (source kinds: ``data/stat.duckdb``; records
kinds: the records store). ``requests`` has its own (:func:`stat_lib.store.load_requests`:
canonical columns, the city's timezone); any other kind is read from its registered tables
(:mod:`stat_lib.store.schema`), so a new kind is loadable as soon as its table is registered.
Add a loader of your own with :func:`register_loader`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..core.errors import UsageError
from ..core.kinds import KINDS, get_kind

LOADERS: dict[str, Callable] = {}


def register_loader(kind: str, fn: Callable) -> Callable:
    """``fn(params, department=None, period=None, table=None) -> DataFrame`` loads ``kind``."""
    get_kind(kind)
    LOADERS[kind] = fn
    return fn


def load(params, kind: str, department=None, period=None, table=None) -> pd.DataFrame:
    """The rows of ``kind`` (one department's when its table has a ``department`` column)."""
    get_kind(kind)  # unknown: StatLibError listing the known kinds
    if kind in LOADERS:
        return LOADERS[kind](params, department=department, period=period, table=table)
    return load_tables(params, kind, department=department, period=period, table=table)


def load_tables(params, kind=None, department=None, period=None, table=None) -> pd.DataFrame:
    """A registered table of ``kind`` (default its first), from the store it lives in."""
    from ..store import connect, connect_records, frame
    from ..store.schema import TABLES
    names = [t.name for t in TABLES.values() if t.kind == kind]
    name = table or (names[0] if names else None)
    if name not in names:
        raise UsageError(f"dataset kind {kind!r} has no table {name!r}; its tables: "
                         f"{', '.join(names) or 'none'}")
    where, args = "", []
    if department is not None and "department " in TABLES[name].columns:
        where, args = " WHERE department = ?", [department]
    opener = connect_records if TABLES[name].store == "records" else connect
    kw = {"read_only": True}
    with opener(params, **kw) as con:
        return frame(con, f"SELECT * FROM {name}{where}", args)


def _requests(params, department=None, period=None, table=None) -> pd.DataFrame:
    if table not in (None, "requests"):
        return load_tables(params, "requests", department, period, table)
    from ..store import load_requests
    if period is None:
        return load_requests(params, None if department is None else [department])
    from ..core.periods import Period
    p = period if isinstance(period, Period) else Period.parse(period, params.city.timezone)
    return load_requests(params, None if department is None else [department],
                         start=p.start, end=p.end)


def kinds() -> list[str]:
    """The dataset kinds that can be loaded (every registered kind)."""
    return sorted(KINDS)


register_loader("requests", _requests)
