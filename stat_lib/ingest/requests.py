"""The ``requests`` kind's ingest: 311 rows canonicalized, validated, placed, upserted.

:func:`stat_lib.ingest.pipeline.ingest` runs, under the writer lock:

1. read each source's files into raw temp tables (``sources``; malformed CSV lines are set
   aside there) and map them with its profile (``profiles``) into one ``classified`` table:
   each used column cleaned once, timestamps parsed once (local time in the source's zone ->
   UTC; ISO values with an offset keep it), departments mapped to slugs, and a reject reason
   for rows that cannot be loaded;
2. keep one version per request id (latest ``updated_at`` wins; the others get reason
   ``duplicate``) and collect every reject with its file, row, reason and raw columns;
3. place the distinct coordinates in every boundary layer (``boundaries``, numpy + shapely);
4. then, in one DuckDB transaction: build the canonical rows with districts, quality flags, a
   row hash and the upsert action, and write them: new ids inserted, changed rows replaced,
   identical rows left alone, older versions than the store's ignored (``stale``).

Steps 1-3 only touch temp tables, and any error in step 4 rolls the transaction back, so the
store is exactly as it was. The rules for each kind of bad row are in docs/architecture.md
("Ingest: bad rows").
"""

from __future__ import annotations

import numpy as np

from .. import store
from ..core.errors import SourceError
from ..core.text import slugify
from . import boundaries as bnd
from . import codes, crs_check, date_check
from . import profiles
from . import readers as sources
from .derivation import derivation_hash, older_rows
from .report import IngestReport, SourceReport

TEXT_FIELDS = ["request_id", "service_name", "department", "status", "address", "channel"]
DATE_FIELDS = ["requested_at", "updated_at", "closed_at", "due_at"]
COORD_FIELDS = ["lat", "lon", "x", "y"]
MAX_TEXT = 2000  # longer address/name values are cut and flagged 'truncated'
OFFSET_RX = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$"
def prepare(con, params, layers) -> tuple[list, list]:
    """Read, stage and classify every source, mark duplicates, collect rejects, place points."""
    _lookup_tables(con, params)
    con.execute(_classified_ddl(params))
    reports, raws = [], []
    for i, source in enumerate(params.city.sources):
        profile = profiles.resolve(source)
        raw = sources.read(con, source, params, f"raw{i}", _wanted(profile, source, params))
        reports.append(_stage(con, params, i, source, profile, raw))
        raws.append(raw)
    _checks_while_placing(con, params, layers, raws)
    crs_check.refuse_wrong_crs(con, params, layers)
    return reports, raws


PLACE_THREADS = 2  # slices of the distinct points placed at once (one per core)


def _checks_while_placing(con, params, layers, raws) -> None:
    """Place the points (numpy + shapely, the GIL released) in threads, a slice of the points
    each, while DuckDB marks duplicates, collects rejects and builds the lookups; the points of
    rows then marked duplicate are placed too (nothing joins them)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    pts = _points(con)
    with ThreadPoolExecutor(PLACE_THREADS, thread_name_prefix="stat-lib-place") as pool:
        placed = start_placing(pool, pts, layers)
        _mark_duplicates(con)
        _collect_rejects(con, raws)
        _district_lookups(con, params, layers)
        _service_codes(con, params)
        _geo_table(con, pa.concat_tables([p.result() for p in placed]), layers)


def start_placing(pool, pts, layers) -> list:
    """``_placed`` of each of ``PLACE_THREADS`` slices of ``pts`` submitted to ``pool``, each
    with its own copy of the shapes (GEOS: see ``boundaries.private_copy``); futures in order."""
    step = -(-pts.num_rows // PLACE_THREADS) or 1
    return [pool.submit(_placed, pts.slice(i, step), bnd.private_copy(layers))
            for i in range(0, max(pts.num_rows, 1), step)]


def commit(con, params, layers, prepared) -> IngestReport:
    """The store's writes, inside the caller's transaction (``prepared``: from :func:`prepare`)."""
    reports, raws = prepared
    _build_incoming(con, params)
    con.execute("DROP TABLE classified; DROP TABLE geo")
    report = IngestReport(str(params.store_path), reports)
    _tally(con, params, report)
    _write_rejects(con, raws)
    _upsert(con, params, report)
    report.older_derivation = older_rows(con, derivation_hash(params))
    _write_districts(con, layers)
    _log_ingests(con, raws)
    return report


# -- step 1: raw -> classified rows ----------------------------------------------------------

def _wanted(profile, source, params):
    """Pick the columns ingest uses; a missing required column is a ``SourceError``."""
    src_cols = [b.source_column for b in params.city.boundaries if b.source_column]

    def pick(columns):
        if profile.missing(columns):
            raise profiles.missing_columns(profile, source, columns, ", or choose the right "
                                           "profile (`stat-lib profiles`)")
        used = set(profile.match(columns).values())
        used |= {c for cols in profile.coalesced(columns).values() for c in cols}
        ends = {profiles.norm(c) for c in profile.end_columns.values()}
        used |= {c for c in columns if profiles.norm(c) in ends}
        used |= {c for c in columns if profiles.norm(c) in {profiles.norm(s) for s in src_cols}}
        return [c for c in columns if c in used] or list(columns)
    return pick


def _classified_ddl(params) -> str:
    srcs = "".join(f", src_{b.layer} VARCHAR" for b in params.city.boundaries)
    return ("CREATE OR REPLACE TEMP TABLE classified (source_index INT, source_file VARCHAR, "
            "source_row BIGINT, raw_rowid BIGINT, request_id VARCHAR, service_name VARCHAR, "
            "dept_raw VARCHAR, department VARCHAR, status_raw VARCHAR, requested_text VARCHAR, "
            "requested_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, closed_at TIMESTAMPTZ, "
            "due_at TIMESTAMPTZ, address VARCHAR, channel VARCHAR, lat_in DOUBLE, "
            "lon_in DOUBLE, x_in DOUBLE, y_in DOUBLE, crs VARCHAR, bad_updated_at BOOLEAN, "
            f"bad_closed_at BOOLEAN, bad_due_at BOOLEAN{srcs}, reason VARCHAR)")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _text(col: str | None) -> str:
    """SQL: the column's text, trimmed, empty -> NULL (``NULLIF(trim(v), '')``)."""
    return _trimmed(f"CAST({_q(col)} AS VARCHAR)") if col else "NULL::VARCHAR"


