"""Ingest: read every source, canonicalize, validate, place in districts, upsert atomically.

One call does, inside one DuckDB transaction under the writer lock:

1. read each source's files into raw tables (``sources``) and map them to canonical text with
   its profile (``profiles``);
2. parse timestamps (local time in the source's zone -> UTC; ISO values with an offset keep
   it), map statuses, map departments to slugs, and reject rows that cannot be loaded, each
   with its file, row and reason;
3. keep one version per request id (latest ``updated_at`` wins; the others are rejects with
   reason ``duplicate``);
4. place coordinates in every boundary layer with one spatial query per layer, over distinct
   points (``boundaries``);
5. upsert into ``requests``: new ids are inserted, changed rows replaced, identical rows left
   alone, older versions than the store's ignored (``stale``).

Any error rolls the transaction back, so the store is exactly as it was. The rules for each
kind of bad row are in docs/architecture.md ("Ingest: bad rows").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import boundaries as bnd
from . import profiles, sources, store
from .config import slugify
from .errors import SourceError

TEXT_FIELDS = ["request_id", "service_name", "department", "status", "address", "channel"]
DATE_FIELDS = ["requested_at", "updated_at", "closed_at", "due_at"]
COORD_FIELDS = ["lat", "lon", "x", "y"]
MAX_TEXT = 2000  # longer address/name values are cut and flagged 'truncated'
OFFSET_RX = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$"
REASONS = {
    "missing_request_id": "no request id",
    "missing_requested_at": "no creation date",
    "bad_requested_at": "creation date not readable",
    "unknown_department": "department value not in any department's source_codes",
    "closed_before_created": "closed more than a day before it was created",
    "duplicate": "an older version of a request id that appears again",
}


# -- report ----------------------------------------------------------------------------------

@dataclass
class SourceReport:
    """What happened to one source's rows."""

    name: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    filtered: int = 0
    loaded: int = 0
    rejected: dict = field(default_factory=dict)   # reason -> rows
    quality: dict = field(default_factory=dict)    # flag -> rows kept with it
    districts: dict = field(default_factory=dict)  # layer -> {spatial, source_column, unassigned}

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())


@dataclass
class IngestReport:
    """The outcome of ``ingest``: per source counts and the upsert's effect on the store."""

    store: str
    sources: list[SourceReport] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    total_in_store: int = 0

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_loaded(self) -> int:
        return sum(s.loaded for s in self.sources)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sources)

    def summary(self) -> str:
        """A plain-text quality summary (what the CLI prints)."""
        out = [f"Ingested into {self.store}: {self.rows_read:,} rows read, "
               f"{self.rows_loaded:,} loaded, {self.rows_rejected:,} rejected."]
        for s in self.sources:
            out.append(f"  source {s.name} ({len(s.files)} file(s)): {s.rows_read:,} read, "
                       f"{s.loaded:,} loaded, {s.rows_rejected:,} rejected"
                       + (f", {s.filtered:,} filtered out" if s.filtered else ""))
            for reason, n in sorted(s.rejected.items()):
                out.append(f"    rejected {reason}: {n:,} ({REASONS.get(reason, reason)})")
            for flag, n in sorted(s.quality.items()):
                out.append(f"    kept with flag {flag}: {n:,}")
            for layer, counts in s.districts.items():
                parts = ", ".join(f"{k} {v:,}" for k, v in counts.items())
                out.append(f"    district_{layer}: {parts}")
        out.append(f"  store: {self.inserted:,} new, {self.updated:,} updated, "
                   f"{self.unchanged:,} unchanged, {self.stale:,} older than stored; "
                   f"{self.total_in_store:,} requests in the store.")
        return "\n".join(out)


# -- entry point -----------------------------------------------------------------------------

def ingest(params) -> IngestReport:
    """Load every source in city.yaml into the store; return what happened.

    Parameters
    ----------
    params : Params

    Returns
    -------
    IngestReport
        Per source: rows read, loaded, rejected by reason, quality flags, how districts were
        assigned; for the store: new, updated, unchanged and stale rows.

    Raises
    ------
    StoreBusyError
        Another process is ingesting.
    SourceError
        A source cannot be read or lacks a required column; the store is left unchanged.
    """
    layers = bnd.read_layers(params)
    with store.write_lock(params), store.connect(params, read_only=False) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            report = _run(con, params, layers)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return report


