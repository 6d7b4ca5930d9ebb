"""The store: one DuckDB file holding requests, rejects, districts, ingests and meta.

Writers (``ingest``) hold a file lock beside the store and work inside one transaction, so a
failed ingest leaves the store as it was. Readers (notebooks) open it read-only; DuckDB lets any
number of processes do that at once while no writer has it open.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from .errors import StoreBusyError, StoreError

SCHEMA_VERSION = "1"

CANONICAL = ["request_id", "service_code", "service_name", "department", "status", "status_raw",
             "requested_at", "updated_at", "closed_at", "due_at", "address", "lat", "lon",
             "channel", "source_file", "source_row"]
TIMESTAMPS = ["requested_at", "updated_at", "closed_at", "due_at"]

_REQUESTS = """CREATE TABLE IF NOT EXISTS requests (
    request_id VARCHAR NOT NULL, service_code VARCHAR, service_name VARCHAR,
    department VARCHAR, status VARCHAR, status_raw VARCHAR, requested_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, closed_at TIMESTAMPTZ, due_at TIMESTAMPTZ, address VARCHAR,
    lat DOUBLE, lon DOUBLE, channel VARCHAR, source_file VARCHAR, source_row BIGINT,
    quality VARCHAR, row_hash UBIGINT)"""
_OTHERS = [
    """CREATE TABLE IF NOT EXISTS rejects (source_file VARCHAR, source_row BIGINT,
       request_id VARCHAR, reason VARCHAR, detail VARCHAR, raw VARCHAR, department VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS districts (layer VARCHAR, key VARCHAR, label VARCHAR,
       geometry_wkt VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ingests (ingested_at TIMESTAMPTZ, source VARCHAR,
       rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, content_hash VARCHAR)""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
]


def district_columns(params) -> list[str]:
    """``district_<layer>`` for every boundary layer in city.yaml, in order."""
    return [f"district_{b.layer}" for b in params.city.boundaries]


def ensure_schema(con, params) -> None:
    """Create the tables (idempotent) and add any new ``district_<layer>`` column."""
    con.execute(_REQUESTS)
    for sql in _OTHERS:
        con.execute(sql)
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name='requests'"
    ).fetchall()}
    for col in district_columns(params):
        if col not in have:
            con.execute(f'ALTER TABLE requests ADD COLUMN "{col}" VARCHAR DEFAULT \'unassigned\'')
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('timezone', ?)",
                [SCHEMA_VERSION, params.city.timezone])


# -- the writer's lock -----------------------------------------------------------------------

def _owner_file(params) -> Path:
    return Path(str(params.store_path) + ".owner")


@contextlib.contextmanager
def write_lock(params):
    """Hold the store's writer lock; another holder -> ``StoreBusyError`` naming its pid."""
    from filelock import FileLock, Timeout
    path = params.store_path
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise _busy(params) from None
    try:
        _owner_file(params).write_text(str(os.getpid()))
        yield
    finally:
        lock.release()


def _busy(params) -> StoreBusyError:
    try:
        pid = _owner_file(params).read_text().strip() or "?"
    except OSError:
        pid = "?"
    return StoreBusyError(
        f"store is busy: another stat-lib process (pid {pid}) is ingesting; wait for it to "
        f"finish and retry (a crashed process releases the lock by itself)",
        path=params.store_path)


# -- connections -----------------------------------------------------------------------------

@contextlib.contextmanager
def connect(params, read_only: bool = True, wait: float = 10.0):
    """Open the store; yield a DuckDB connection whose session time zone is UTC.

    Parameters
    ----------
    params : Params
    read_only : bool
        Readers pass True (the default): several processes may read at once. A read-write
        connection is for ``ingest``, which holds the writer lock first.
    wait : float
        Seconds to keep retrying while a writer has the file open.
    """
    import duckdb
    path = params.store_path
    if read_only and not path.exists():
        raise StoreError("the store does not exist yet; run `stat-lib ingest` first", path=path)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"cannot open the store: {exc}", path=path) from None
            if time.monotonic() >= deadline:
                raise _busy(params) from None
            time.sleep(0.2)
    try:
        con.execute("SET TimeZone='UTC'")
        yield con
    finally:
        con.close()


# -- readers ---------------------------------------------------------------------------------

def frame(con, sql: str, args=None):
    """A query's result as a pandas DataFrame (through Arrow: typed, no copy warnings)."""
    return con.sql(sql, params=args or None).to_arrow_table().to_pandas()


def _where(departments, start, end) -> tuple[str, list]:
    clauses, args = [], []
    if departments:
        departments = [departments] if isinstance(departments, str) else list(departments)
        clauses.append(f"department IN ({', '.join('?' * len(departments))})")
        args += departments
    if start is not None:
        clauses.append("requested_at >= ?")
        args.append(_utc(start))
    if end is not None:
        clauses.append("requested_at < ?")
        args.append(_utc(end))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _utc(value):
    """A bound as a naive UTC datetime (naive input is read as UTC)."""
    import pandas as pd
    ts = pd.Timestamp(value)
    return (ts.tz_convert("UTC") if ts.tzinfo else ts).tz_localize(None).to_pydatetime()


def _with_tz(df, tz: str):
    for col in TIMESTAMPS:
        if col in df:
            df[col] = df[col].dt.tz_convert(tz)
    return df