def _trimmed(v: str) -> str:
    """``NULLIF(trim(v), '')``, calling trim only where it can change ``v``: trim drops Unicode
    space separators, so ASCII text with no space at either end is already trimmed (trim over
    every value was ~9 of the 6M-row ingest's CPU seconds)."""
    return (f"CASE WHEN {v} = '' THEN NULL WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') "
            f"OR strlen({v}) <> length({v}) THEN NULLIF(trim({v}), '') ELSE {v} END")


def _timestamp(value: str, dtype: str, tz: str, formats) -> str:
    """SQL turning one date value into TIMESTAMPTZ (NULL when absent/unreadable).

    ``value`` is the column itself when ``dtype`` is a date or timestamp type, else its
    cleaned text (``_text``).
    """
    dtype = dtype.upper()
    if "WITH TIME ZONE" in dtype:
        return value
    if dtype.startswith(("TIMESTAMP", "DATE")):
        return f"timezone({_lit(tz)}, CAST({value} AS TIMESTAMP))"
    fmts = "[" + ", ".join(_lit(f) for f in formats) + "]"
    return (f"CASE WHEN {_may_have_offset(value)} AND regexp_matches({value}, "
            f"{_lit(OFFSET_RX)}) THEN try_cast({value} AS TIMESTAMPTZ) ELSE timezone({_lit(tz)}, "
            f"coalesce(try_strptime({value}, {fmts}), try_cast({value} AS TIMESTAMP))) END")


def _may_have_offset(value: str) -> str:
    """SQL: false where ``OFFSET_RX`` cannot match (no ``Z`` at the end, no ``+`` or ``-``), so
    the regex runs on few values: DuckDB evaluates the AND's second term only where the first
    holds (the regex alone was ~0.6 CPU s per 5M MyLA311 dates, this test 0.2)."""
    return f"(ends_with({value}, 'Z') OR contains({value}, '+') OR contains({value}, '-'))"


def _coalesce(columns) -> str:
    """The first non-empty text of ``columns`` (a ``columns.rename`` list), as text."""
    return f"coalesce({', '.join(map(_text, columns))})" if columns else "NULL::VARCHAR"


def _as_text(field: str, profile) -> bool:
    """A date field read as text whatever its type: coalesced or taken per status."""
    return field in profile.coalesce or (field == "closed_at" and bool(profile.end_columns))


def _end_by_status(profile, here: dict, columns, found: dict) -> dict:
    """``closed_at`` from a status's own end column first (``columns.end_at``), for the rows
    whose status value maps to that status."""
    status = found.get("status")
    if not profile.end_columns or not status or status not in columns:
        return {}
    present = {profiles.norm(c): c for c in reversed(list(columns))}
    expr = here["closed_at"]
    for st, col in profile.end_columns.items():
        raws = [k for k, v in profile.status_map.items() if v == st]
        if profiles.norm(col) in present and raws:
            expr = (f"CASE WHEN lower({_text(status)}) IN ({', '.join(map(_lit, raws))}) THEN "
                    f"coalesce({_text(present[profiles.norm(col)])}, {expr}) ELSE {expr} END")
    return {"closed_at": expr}


def _typed_date(dtype: str) -> bool:
    return dtype.upper().startswith(("TIMESTAMP", "DATE"))