def _run(con, params, layers) -> IngestReport:
    store.ensure_schema(con, params)
    _lookup_tables(con, params)
    con.execute(_staged_ddl(params))
    reports, raws = [], []
    for i, source in enumerate(params.city.sources):
        profile = profiles.resolve(source)
        raw = sources.read(con, source, params, f"raw{i}", _wanted(profile, source, params))
        reports.append(_stage(con, params, i, source, profile, raw))
        raws.append(raw)
    _classify(con)
    _geo(con, params, layers)
    _build_incoming(con, params)
    report = IngestReport(str(params.store_path), reports)
    _tally(con, params, report)
    _write_rejects(con, raws)
    _upsert(con, params, report)
    _write_districts(con, layers)
    _log_ingests(con, raws, reports)
    return report


# -- step 1: raw -> staged text ---------------------------------------------------------------

def _wanted(profile, source, params):
    """Pick the columns ingest uses; a missing required column is a ``SourceError``."""
    src_cols = [b.source_column for b in params.city.boundaries if b.source_column]

    def pick(columns):
        missing = profile.missing(columns)
        if missing:
            need = "; ".join(f"{m} <- {' | '.join(profile.columns.get(m, ('?',)))}"
                             for m in missing)
            raise SourceError(
                f"source {sources.source_name(source)!r} (profile {profile.name}) lacks required "
                f"column(s): {need}. Found: {', '.join(columns) or 'no columns'}. Fix: rename "
                f"them with 'columns: {{rename: {{field: column}}}}' on the source in city.yaml, "
                f"or choose the right profile (`stat-lib profiles`)", path=source.path)
        used = set(profile.match(columns).values())
        used |= {c for c in columns if profiles.norm(c) in {profiles.norm(s) for s in src_cols}}
        return [c for c in columns if c in used] or list(columns)
    return pick


def _staged_ddl(params) -> str:
    srcs = "".join(f", src_{b.layer} VARCHAR" for b in params.city.boundaries)
    return ("CREATE OR REPLACE TEMP TABLE staged (source_index INT, source_file VARCHAR, "
            "source_row BIGINT, request_id VARCHAR, service_name VARCHAR, dept_raw VARCHAR, "
            "status_raw VARCHAR, requested_text VARCHAR, requested_at TIMESTAMPTZ, "
            "updated_at TIMESTAMPTZ, closed_at TIMESTAMPTZ, due_at TIMESTAMPTZ, "
            "address VARCHAR, channel VARCHAR, lat_in DOUBLE, lon_in DOUBLE, x_in DOUBLE, "
            f"y_in DOUBLE, crs VARCHAR, flags VARCHAR[]{srcs})")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _text(col: str | None) -> str:
    return f"NULLIF(trim(CAST({_q(col)} AS VARCHAR)), '')" if col else "NULL::VARCHAR"


def _timestamp(col: str | None, dtype: str, tz: str, formats) -> str:
    """SQL turning one source date column into TIMESTAMPTZ (NULL when absent/unreadable)."""
    if not col:
        return "NULL::TIMESTAMPTZ"
    dtype = dtype.upper()
    if "WITH TIME ZONE" in dtype:
        return _q(col)
    if dtype.startswith(("TIMESTAMP", "DATE")):
        return f"timezone({_lit(tz)}, CAST({_q(col)} AS TIMESTAMP))"
    v, fmts = _text(col), "[" + ", ".join(_lit(f) for f in formats) + "]"
    return (f"CASE WHEN regexp_matches({v}, {_lit(OFFSET_RX)}) THEN try_cast({v} AS TIMESTAMPTZ)"
            f" ELSE timezone({_lit(tz)}, coalesce(try_strptime({v}, {fmts}), "
            f"try_cast({v} AS TIMESTAMP))) END")


