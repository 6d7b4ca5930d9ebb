"""Reading requests from the store: frames in the city's timezone, fingerprints, districts.

Every reader opens the store read-only (``stat_lib.store.connection.connect``).
"""

from __future__ import annotations

from ..core.errors import UsageError
from ..core.manifest import once
from .connection import connect, frame
from .query_memo import file_state, remembered
from .schema import CANONICAL, TIMESTAMPS, district_columns

# -- readers ---------------------------------------------------------------------------------

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
    """Every row not loaded: source_file, source_row, request_id, reason, detail, raw,
    department."""
    with connect(params) as con:
        return frame(con, "SELECT * FROM rejects ORDER BY source_file, source_row")


def load_districts(params, layer: str):
    """The polygons of one boundary layer: GeoDataFrame (key, label, geometry), EPSG:4326."""
    import geopandas as gpd
    from shapely import from_wkt
    layers = [b.layer for b in params.city.boundaries]
    if layer not in layers:
        raise UsageError(f"unknown boundary layer {layer!r}; city.yaml defines: "
                         f"{', '.join(layers) or 'none'}")
    key = (str(params.store_path), layer, file_state(params.store_path))
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


def latest_change(params, departments=None, end=None):
    """The latest requested/updated/closed instant of the requests with ``requested_at < end``
    (as :func:`stat_lib.metrics.data_as_of` of ``load_requests(params, departments, end=end)``),
    in the city's timezone; None when there are none."""
    import pandas as pd
    where, args = _where(departments, None, end)
    sql = ("SELECT max(greatest(requested_at, coalesce(updated_at, requested_at), "
           f"coalesce(closed_at, requested_at))) FROM requests{where}")

    def scan():
        with connect(params) as con:
            return con.execute(sql, args).fetchall()[0][0]
    value = remembered(params, "latest-change", (departments, end), scan, _iso, _instant)
    return None if value is None else pd.Timestamp(value).tz_convert(params.city.timezone)


def _iso(value) -> str | None:
    import pandas as pd
    return None if value is None else pd.Timestamp(value).isoformat()


def _instant(text: str | None):
    import pandas as pd
    return None if text is None else pd.Timestamp(text)


def newest_record(params, end=None):
    """The newest creation, update or close instant before ``end`` (city time; None if none).

    Unlike :func:`latest_change` no later change of an older request counts, so a packet of an
    old period names the newest record it holds, not a close years later."""
    import pandas as pd
    cut = "" if end is None else " AND {c} < ?"
    parts, args = [], []
    for col in ("requested_at", "updated_at", "closed_at"):
        parts.append(f"(SELECT max({col}) FROM requests WHERE {col} IS NOT NULL"
                     f"{cut.format(c=col)})")
        args += [] if end is None else [end]
    with connect(params) as con:
        value = con.execute(f"SELECT greatest({', '.join(parts)})", args).fetchall()[0][0]
    return None if value is None else pd.Timestamp(value).tz_convert(params.city.timezone)


def last_ingest(params):
    """When the store was last ingested (city time; None before the first ingest)."""
    import pandas as pd
    with connect(params) as con:
        value = con.execute("SELECT max(ingested_at) FROM ingests").fetchall()[0][0]
    return None if value is None else pd.Timestamp(value).tz_convert(params.city.timezone)


def data_fingerprint(params, department: str | None = None, end=None) -> str:
    """A cheap content hash of the rows that can affect a packet.

    Covers that department's requests (all when None) with ``requested_at < end``: their
    count, newest ``updated_at`` and an order-free sum of per-row hashes of the id, status,
    timestamps and districts. Equal fingerprints mean a re-run would see the same rows.
    Every department's and the total come from one scan (:func:`_fingerprints`), kept for a
    planning pass (``stat_lib.core.manifest.one_pass``): a batch of 33 packets scans once.
    """
    import hashlib
    values = _fingerprints(params, end).get(department or ALL, (0, None, None))
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


ALL = ("all departments",)  # the key of the total in a by-department dict of fingerprints