def _stage(con, params, index, source, profile, raw, limit=None) -> SourceReport:
    """Insert one source's rows into ``classified`` with a reject reason; count what was read.

    Three nested selects: each used source column is cleaned once (``v_<field>``), then
    dates are parsed once, then flags, department slug and reject reason are derived.
    """
    report = SourceReport(raw.name, [f.label for f in raw.files])
    found = profile.match(list(raw.columns))
    found.update({f"src_{b.layer}": _source_column(b, raw.columns)
                  for b in params.city.boundaries})
    clean = {f: (_q(col) if f in DATE_FIELDS and _typed_date(raw.columns.get(col, ""))
                 and not _as_text(f, profile) else _text(col)) for f, col in found.items() if col}
    if profile.end_columns:
        clean.setdefault("closed_at", "NULL::VARCHAR")
    merged = {f: cols for f, cols in profile.coalesced(list(raw.columns)).items() if cols}
    clean.update({f: _coalesce(cols) for f, cols in merged.items()})
    where = [f"({profile.filter})"] if profile.filter else []
    where += [f"__row <= {int(limit)}"] if limit is not None else []
    tz = profile.timezone or params.city.timezone
    reason = _reason(_earliest(source, tz), _placeholders("p.requested_at", source, tz))
    match = source.department_match
    depts = "dept_map" if match is None else codes.department_map(con, source, raw.name,
                                                                     index)
    inner = {}
    for rf in raw.files:
        report.rows_read += rf.rows
        # files of one glob may differ in optional columns: read each by name
        here = {f: e if found.get(f) in rf.columns or not rf.columns else "NULL::VARCHAR"
                for f, e in clean.items()}
        here.update({f: _coalesce([c for c in cols if c in rf.columns or not rf.columns])
                     for f, cols in merged.items()})
        here.update(_end_by_status(profile, here, rf.columns or raw.columns, found))
        first = ", ".join([f"{index} AS source_index", f"{_lit(rf.label)} AS source_file",
                           "__row AS source_row", "__rowid AS raw_rowid"]
                          + [f"{e} AS v_{f}" for f, e in here.items()])
        inner[rf.label] = (f"SELECT {first} FROM {rf.numbered()}"
                           f"{' WHERE ' + ' AND '.join(where) if where else ''}")

    def insert(selects: str) -> str:
        return (f"INSERT INTO classified BY NAME SELECT p.* EXCLUDE ({', '.join(_TEXT_DATES)}, "
                f"closed_at), {_EARLY_CLOSE} AS closed_at, {_bad_dates()}, "
                f"d.slug AS department, {reason} AS reason FROM (SELECT "
                f"{_canonical(params, profile, source, raw, found, clean)} FROM ({selects})) p "
                f"LEFT JOIN {depts} d ON {codes.department_key('p.dept_raw', match)} = d.code")
    _insert_staged(con, insert, inner, same_columns(raw.files))
    if source.columns is not None and source.columns.date_format:
        date_check.refuse_unparsed(con, index, raw.name, profile, raw,
                                   {f: c for f, c in found.items() if f not in merged},
                                   DATE_FIELDS)
    if limit is None:  # rows neither staged nor malformed were filtered out
        staged = con.execute("SELECT count(*) FROM classified WHERE source_index = ?",
                             [index]).fetchall()[0][0]
        report.filtered = report.rows_read - sum(rf.malformed for rf in raw.files) - staged
    return report


def same_columns(files) -> bool:
    """Every file has the same columns with the same types (one statement may stage them)."""
    return all(rf.columns == files[0].columns for rf in files)


def _insert_staged(con, insert, inner: dict, together: bool) -> None:
    """Stage the files' selects: all in one statement when their columns agree (DuckDB runs
    it on every core however small each file is), else, or to name the file a failure comes
    from, one statement per file."""
    if together and len(inner) > 1:
        try:
            con.execute(insert(" UNION ALL ".join(inner.values())))
            return
        except Exception:  # noqa: BLE001  (re-run per file: the error names its file)
            pass
    for label, select in inner.items():
        try:
            con.execute(insert(select))
        except Exception as exc:
            raise SourceError(f"cannot apply the source's mapping/filter: "
                              f"{str(exc).splitlines()[0]}", path=label) from None


def _earliest(source, tz: str) -> str:
    return f"timezone({_lit(tz)}, DATE '{source.earliest_date.isoformat()}'::TIMESTAMP)"


def _plausible(value: str, earliest: str, placeholders: str = "") -> str:
    """``value`` when it lies in [earliest, ingest time + 1 day] and is no placeholder."""
    return (f"CASE WHEN {value} >= {earliest} AND {value} <= current_timestamp + INTERVAL 1 "
            f"DAY{placeholders} THEN {value} END")


def _placeholders(value: str, source, tz: str) -> str:
    """`` AND <local date of value> NOT IN (the source's placeholder_dates)`` (or nothing)."""
    if not source.placeholder_dates:
        return ""
    days = ", ".join(f"DATE '{d.isoformat()}'" for d in source.placeholder_dates)
    return f" AND CAST(timezone({_lit(tz)}, {value}) AS DATE) NOT IN ({days})"