def _stage(con, params, index, source, profile, raw) -> SourceReport:
    """Insert one source's rows into ``staged`` as canonical values; count what was read."""
    report = SourceReport(raw.name, [f.label for f in raw.files])
    found = profile.match(list(raw.columns))
    tz = profile.timezone or params.city.timezone
    exprs = [f"{index}", "__file", "__row"]
    exprs += [_text(found.get(f)) for f in ("request_id", "service_name", "department",
                                             "status")]
    exprs.append(_text(found.get("requested_at")))
    exprs += [_timestamp(found.get(f), raw.columns.get(found.get(f), ""), tz,
                         profile.date_formats) for f in DATE_FIELDS]
    exprs += [_text(found.get("address")), _text(found.get("channel"))]
    exprs += [f"try_cast({_text(found.get(f))} AS DOUBLE)" for f in COORD_FIELDS]
    exprs.append(_lit(profile.xy_crs))
    exprs.append(_bad_dates(found, raw.columns, tz, profile.date_formats))
    exprs += [_district_source(b, raw.columns) for b in params.city.boundaries]
    where = f" WHERE ({profile.filter})" if profile.filter else ""
    for rf in raw.files:
        report.rows_read += rf.rows
        try:
            con.execute(f"INSERT INTO staged SELECT {', '.join(exprs)} FROM {rf.table}{where}")
        except Exception as exc:
            raise SourceError(f"cannot apply the source's mapping/filter: "
                              f"{str(exc).splitlines()[0]}", path=rf.label) from None
    staged = con.execute("SELECT count(*) FROM staged WHERE source_index = ?",
                         [index]).fetchall()[0][0]
    report.filtered = report.rows_read - staged
    return report


def _bad_dates(found, columns, tz, formats) -> str:
    """A list of ``bad_<field>`` flags for optional dates that have text but do not parse."""
    items = []
    for f in DATE_FIELDS[1:]:
        col = found.get(f)
        if col and not columns.get(col, "").upper().startswith(("TIMESTAMP", "DATE")):
            items.append(f"CASE WHEN {_text(col)} IS NOT NULL AND "
                         f"({_timestamp(col, 'VARCHAR', tz, formats)}) IS NULL "
                         f"THEN 'bad_{f}' END")
    return f"list_filter([{', '.join(items)}]::VARCHAR[], lambda x: x IS NOT NULL)" if items else \
        "[]::VARCHAR[]"


def _district_source(boundary, columns) -> str:
    col = next((c for c in columns if boundary.source_column and
                profiles.norm(c) == profiles.norm(boundary.source_column)), None)
    # numbers read as 10.0 become '10', to match the layer's key text
    return f"regexp_replace({_text(col)}, '\\.0+$', '')" if col else "NULL::VARCHAR"


# -- step 2: lookups, rejects, duplicates ----------------------------------------------------

def _lookup_tables(con, params) -> None:
    import pandas as pd
    depts = pd.DataFrame(list(params.department_for_code().items()),
                         columns=["code", "slug"], dtype="string")
    con.register("dept_map_df", depts)
    con.execute("CREATE OR REPLACE TEMP TABLE dept_map AS SELECT * FROM dept_map_df")
    con.unregister("dept_map_df")


def _classify(con) -> None:
    """Give every staged row a department slug and a reject reason (NULL: loadable)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE classified AS
        SELECT s.*, d.slug AS department,
          CASE WHEN s.request_id IS NULL THEN 'missing_request_id'
               WHEN s.requested_text IS NULL THEN 'missing_requested_at'
               WHEN s.requested_at IS NULL THEN 'bad_requested_at'
               WHEN d.slug IS NULL THEN 'unknown_department'
               WHEN s.closed_at < s.requested_at - INTERVAL 1 DAY THEN 'closed_before_created'
          END AS reason
        FROM staged s LEFT JOIN dept_map d ON s.dept_raw = d.code""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT *, row_number() OVER (PARTITION BY request_id ORDER BY
                    coalesce(updated_at, closed_at, requested_at) DESC,
                    source_index DESC, source_file DESC, source_row DESC) AS version
        FROM classified WHERE reason IS NULL""")


# -- step 3: coordinates and districts -------------------------------------------------------