def _fingerprint_sql(params) -> str:
    parts = ["request_id", "status", "updated_at", "closed_at", "service_code",
             *district_columns(params)]
    row = ", ".join(f'"{c}"' for c in parts)
    return f"count(*), max(updated_at)::VARCHAR, sum(hash({row})::HUGEINT)::VARCHAR"


def by_department(con, sql_from: str, figures: str, args=(), column="department") -> dict:
    """``figures`` of each ``column`` value and of all rows (key :data:`ALL`), in one scan:
    ``SELECT ... FROM sql_from GROUP BY GROUPING SETS ((column), ())``."""
    rows = con.execute(f"SELECT grouping({column}), {column}, {figures} FROM {sql_from} "
                       f"GROUP BY GROUPING SETS (({column}), ())", list(args)).fetchall()
    return {ALL if r[0] else r[1]: tuple(r[2:]) for r in rows}


def _fingerprints(params, end) -> dict:
    """department (or :data:`ALL`) -> (count, newest updated_at, hash sum) before ``end``."""
    def scan():
        where, args = _where(None, None, end)
        with connect(params) as con:
            return by_department(con, f"requests{where}", _fingerprint_sql(params), args)
    columns = tuple(district_columns(params))
    return once(("requests", str(params.store_path), str(end), columns),
                lambda: remembered(params, "fingerprints", (end, columns), scan,
                                   _pairs, _by_key))


def _pairs(answers: dict) -> list:
    """A by-department dict as JSON pairs (:data:`ALL`'s key: null)."""
    return [[None if k == ALL else k, list(v)] for k, v in answers.items()]


def _by_key(pairs: list) -> dict:
    return {ALL if k is None else k: tuple(v) for k, v in pairs}


def request_counts(params, end=None) -> dict[str, int]:
    """Requests per department with ``requested_at < end`` (one grouped query)."""
    where, args = _where(None, None, end)
    with connect(params) as con:
        return dict(con.execute(f"SELECT department, count(*) FROM requests{where} "
                                f"GROUP BY department", args).fetchall())


def quality_counts(params, department: str) -> dict[str, int]:
    """Data-quality counts of one department's stored rows.

    ``requests`` stored, ``no_coordinates`` (lat/lon NULL), ``flagged`` (any quality flag),
    ``unplaced`` (``unassigned`` in at least one boundary layer) and ``rejected`` source rows.
    """
    counts = remembered(params, "quality-counts", tuple(district_columns(params)),
                        lambda: _quality_counts(params))
    return counts.get(department, dict.fromkeys(QUALITY_COUNTS, 0))


QUALITY_COUNTS = ("requests", "no_coordinates", "flagged", "unplaced", "rejected")


def _quality_counts(params) -> dict[str, dict[str, int]]:
    """:func:`quality_counts` of every department, one grouped query per table."""
    cols = district_columns(params)
    unassigned = " + ".join(f"(\"{c}\" = 'unassigned')::INT" for c in cols) or "0"
    with connect(params) as con:
        rows = con.execute(
            f"SELECT department, count(*), count(*) FILTER (lat IS NULL), count(*) FILTER "
            f"(quality IS NOT NULL), count(*) FILTER ({unassigned} > 0) FROM requests "
            f"GROUP BY department").fetchall()
        rejected = dict(con.execute("SELECT department, count(*) FROM rejects "
                                    "GROUP BY department").fetchall())
    out = {d: dict(zip(QUALITY_COUNTS, (*r, 0))) for d, *r in rows if d is not None}
    for dept, n in rejected.items():
        if dept is not None:
            out.setdefault(dept, dict.fromkeys(QUALITY_COUNTS, 0))["rejected"] = n
    return out


def requested_span(params):
    """``(oldest, newest)`` request creation time in the store (UTC; ``(None, None)`` if empty)."""
    with connect(params, read_only=True) as con:
        oldest, newest = con.execute(
            "SELECT min(requested_at), max(requested_at) FROM requests").fetchone()
    import pandas as pd
    return tuple(None if v is None else pd.Timestamp(v).tz_convert("UTC")
                 for v in (oldest, newest))