def _canonical(params, profile, source, raw, found, clean) -> str:
    """The middle select: canonical columns from the cleaned ``v_<field>`` values."""
    tz = profile.timezone or params.city.timezone
    earliest = _earliest(source, tz)

    def v(f):
        return f"v_{f}" if f in clean else "NULL::VARCHAR"
    cols = {"source_index": "source_index", "source_file": "source_file",
            "source_row": "source_row", "raw_rowid": "raw_rowid"}
    cols.update({f: v(f) for f in ("request_id", "service_name", "address", "channel")})
    cols.update(dept_raw=v("department"), status_raw=v("status"),
                requested_text=v("requested_at"))
    for f in DATE_FIELDS:  # parsed once; the text is kept to flag unreadable values
        dtype = "" if _as_text(f, profile) else raw.columns.get(found.get(f), "")
        parsed = _timestamp(v(f), dtype, tz, profile.date_formats) if f in clean else \
            "NULL::TIMESTAMPTZ"
        # an implausible creation date rejects the row (reason); any other is blanked + flagged
        # (a placeholder creation date is in _reason's window test too)
        cols[f] = parsed if f == "requested_at" else \
            _plausible(parsed, earliest, _placeholders(parsed, source, tz))
        cols[f"text_{f}"] = f"CAST({v(f)} AS VARCHAR)" if f in clean else "NULL::VARCHAR"
    cols.update({f"{f}_in": f"try_cast({v(f)} AS DOUBLE)" for f in COORD_FIELDS})
    cols["crs"] = _lit(profile.xy_crs)
    for b in params.city.boundaries:  # numbers read as 10.0 become '10', as the layer's keys
        x = v(f"src_{b.layer}")
        cols[f"src_{b.layer}"] = (f"CASE WHEN contains({x}, '.') THEN regexp_replace({x}, "
                                  f"'\\.0+$', '') ELSE {x} END")
    return ", ".join(f"{e} AS {k}" for k, e in cols.items())


_TEXT_DATES = [f"text_{f}" for f in DATE_FIELDS]


def _reason(earliest: str, placeholders: str) -> str:
    """The reject reason of a classified row (NULL: loadable)."""
    return f"""CASE WHEN p.request_id IS NULL THEN 'missing_request_id'
    WHEN p.requested_text IS NULL THEN 'missing_requested_at'
    WHEN p.requested_at IS NULL THEN 'bad_requested_at'
    WHEN p.requested_at < {earliest} OR p.requested_at > current_timestamp + INTERVAL 1 DAY
      OR NOT (true{placeholders}) THEN 'implausible_requested_at'
    WHEN d.slug IS NULL THEN 'unknown_department' END"""


# closed more than a day before created: a placeholder; the request is kept, the date blanked
_EARLY = "p.closed_at < p.requested_at - INTERVAL 1 DAY"
_EARLY_CLOSE = f"CASE WHEN {_EARLY} THEN NULL ELSE p.closed_at END"


def _bad_dates() -> str:
    """``bad_<field>``: an optional date has text that does not parse or is implausible."""
    return ", ".join(f"(p.text_{f} IS NOT NULL AND (p.{f} IS NULL"
                     f"{' OR ' + _EARLY if f == 'closed_at' else ''})) AS bad_{f}"
                     for f in DATE_FIELDS[1:])


def _source_column(boundary, columns) -> str | None:
    """The source column holding a layer's key (``boundary.source_column``), if present."""
    return next((c for c in columns if boundary.source_column and
                 profiles.norm(c) == profiles.norm(boundary.source_column)), None)


def _lookup_tables(con, params) -> None:
    """``dept_map(code, slug)`` and ``status_map(source_index, raw, status)``."""
    import pyarrow as pa
    codes = params.department_for_code()
    statuses = [(i, k.lower(), v) for i, source in enumerate(params.city.sources)
                for k, v in profiles.resolve(source).status_map.items()]
    tables = {"dept_map": pa.table({"code": pa.array(list(codes), pa.string()),
                                    "slug": pa.array(list(codes.values()), pa.string())}),
              "status_map": pa.table({"source_index": pa.array([s[0] for s in statuses],
                                                                pa.int32()),
                                      "raw": pa.array([s[1] for s in statuses], pa.string()),
                                      "status": pa.array([s[2] for s in statuses],
                                                         pa.string())})}
    for name, table in tables.items():
        _from_arrow(con, name, table)


def _from_arrow(con, name: str, table) -> None:
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


# -- step 2: duplicates and rejects ----------------------------------------------------------

def _mark_duplicates(con) -> None:
    """Of the loadable rows sharing a request id, all but the latest get reason 'duplicate'."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE losers AS
        WITH ranked AS (
          SELECT source_index, source_file, source_row, request_id,
            row_number() OVER (PARTITION BY request_id ORDER BY
              coalesce(updated_at, closed_at, requested_at) DESC,
              source_index DESC, source_file DESC, source_row DESC) AS version
          FROM classified WHERE reason IS NULL AND request_id IN (
            SELECT request_id FROM classified WHERE reason IS NULL
            GROUP BY 1 HAVING count(*) > 1))
        SELECT l.source_index, l.source_file, l.source_row,
               'superseded by ' || w.source_file || ' row ' || w.source_row AS detail
        FROM ranked l JOIN ranked w ON w.request_id = l.request_id AND w.version = 1
        WHERE l.version > 1""")
    if con.execute("SELECT count(*) FROM losers").fetchall()[0][0]:
        con.execute("""
            UPDATE classified SET reason = 'duplicate' FROM losers l
            WHERE classified.source_index = l.source_index
              AND classified.source_file = l.source_file
              AND classified.source_row = l.source_row""")