def _geo(con, params, layers) -> None:
    """One spatial placement per layer over the distinct input coordinates -> table ``geo``."""
    pts = store.frame(con, """
        SELECT DISTINCT crs, lat_in, lon_in, x_in, y_in FROM ranked
        WHERE version = 1 AND ((lat_in IS NOT NULL AND lon_in IS NOT NULL)
                               OR (x_in IS NOT NULL AND y_in IS NOT NULL))""")
    lat, lon = _to_wgs84(pts)
    lat, lon, flag, keys = _place_all(lat, lon, layers)
    geo = pts.assign(lat=lat, lon=lon, geo_flag=flag)
    for layer, k in keys.items():
        geo[f"d_{layer}"] = k
    for col in ["geo_flag", *(f"d_{layer}" for layer in keys)]:
        geo[col] = geo[col].astype("string")
    con.register("geo_df", geo)
    con.execute("CREATE OR REPLACE TEMP TABLE geo AS SELECT * FROM geo_df")
    con.unregister("geo_df")


def _to_wgs84(pts) -> tuple[np.ndarray, np.ndarray]:
    """lat/lon from the lat/lon columns, else from x/y in the source's CRS."""
    lat = pts["lat_in"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    lon = pts["lon_in"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    x = pts["x_in"].to_numpy(dtype=float, na_value=np.nan)
    y = pts["y_in"].to_numpy(dtype=float, na_value=np.nan)
    use_xy = ~_usable(lat, lon) & np.isfinite(x) & np.isfinite(y) & ((x != 0) | (y != 0))
    for crs in pts.loc[use_xy, "crs"].unique():
        from pyproj import Transformer
        m = use_xy & (pts["crs"] == crs).to_numpy()
        t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon[m], lat[m] = t.transform(x[m], y[m])
    return lat, lon


def _usable(lat, lon) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90)
                & (np.abs(lon) <= 180) & ~((lat == 0) & (lon == 0)))


def _place_all(lat, lon, layers):
    """Place points; swap lat/lon when only the swapped point lands inside; flag the rest."""
    ok = _usable(lat, lon)
    keys = {name: _place(layer, lat, lon, ok) for name, layer in layers.items()}
    flag = np.where(ok, None, "no_coordinates").astype(object)
    if not layers:
        return np.where(ok, lat, np.nan), np.where(ok, lon, np.nan), flag, keys
    inside = np.zeros(len(lat), dtype=bool)
    for k in keys.values():
        inside |= k != None  # noqa: E711 (elementwise)
    retry = ~inside & _usable(lon, lat)
    swapped = {name: _place(layer, lon, lat, retry) for name, layer in layers.items()}
    fixed = np.zeros(len(lat), dtype=bool)
    for k in swapped.values():
        fixed |= k != None  # noqa: E711
    for name in keys:
        keys[name] = np.where(fixed, swapped[name], keys[name])
    lat, lon = np.where(fixed, lon, lat), np.where(fixed, lat, lon)
    flag[fixed] = "latlon_swapped"
    outside = ok & ~inside & ~fixed
    flag[outside] = "outside_boundaries"
    keep = (ok & inside) | fixed
    return np.where(keep, lat, np.nan), np.where(keep, lon, np.nan), flag, keys


def _place(layer, lat, lon, mask) -> np.ndarray:
    out = np.full(len(lat), None, dtype=object)
    out[mask] = bnd.place(layer, lon[mask], lat[mask])
    return out


# -- step 4: canonical rows ------------------------------------------------------------------

def _service_codes(con, params) -> None:
    import pandas as pd
    pairs = con.execute("SELECT DISTINCT department, service_name FROM ranked "
                        "WHERE version = 1").fetchall()
    rows = []
    for dept, name in pairs:
        svc = params.departments[dept].service(name) if name is not None else None
        rows.append((dept, name, svc.code if svc else slugify(name or "unnamed")))
    df = pd.DataFrame(rows, columns=["department", "service_name", "service_code"],
                      dtype="string")
    con.register("svc_df", df)
    con.execute("CREATE OR REPLACE TEMP TABLE svc AS SELECT * FROM svc_df")
    con.unregister("svc_df")