def load_requests(params, departments=None, start=None, end=None):
    """The requests as a DataFrame with the canonical columns, timestamps in the city's zone.

    Parameters
    ----------
    params : Params
    departments : str or list of str, optional
        Department slugs; all when None.
    start, end : datetime-like, optional
        ``start <= requested_at < end``; naive values are read as UTC.

    Returns
    -------
    pandas.DataFrame
        Canonical columns, ``district_<layer>`` columns and ``quality``.
    """
    cols = CANONICAL + district_columns(params) + ["quality"]
    where, args = _where(departments, start, end)
    select = ", ".join(f'"{c}"' for c in cols)
    sql = f"SELECT {select} FROM requests{where} ORDER BY requested_at, request_id"
    with connect(params) as con:
        df = frame(con, sql, args)
    return _with_tz(df, params.city.timezone)


def load_rejects(params):
    """Every row not loaded: source_file, source_row, request_id, reason, detail, raw, department."""
    with connect(params) as con:
        return frame(con, "SELECT * FROM rejects ORDER BY source_file, source_row")


def load_districts(params, layer: str):
    """The polygons of one boundary layer: GeoDataFrame (key, label, geometry), EPSG:4326."""
    import geopandas as gpd
    from shapely import from_wkt
    layers = [b.layer for b in params.city.boundaries]
    if layer not in layers:
        from .errors import UsageError
        raise UsageError(f"unknown boundary layer {layer!r}; city.yaml defines: "
                         f"{', '.join(layers) or 'none'}")
    key = (str(params.store_path), layer, _file_state(params.store_path))
    if key not in _DISTRICTS:
        with connect(params) as con:
            df = frame(con, "SELECT key, label, geometry_wkt FROM districts WHERE layer = ? "
                            "ORDER BY key", [layer])
        geometry = from_wkt(df.pop("geometry_wkt").to_numpy())
        for stale in [k for k in _DISTRICTS if k[0] == key[0] and k[2] != key[2]]:
            del _DISTRICTS[stale]  # an older state of this store
        if len(_DISTRICTS) >= 16:
            _DISTRICTS.clear()
        _DISTRICTS[key] = gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")
    return _DISTRICTS[key].copy()


# Boundary layers read in this process, keyed by store path, layer and the store's file state
# (a new ingest changes it): a packet reads each layer once, not once per map.
_DISTRICTS: dict = {}


def _file_state(path: Path) -> tuple:
    """Size and mtime of the store and its write-ahead log (absent: None)."""
    out = []
    for p in (Path(path), Path(str(path) + ".wal")):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def latest_change(params, departments=None, end=None):
    """The latest requested/updated/closed instant of the requests with ``requested_at < end``
    (as :func:`stat_lib.metrics.data_as_of` of ``load_requests(params, departments, end=end)``),
    in the city's timezone; None when there are none."""
    import pandas as pd
    where, args = _where(departments, None, end)
    sql = ("SELECT max(greatest(requested_at, coalesce(updated_at, requested_at), "
           f"coalesce(closed_at, requested_at))) FROM requests{where}")
    with connect(params) as con:
        value = con.execute(sql, args).fetchall()[0][0]
    return None if value is None else pd.Timestamp(value).tz_convert(params.city.timezone)


def data_fingerprint(params, department: str | None = None, end=None) -> str:
    """A cheap content hash of the rows that can affect a packet.

    Covers that department's requests (all when None) with ``requested_at < end``: their
    count, newest ``updated_at`` and an order-free sum of per-row hashes of the id, status,
    timestamps and districts. Equal fingerprints mean a re-run would see the same rows.
    """
    import hashlib
    parts = ["request_id", "status", "updated_at", "closed_at", "service_code",
             *district_columns(params)]
    row = ", ".join(f'"{c}"' for c in parts)
    where, args = _where(department, None, end)
    sql = (f"SELECT count(*), max(updated_at)::VARCHAR, "
           f"sum(hash({row})::HUGEINT)::VARCHAR FROM requests{where}")
    with connect(params) as con:
        values = con.execute(sql, args).fetchall()[0]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def quality_note(params, department: str) -> str:
    """A short data-quality note on one department's rows, for its packet."""
    dept = params.department(department)
    cols = district_columns(params)
    unassigned = " + ".join(f"(\"{c}\" = 'unassigned')::INT" for c in cols) or "0"
    with connect(params) as con:
        n, no_xy, flagged, unplaced = con.execute(
            f"SELECT count(*), count(*) FILTER (lat IS NULL), count(*) FILTER (quality IS NOT "
            f"NULL), count(*) FILTER ({unassigned} > 0) FROM requests WHERE department = ?",
            [department]).fetchall()[0]
        rejected = con.execute("SELECT count(*) FROM rejects WHERE department = ?",
                               [department]).fetchall()[0][0]
    if n == 0:
        return f"No requests for {dept.name} in the store."
    note = (f"{n:,} requests for {dept.name}; {no_xy:,} ({no_xy / n:.1%}) without usable "
            f"coordinates (placed by the source's district columns where given)")
    if unplaced:
        note += f"; {unplaced:,} not placed in at least one district layer"
    if flagged:
        note += f"; {flagged:,} carry a data-quality flag"
    return note + f"; {rejected:,} source rows rejected (see the rejects table)."