def _collect_rejects(con, raws) -> None:
    """Every rejected row with its reason, detail and raw columns -> ``new_rejects``.

    The raw tables are dropped afterwards: nothing else needs them.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE new_rejects (source_index INT, source_file "
                "VARCHAR, source_row BIGINT, request_id VARCHAR, reason VARCHAR, "
                "detail VARCHAR, raw VARCHAR, department VARCHAR)")
    for index, raw in enumerate(raws):
        for rf in raw.files:
            con.execute(f"""
                INSERT INTO new_rejects SELECT c.source_index, c.source_file, c.source_row,
                  c.request_id, c.reason, CASE c.reason
                    WHEN 'bad_requested_at' THEN 'requested date ' || c.requested_text
                    WHEN 'implausible_requested_at' THEN 'requested ' || c.requested_text
                      || ': before the source''s earliest_date or after the ingest time'
                    WHEN 'unknown_department' THEN 'department value '
                      || coalesce(c.dept_raw, 'empty')
                    WHEN 'duplicate' THEN l.detail END,
                  to_json(t)::VARCHAR, c.department
                FROM classified c JOIN {rf.table} t ON t.rowid = c.raw_rowid
                LEFT JOIN losers l ON l.source_index = c.source_index
                  AND l.source_file = c.source_file AND l.source_row = c.source_row
                WHERE c.reason IS NOT NULL AND c.source_index = {index}
                  AND c.source_file = {_lit(rf.label)}""")
            if rf.bad_table:
                con.execute(f"INSERT INTO new_rejects SELECT {index}, {_lit(rf.label)}, "
                            f"source_row, NULL, 'malformed_line', detail, raw, NULL "
                            f"FROM {rf.bad_table}")
                con.execute(f"DROP TABLE {rf.bad_table}; DROP TABLE {rf.bad_table}_shift")
            con.execute(f"DROP TABLE {rf.table}")


# -- step 3: coordinates and districts -------------------------------------------------------

NO_COORDINATES, LATLON_SWAPPED, OUTSIDE = 1, 2, 3
GEO_FLAGS = {NO_COORDINATES: "no_coordinates", LATLON_SWAPPED: "latlon_swapped",
             OUTSIDE: "outside_boundaries"}


def _geo(con, layers) -> None:
    """One placement per layer over the distinct input coordinates -> table ``geo``."""
    _geo_table(con, _placed(_points(con), layers), layers)


def _points(con):
    """The distinct input coordinates of the loadable rows (an Arrow table)."""
    return con.sql("""
        SELECT crs, lat_in, lon_in, x_in, y_in FROM classified
        WHERE reason IS NULL AND ((lat_in IS NOT NULL AND lon_in IS NOT NULL)
                                  OR (x_in IS NOT NULL AND y_in IS NOT NULL))
        GROUP BY ALL""").to_arrow_table()


def _placed(pts, layers):
    """``pts`` with lat, lon, flag and ``i_<layer>`` (no DuckDB: safe in a thread)."""
    import pyarrow as pa
    lat, lon = _to_wgs84(pts)
    lat, lon, flag, found = _place_all(lat, lon, layers)
    pts = pts.append_column("lat", pa.array(lat, from_pandas=True))
    pts = pts.append_column("lon", pa.array(lon, from_pandas=True))
    pts = pts.append_column("flag", pa.array(flag))
    for name, idx in found.items():
        pts = pts.append_column(f"i_{name}", pa.array(idx))
    return pts


def _geo_table(con, pts, layers) -> None:
    """Table ``geo`` from placed points: flag names and each layer's key."""
    import pyarrow as pa
    found = list(layers)  # _placed added i_<layer> for each
    for name in found:
        _from_arrow(con, f"keys_{name}", pa.table({"idx": pa.array(range(len(layers[name]))),
                                                   "key": layers[name]["key"].astype(str)}))
    flags = " ".join(f"WHEN {k} THEN {_lit(v)}" for k, v in GEO_FLAGS.items())
    keys = "".join(f", k_{n}.key AS d_{n}" for n in found)
    joins = "".join(f" LEFT JOIN keys_{n} k_{n} ON k_{n}.idx = g.i_{n}" for n in found)
    con.register("geo_arrow", pts)
    con.execute(f"CREATE OR REPLACE TEMP TABLE geo AS SELECT g.crs, g.lat_in, g.lon_in, "
                f"g.x_in, g.y_in, g.lat, g.lon, CASE g.flag {flags} END AS geo_flag{keys} "
                f"FROM geo_arrow g{joins}")
    con.unregister("geo_arrow")


def _district_lookups(con, params, layers) -> None:
    for b in params.city.boundaries:
        codes.district_lookup(con, b, layers[b.layer]["key"] if b.layer in layers else [])


def _column(table, name: str) -> np.ndarray:
    return table[name].to_numpy().astype(float)  # NULL -> NaN


def _to_wgs84(pts) -> tuple[np.ndarray, np.ndarray]:
    """lat/lon from the lat/lon columns, else from x/y in the source's CRS."""
    lat, lon = _column(pts, "lat_in"), _column(pts, "lon_in")
    x, y = _column(pts, "x_in"), _column(pts, "y_in")
    use_xy = ~_usable(lat, lon) & np.isfinite(x) & np.isfinite(y) & ((x != 0) | (y != 0))
    crs = pts["crs"].to_numpy()
    for name in np.unique(crs[use_xy]):
        from pyproj import Transformer
        m = use_xy & (crs == name)
        t = Transformer.from_crs(name, "EPSG:4326", always_xy=True)
        lon[m], lat[m] = t.transform(x[m], y[m])
    return lat, lon