def _status_table(con, params) -> None:
    import pandas as pd
    rows = []
    for i, source in enumerate(params.city.sources):
        rows += [(i, k.lower(), v) for k, v in profiles.resolve(source).status_map.items()]
    df = pd.DataFrame(rows, columns=["source_index", "raw", "status"]).astype(
        {"raw": "string", "status": "string"})
    con.register("status_df", df)
    con.execute("CREATE OR REPLACE TEMP TABLE status_map AS SELECT * FROM status_df")
    con.unregister("status_df")


def _build_incoming(con, params) -> None:
    """The loadable rows in canonical shape, with districts, quality flags and a row hash."""
    _service_codes(con, params)
    _status_table(con, params)
    dcols, dmeth = [], []
    for b in params.city.boundaries:
        dcols.append(f"coalesce(g.d_{b.layer}, r.src_{b.layer}, 'unassigned') "
                     f"AS district_{b.layer}")
        dmeth.append(f"CASE WHEN g.d_{b.layer} IS NOT NULL THEN 'spatial' WHEN r.src_{b.layer} "
                     f"IS NOT NULL THEN 'source_column' ELSE 'unassigned' END AS how_{b.layer}")
    flags = ("list_concat(r.flags, [g.geo_flag, "
             "CASE WHEN g.crs IS NULL THEN 'no_coordinates' END, "
             "CASE WHEN sm.status IS NULL AND r.status_raw IS NOT NULL THEN 'status_unmapped' END, "
             "CASE WHEN r.closed_at < r.requested_at THEN 'closed_before_created' END, "
             f"CASE WHEN length(r.address) > {MAX_TEXT} OR length(r.service_name) > {MAX_TEXT}"
             " THEN 'truncated' END])")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE incoming AS
        SELECT r.request_id, sv.service_code, left(r.service_name, {MAX_TEXT}) AS service_name,
          r.department,
          coalesce(sm.status, CASE WHEN r.closed_at IS NOT NULL THEN 'closed' ELSE 'open' END)
            AS status,
          r.status_raw, r.requested_at, r.updated_at,
          CASE WHEN r.closed_at < r.requested_at THEN r.requested_at ELSE r.closed_at END
            AS closed_at,
          r.due_at, left(r.address, {MAX_TEXT}) AS address, g.lat, g.lon, r.channel,
          r.source_file, r.source_row, r.source_index,
          {', '.join(dcols + dmeth) + ',' if dcols else ''}
          NULLIF(array_to_string(list_sort(list_distinct(list_filter({flags}, lambda x: x IS NOT NULL))), ','),
                 '') AS quality
        FROM ranked r
        LEFT JOIN geo g ON g.crs = r.crs AND g.lat_in IS NOT DISTINCT FROM r.lat_in
          AND g.lon_in IS NOT DISTINCT FROM r.lon_in AND g.x_in IS NOT DISTINCT FROM r.x_in
          AND g.y_in IS NOT DISTINCT FROM r.y_in
        LEFT JOIN svc sv ON sv.department = r.department
          AND sv.service_name IS NOT DISTINCT FROM r.service_name
        LEFT JOIN status_map sm ON sm.source_index = r.source_index
          AND sm.raw = lower(r.status_raw)
        WHERE r.version = 1""")
    hashed = [c for c in store.CANONICAL if c not in ("source_file", "source_row")]
    hashed += store.district_columns(params) + ["quality"]
    con.execute(f"ALTER TABLE incoming ADD COLUMN row_hash UBIGINT")
    con.execute(f"UPDATE incoming SET row_hash = hash({', '.join(_q(c) for c in hashed)})")


# -- step 5: counts, rejects, upsert ---------------------------------------------------------

def _tally(con, params, report: IngestReport) -> None:
    for i, s in enumerate(report.sources):
        s.rejected = dict(con.execute(
            "SELECT reason, count(*) FROM (SELECT reason FROM classified WHERE source_index = ? "
            "AND reason IS NOT NULL UNION ALL SELECT 'duplicate' FROM ranked "
            "WHERE source_index = ? AND version > 1) GROUP BY reason ORDER BY reason",
            [i, i]).fetchall())
        s.loaded = con.execute("SELECT count(*) FROM incoming WHERE source_index = ?",
                               [i]).fetchall()[0][0]
        s.quality = dict(con.execute(
            "SELECT f, count(*) FROM (SELECT unnest(string_split(quality, ',')) AS f FROM "
            "incoming WHERE source_index = ?) GROUP BY f ORDER BY f", [i]).fetchall())
        for b in params.city.boundaries:
            s.districts[b.layer] = dict(con.execute(
                f"SELECT how_{b.layer}, count(*) FROM incoming WHERE source_index = ? "
                f"GROUP BY 1 ORDER BY 1", [i]).fetchall())


def _write_rejects(con, raws) -> None:
    """Replace the rejects of every file read with this ingest's."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_rejects AS
        SELECT source_index, source_file, source_row, request_id, reason,
               CASE reason WHEN 'bad_requested_at' THEN 'requested date ' || requested_text
                 WHEN 'unknown_department' THEN 'department value ' || coalesce(dept_raw, 'empty')
                 WHEN 'closed_before_created' THEN 'closed ' || closed_at::VARCHAR
                   || ' < created ' || requested_at::VARCHAR END AS detail, department
        FROM classified WHERE reason IS NOT NULL
        UNION ALL
        SELECT d.source_index, d.source_file, d.source_row, d.request_id, 'duplicate',
               'superseded by ' || k.source_file || ' row ' || k.source_row, d.department
        FROM ranked d JOIN ranked k ON k.request_id = d.request_id AND k.version = 1
        WHERE d.version > 1""")
    for raw in raws:
        for rf in raw.files:
            con.execute("DELETE FROM rejects WHERE source_file = ?", [rf.label])
            con.execute(f"""
                INSERT INTO rejects SELECT n.source_file, n.source_row, n.request_id, n.reason,
                       n.detail, to_json(t)::VARCHAR, n.department
                FROM new_rejects n JOIN {rf.table} t ON t.__row = n.source_row
                WHERE n.source_file = ?""", [rf.label])


def _upsert(con, params, report: IngestReport) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE actions AS
        SELECT i.request_id,
          CASE WHEN r.request_id IS NULL THEN 'insert'
               WHEN r.row_hash = i.row_hash THEN 'unchanged'
               WHEN coalesce(i.updated_at, i.closed_at, i.requested_at)
                    >= coalesce(r.updated_at, r.closed_at, r.requested_at)
                    OR r.requested_at IS NULL THEN 'update'
               ELSE 'stale' END AS action
        FROM incoming i LEFT JOIN requests r USING (request_id)""")
    counts = dict(con.execute("SELECT action, count(*) FROM actions GROUP BY 1").fetchall())
    report.inserted, report.updated = counts.get("insert", 0), counts.get("update", 0)
    report.unchanged, report.stale = counts.get("unchanged", 0), counts.get("stale", 0)
    con.execute("DELETE FROM requests WHERE request_id IN "
                "(SELECT request_id FROM actions WHERE action = 'update')")
    cols = store.CANONICAL + store.district_columns(params) + ["quality", "row_hash"]
    names = ", ".join(_q(c) for c in cols)
    con.execute(f"INSERT INTO requests ({names}) SELECT {', '.join('i.' + _q(c) for c in cols)} "
                f"FROM incoming i JOIN actions a USING (request_id) "
                f"WHERE a.action IN ('insert', 'update')")
    report.total_in_store = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]


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


def _log_ingests(con, raws, reports) -> None:
    for raw, rep in zip(raws, reports):
        for rf in raw.files:
            loaded, rejected = con.execute(
                "SELECT (SELECT count(*) FROM incoming WHERE source_file = $f), "
                "(SELECT count(*) FROM new_rejects WHERE source_file = $f)",
                {"f": rf.label}).fetchall()[0]
            con.execute("INSERT INTO ingests VALUES (now(), ?, ?, ?, ?, ?)",
                        [rf.label, rf.rows, loaded, rejected, rf.content_hash])