def _usable(lat, lon) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90)
                & (np.abs(lon) <= 180) & ~((lat == 0) & (lon == 0)))


def _place_all(lat, lon, layers):
    """Place points; swap lat/lon when only the swapped point lands inside; flag the rest.

    Returns lat, lon (NaN when not kept), a flag code per point (``GEO_FLAGS``; 0: none) and
    per layer the row of the polygon holding each point (-1: none).
    """
    ok = _usable(lat, lon)
    found = {name: _place(layer, lat, lon, ok) for name, layer in layers.items()}
    flag = np.where(ok, 0, NO_COORDINATES).astype(np.int8)
    if not layers:
        return np.where(ok, lat, np.nan), np.where(ok, lon, np.nan), flag, found
    inside = np.logical_or.reduce([k >= 0 for k in found.values()])
    retry = ~inside & _usable(lon, lat)
    swapped = {name: _place(layer, lon, lat, retry) for name, layer in layers.items()}
    fixed = np.logical_or.reduce([k >= 0 for k in swapped.values()])
    found = {name: np.where(fixed, swapped[name], idx) for name, idx in found.items()}
    lat, lon = np.where(fixed, lon, lat), np.where(fixed, lat, lon)
    flag[fixed] = LATLON_SWAPPED
    flag[ok & ~inside & ~fixed] = OUTSIDE
    keep = (ok & inside) | fixed
    return np.where(keep, lat, np.nan), np.where(keep, lon, np.nan), flag, found


def _place(layer, lat, lon, mask) -> np.ndarray:
    out = np.full(len(lat), -1, dtype=np.int64)
    out[mask] = bnd.place_index(layer, lon[mask], lat[mask])
    return out


# -- step 4: canonical rows ------------------------------------------------------------------

def _service_codes(con, params) -> None:
    import pyarrow as pa
    pairs = con.execute("SELECT DISTINCT department, service_name FROM classified "
                        "WHERE reason IS NULL").fetchall()
    codes = []
    for dept, name in pairs:
        svc = params.departments[dept].service(name) if name is not None else None
        codes.append(svc.code if svc else slugify(name or "unnamed"))
    _from_arrow(con, "svc", pa.table({
        "department": pa.array([p[0] for p in pairs], pa.string()),
        "service_name": pa.array([p[1] for p in pairs], pa.string()),
        "service_code": pa.array(codes, pa.string())}))


_QUALITY = f"""NULLIF(concat_ws(',',
    CASE WHEN r.bad_closed_at THEN 'bad_closed_at' END,
    CASE WHEN r.bad_due_at THEN 'bad_due_at' END,
    CASE WHEN r.bad_updated_at THEN 'bad_updated_at' END,
    CASE WHEN r.closed_at IS NULL AND sm.status = 'cancelled' THEN 'cancelled_undated' END,
    CASE WHEN r.closed_at < r.requested_at THEN 'closed_before_created' END,
    CASE WHEN g.geo_flag = 'latlon_swapped' THEN 'latlon_swapped' END,
    CASE WHEN g.crs IS NULL OR g.geo_flag = 'no_coordinates' THEN 'no_coordinates' END,
    CASE WHEN sm.status = 'open' AND r.closed_at IS NOT NULL THEN 'open_with_closed_at' END,
    CASE WHEN g.geo_flag = 'outside_boundaries' THEN 'outside_boundaries' END,
    CASE WHEN sm.status IS NULL AND r.status_raw IS NOT NULL THEN 'status_unmapped' END,
    CASE WHEN length(r.address) > {MAX_TEXT} OR length(r.service_name) > {MAX_TEXT}
         THEN 'truncated' END), '')"""  # flags in text order, as the store has always had


def _cancel_end(params) -> str:
    """Where a cancelled request with no close date ends: its source's
    ``cancelled_without_date`` (updated_at, else requested_at; or requested_at)."""
    whens = " ".join(
        f"WHEN {i} THEN " + ("greatest(r.requested_at, coalesce(r.updated_at, r.requested_at))"
                             if s.cancelled_without_date == "updated_at" else "r.requested_at")
        for i, s in enumerate(params.city.sources))
    return f"CASE r.source_index {whens} END"


def _source_keys(con, layer: str) -> str:
    """A temp table ``(v, key)``: each distinct ``src_<layer>`` value of the loadable rows and
    the layer key ``dmatch_<layer>`` gives it (none: no row), so ``district_key``'s regex runs
    once per value, not once per row."""
    table = f"srckey_{layer}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT s.v, m.key FROM (SELECT "
                f"DISTINCT src_{layer} AS v FROM classified WHERE reason IS NULL) s JOIN "
                f"dmatch_{layer} m ON m.k = {codes.district_key('s.v')}")
    return table


def _build_incoming(con, params) -> None:
    """The loadable rows in canonical shape with districts, flags, a row hash and the upsert
    action against the store (insert, update, unchanged, stale)."""
    dcols = []
    joins = ""
    for b in params.city.boundaries:  # a fallback value matching no key: unassigned, listed
        n, m = b.layer, f"m_{b.layer}"
        dcols.append(f"coalesce(g.d_{n}, {m}.key, 'unassigned') AS district_{n}")
        dcols.append(f"CASE WHEN g.d_{n} IS NOT NULL THEN 'spatial' WHEN {m}.key IS NOT NULL "
                     f"THEN 'source_column' WHEN r.src_{n} IS NOT NULL THEN 'unmatched' "
                     f"ELSE 'unassigned' END AS how_{n}")
        dcols.append(f"CASE WHEN g.d_{n} IS NULL AND {m}.key IS NULL THEN r.src_{n} END "
                     f"AS unmatched_{n}")
        joins += f" LEFT JOIN {_source_keys(con, n)} {m} ON {m}.v = r.src_{n}"
    hashed = [c for c in store.CANONICAL if c not in ("source_file", "source_row")]
    hashed += store.district_columns(params) + ["quality"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE incoming AS
        SELECT n.*, CASE WHEN s.request_id IS NULL THEN 'insert'
               WHEN s.row_hash = n.row_hash THEN 'unchanged'
               WHEN coalesce(n.updated_at, n.closed_at, n.requested_at)
                    >= coalesce(s.updated_at, s.closed_at, s.requested_at)
                    OR s.requested_at IS NULL THEN 'update'
               ELSE 'stale' END AS action
        FROM (SELECT x.*, hash({', '.join('x.' + _q(c) for c in hashed)}) AS row_hash FROM (
          SELECT r.request_id, sv.service_code, left(r.service_name, {MAX_TEXT}) AS service_name,
            r.department, coalesce(sm.status, CASE WHEN r.closed_at IS NOT NULL THEN 'closed'
                                                  ELSE 'open' END) AS status,
            r.status_raw, r.requested_at, r.updated_at,
            CASE WHEN r.closed_at < r.requested_at THEN r.requested_at
                 WHEN r.closed_at IS NULL AND sm.status = 'cancelled' THEN {_cancel_end(params)}
                 ELSE r.closed_at END AS closed_at,
            r.due_at, left(r.address, {MAX_TEXT}) AS address, g.lat, g.lon, r.channel,
            r.source_file, r.source_row, r.source_index, {''.join(c + ', ' for c in dcols)}
            {_QUALITY} AS quality
          FROM classified r
          LEFT JOIN geo g ON g.crs = r.crs AND g.lat_in IS NOT DISTINCT FROM r.lat_in
            AND g.lon_in IS NOT DISTINCT FROM r.lon_in AND g.x_in IS NOT DISTINCT FROM r.x_in
            AND g.y_in IS NOT DISTINCT FROM r.y_in
          LEFT JOIN svc sv ON sv.department = r.department
            AND sv.service_name IS NOT DISTINCT FROM r.service_name
          LEFT JOIN status_map sm ON sm.source_index = r.source_index
            AND sm.raw = lower(r.status_raw){joins}
          WHERE r.reason IS NULL) x) n
        LEFT JOIN requests s ON s.request_id = n.request_id""")


# -- step 5: counts, rejects, upsert ---------------------------------------------------------

def _tally(con, params, report: IngestReport) -> None:
    def per_source(sql):
        out = {}
        for i, key, n in con.execute(sql).fetchall():
            out.setdefault(i, {})[key] = n
        return out

    rejected = per_source("SELECT source_index, reason, count(*) FROM new_rejects "
                          "GROUP BY ALL ORDER BY ALL")
    quality = per_source("SELECT source_index, f, count(*) FROM (SELECT source_index, "
                         "unnest(string_split(quality, ',')) AS f FROM incoming WHERE quality "
                         "IS NOT NULL) GROUP BY ALL ORDER BY ALL")
    loaded = dict(con.execute("SELECT source_index, count(*) FROM incoming GROUP BY 1"
                              ).fetchall())
    how = {b.layer: per_source(f"SELECT source_index, how_{b.layer}, count(*) FROM incoming "
                               f"GROUP BY ALL ORDER BY ALL") for b in params.city.boundaries}
    unmatched = {b.layer: per_source(
        f"SELECT source_index, unmatched_{b.layer}, count(*) FROM incoming WHERE "
        f"unmatched_{b.layer} IS NOT NULL GROUP BY ALL ORDER BY 3 DESC, 2")
        for b in params.city.boundaries}
    for i, s in enumerate(report.sources):
        s.rejected, s.quality = rejected.get(i, {}), quality.get(i, {})
        s.loaded = loaded.get(i, 0)
        s.districts = {layer: counts.get(i, {}) for layer, counts in how.items()}
        s.unmatched = {layer: v[i] for layer, v in unmatched.items() if v.get(i)}


def _write_rejects(con, raws) -> None:
    """Replace the rejects of every file read with this ingest's."""
    for raw in raws:
        for rf in raw.files:
            con.execute("DELETE FROM rejects WHERE source_file = ?", [rf.label])
    con.execute("INSERT INTO rejects SELECT source_file, source_row, request_id, reason, detail, "
                "raw, department FROM new_rejects")


def _upsert(con, params, report: IngestReport) -> None:
    counts = dict(con.execute("SELECT action, count(*) FROM incoming GROUP BY 1").fetchall())
    report.inserted, report.updated = counts.get("insert", 0), counts.get("update", 0)
    report.unchanged, report.stale = counts.get("unchanged", 0), counts.get("stale", 0)
    if report.updated:
        con.execute("DELETE FROM requests WHERE request_id IN "
                    "(SELECT request_id FROM incoming WHERE action = 'update')")
    cols = ", ".join(_q(c) for c in store.CANONICAL + store.district_columns(params)
                     + ["quality", "row_hash"])
    derived = derivation_hash(params)
    # a few departments at a time (consecutive by name): each row group then holds those
    # departments only, so a packet's `WHERE department = ?` skips the others' (zone maps)
    for first, last in _department_groups(con):
        con.execute(f"INSERT INTO requests ({cols}, derivation) SELECT {cols}, ? FROM incoming "
                    f"WHERE action IN ('insert', 'update') AND department BETWEEN ? AND ?",
                    [derived, first, last])
    # the same row from today's sources under other params: re-derived, only the mark moves
    con.execute("UPDATE requests SET derivation = ? WHERE derivation IS DISTINCT FROM ? AND "
                "request_id IN (SELECT request_id FROM incoming WHERE action = 'unchanged')",
                [derived, derived])
    report.total_in_store = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]


WRITE_GROUPS = 16  # inserts per ingest at most (one scan of ``incoming`` each)


def _department_groups(con) -> list[tuple[str, str]]:
    """``(first, last)`` department ranges, consecutive by name, of about 1/WRITE_GROUPS of
    the rows to write each (a department with more is a range of its own)."""
    counts = con.execute("SELECT department, count(*) FROM incoming WHERE action IN "
                         "('insert', 'update') GROUP BY 1 ORDER BY 1").fetchall()
    share = sum(n for _, n in counts) / WRITE_GROUPS
    groups, start, held = [], None, 0
    for dept, n in counts:
        start, held = start or dept, held + n
        if held >= share:
            groups.append((start, dept))
            start, held = None, 0
    return groups + ([(start, counts[-1][0])] if start else [])


def _write_districts(con, layers) -> None:
    import pandas as pd
    frames = [pd.DataFrame({"layer": name, "key": g["key"], "label": g["label"],
                            "geometry_wkt": g.geometry.to_wkt()}) for name, g in layers.items()]
    con.execute("DELETE FROM districts")
    if frames:
        df = pd.concat(frames, ignore_index=True).astype("string")
        con.register("districts_df", df)
        con.execute("INSERT INTO districts SELECT layer, key, label, geometry_wkt "
                    "FROM districts_df")
        con.unregister("districts_df")


def _log_ingests(con, raws) -> None:
    loaded = dict(con.execute("SELECT source_file, count(*) FROM incoming GROUP BY 1"
                              ).fetchall())
    rejected = dict(con.execute("SELECT source_file, count(*) FROM new_rejects GROUP BY 1"
                                ).fetchall())
    for raw in raws:
        for rf in raw.files:
            con.execute("INSERT INTO ingests (ingested_at, source, rows_read, rows_loaded, "
                        "rows_rejected, content_hash, kind) VALUES (now(), ?, ?, ?, ?, ?, "
                        "'requests')",
                        [rf.label, rf.rows, loaded.get(rf.label, 0),
                         rejected.get(rf.label, 0), rf.content_hash])


# -- onboarding: a sample of one source, no store ---------------------------------------------

def preview(con, params, source, rows: int, layers=None) -> list[tuple]:
    """Classify the first ``rows`` data rows of one source without touching any store.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A throwaway connection (temp tables are created in it).
    params : Params
    source : params.Source
    rows : int
        How many data rows to look at.
    layers : dict, optional
        Boundary layers (``boundaries.read_layers``): the sample's points are placed in them
        (table ``geo``, for ``crs_check.counts``) and district lookups are built
        (``codes.unmatched_districts``).

    Returns
    -------
    list of tuple
        ``(reason, rows, first file, first row)`` per reject reason (duplicates are not
        looked for), malformed CSV lines included.
    """
    profile = profiles.resolve(source)
    _lookup_tables(con, params)
    con.execute(_classified_ddl(params))
    raw = sources.read(con, source, params, "raw0", _wanted(profile, source, params))
    _stage(con, params, 0, source, profile, raw, limit=rows)
    if layers is not None:
        _geo(con, layers)
        _district_lookups(con, params, layers)
    bad = " UNION ALL ".join(f"SELECT 'malformed_line', {_lit(rf.label)}, source_row FROM "
                             f"{rf.bad_table} WHERE source_row <= {int(rows)}"
                             for rf in raw.files if rf.bad_table)
    return con.execute(
        f"SELECT reason, count(*), min(source_file), min(source_row) FROM (SELECT reason, "
        f"source_file, source_row FROM classified WHERE reason IS NOT NULL"
        f"{' UNION ALL ' + bad if bad else ''}) GROUP BY 1 ORDER BY 1").fetchall()


