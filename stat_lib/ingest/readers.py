"""Source readers: a configured source read into DuckDB as raw rows with provenance.

Every reader yields one table per file (in the in-memory catalog ``stat_lib_raw``, which every
cursor of the connection sees: files are read two at a time) with the source's own columns, in
file order; ``RawFile.numbered()`` adds ``__row`` (1-based data row) and ``__rowid`` without
copying the table. CSV is read by DuckDB's ``read_csv`` (streaming, parallel; any size), Parquet by
``read_parquet``, Open311 JSON by ``read_json``; Excel (openpyxl) and SQL (SQLAlchemy) through
pandas. Text formats are read as text (``all_varchar``) so nothing is coerced before ingest
checks it. A CSV line with the wrong number of fields is kept aside as a malformed line (table
``RawFile.bad_table``) unless more than the source's ``max_malformed`` share of lines are. A
gzip-compressed CSV (``.csv.gz``, told by its bytes) is read, and checked, as its text.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import SourceError
from . import csv_lines

MAX_LINE = 64 * 1024 * 1024  # a single CSV line up to 64 MB (default DuckDB: 2 MB)
MALFORMED = ("TOO MANY COLUMNS", "MISSING COLUMNS", "UNQUOTED VALUE")  # DuckDB error types
NATIVE_CSV_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1",
                        "latin1": "latin-1", "iso-8859-1": "latin-1", "utf-16": "utf-16"}


@dataclass
class RawFile:
    """One file (or query) read into ``table`` (rows in file order).

    ``rows`` counts every data row, malformed lines included; ``bad_table`` (when some lines
    were malformed) holds ``source_row, line, detail, raw`` for each of them.
    """

    label: str
    table: str
    rows: int = 0
    content_hash: str = ""
    base: int = 0
    malformed: int = 0
    bad_table: str | None = None
    columns: dict = field(default_factory=dict)  # this file's own: name -> DuckDB type

    def numbered(self) -> str:
        """A FROM-clause subquery: the table's columns plus ``__rowid`` and ``__row``.

        ``__row`` is the 1-based data row in the file; rows after a malformed line are
        shifted past it (an ASOF join on the malformed lines' positions).
        """
        good = f"(t.rowid - {self.base} + 1)"
        if not self.malformed:
            return (f"(SELECT t.*, t.rowid AS __rowid, CAST({good} AS BIGINT) AS __row "
                    f"FROM {self.table} t)")
        return (f"(SELECT t.*, t.rowid AS __rowid, CAST({good} + coalesce(s.n, 0) AS BIGINT) "
                f"AS __row FROM {self.table} t ASOF LEFT JOIN {self.bad_table}_shift s "
                f"ON {good} > s.k)")


@dataclass
class RawSource:
    """A source's files, read; ``columns`` maps column name -> DuckDB type (shared by files)."""

    name: str
    files: list[RawFile] = field(default_factory=list)
    columns: dict = field(default_factory=dict)


def paths(source, params) -> list[Path]:
    """The files a source names (a glob may name several), sorted; none -> ``SourceError``."""
    pattern = str(params.path(source.path))
    found = sorted(Path(p) for p in glob.glob(pattern)) if glob.has_magic(pattern) else [
        Path(pattern)]
    found = [p for p in found if p.exists()]
    if not found:
        raise SourceError(f"no file matches source {source_name(source)!r}; fix 'path' in "
                          f"city.yaml (relative paths start at the home folder {params.home})",
                          path=pattern)
    return found


def source_name(source) -> str:
    return source.name or (Path(source.path).stem if source.path else "sql")


def label(path: Path, params) -> str:
    """A file's provenance label: its path relative to the home folder when inside it (a link
    inside the home is inside it: the link's own path counts, not only its target's)."""
    for file, home in ((os.path.abspath(path), os.path.abspath(params.home)),
                       (Path(path).resolve(), Path(params.home).resolve())):
        try:
            return str(Path(file).relative_to(home))
        except ValueError:
            pass
    return str(path)


def file_hash(path: Path) -> str:
    """A content hash (sha256, first 32 hex digits); hashlib releases the GIL while hashing."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()[:32]


RAW_DB = "stat_lib_raw"  # an in-memory catalog every cursor of the connection sees
READ_THREADS = 2  # files read at once (DuckDB reads one CSV on one thread: see MAX_LINE)


def raw_table(name: str) -> str:
    """The qualified name of a raw table (in :data:`RAW_DB`, shared by the reading cursors;
    temp tables are private to one cursor)."""
    return f"{RAW_DB}.{name}"


def read(con, source, params, prefix: str, wanted=None) -> RawSource:
    """Read every file of ``source`` into tables ``stat_lib_raw.<prefix>_<i>``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    source : params.Source
    params : Params
    prefix : str
        Table-name prefix.
    wanted : callable, optional
        ``wanted(columns) -> list`` picks the columns to keep from those the file has (CSV reads
        only those); default all.
    """
    raw = RawSource(source_name(source))
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {RAW_DB}")
    # row numbers come from rowids, so the readers' inserts must keep the file's order
    order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = true")
    try:
        reader = READERS[format_of(source)]
        if reader.files:
            _read_files(con, source, params, prefix, wanted, raw, reader.read)
        else:
            raw.files.append(reader.read(con, source, raw_table(f"{prefix}_0"), wanted))
    finally:
        con.execute(f"SET preserve_insertion_order = {str(order).lower()}")
    for rf in raw.files:
        good, rf.base = con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM "
                                    f"{rf.table}").fetchall()[0]
        rf.rows = good + rf.malformed
        rf.columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {rf.table}").fetchall()}
        for k, v in rf.columns.items():
            raw.columns.setdefault(k, v)
    return raw


def _read_files(con, source, params, prefix: str, wanted, raw: RawSource, reader) -> None:
    """Read the files of a file source, :data:`READ_THREADS` at once (each on a cursor of its
    own; DuckDB releases the GIL), each then hashed. The first file that fails (in file order)
    is the error; the reads still running then are interrupted, as on Ctrl-C, not awaited."""
    import threading
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
    live, stopped = {}, set()  # file index -> its cursor while reading; reads interrupted
    stop = threading.Event()  # set when stopping: no read starts after it

    def one(i_path):
        i, path = i_path
        cur = live[i] = con.cursor()  # registered before the check: _stop_reads sees it
        try:
            if stop.is_set():
                return None
            rf = reader(cur, path, source, raw_table(f"{prefix}_{i}"), label(path, params),
                        wanted)
        finally:
            del live[i]
            cur.close()
        rf.content_hash = file_hash(path)
        return rf
    files = list(enumerate(paths(source, params)))
    with ThreadPoolExecutor(min(READ_THREADS, len(files)),
                            thread_name_prefix="stat-lib-read") as pool:
        futures = [pool.submit(one, f) for f in files]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C (SIGTERM): stop the reads, then unwind
            _stop_reads(futures, live, stopped, stop)
            raise
        if any(f.exception() for f in done):
            _stop_reads(futures, live, stopped, stop)
    failed = [f.exception() for i, f in enumerate(futures)
              if not f.cancelled() and i not in stopped and f.exception()]
    if failed:
        raise failed[0]
    raw.files.extend(f.result() for f in futures)


def _stop_reads(futures, live: dict, stopped: set, stop) -> None:
    """Files not started are not; the reads running are interrupted (their errors unused),
    again and again until they end: an interrupt that comes between two of a read's
    statements, or before its first, is lost."""
    stop.set()
    for f in futures:
        f.cancel()
    while live:
        for i, cur in list(live.items()):
            stopped.add(i)
            try:
                cur.interrupt()
            except Exception:  # noqa: BLE001  (the read ended and closed its cursor meanwhile)
                pass
        time.sleep(0.02)


def _bare(table: str) -> str:
    """A raw table's name without its catalog."""
    return table.rsplit(".", 1)[-1]


def _select(columns, wanted) -> list[str]:
    return list(wanted(columns)) if wanted else list(columns)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- CSV -------------------------------------------------------------------------------------

def _read_csv(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    if _holds_no_text(path):
        raise SourceError("file is empty (0 bytes); expected a header row and data rows. "
                          "Re-export the file or remove it from 'sources' in city.yaml",
                          path=path)
    enc = source.encoding.lower()
    if enc not in NATIVE_CSV_ENCODINGS:
        utf8 = _transcode(path, source.encoding)
        try:
            return _read_csv_file(con, utf8, source, table, label_, wanted, "utf-8")
        finally:
            utf8.unlink()
    return _read_csv_file(con, path, source, table, label_, wanted, NATIVE_CSV_ENCODINGS[enc])


def _holds_no_text(path: Path) -> bool:
    """An empty file, or a gzip one holding 0 bytes of text."""
    with csv_lines.open_bytes(path) as f:
        return f.read(1) == b""


def _read_csv_file(con, path: Path, source, table, label_, wanted, encoding) -> RawFile:
    delim = _delimiter(path)
    _no_twice_named(path, delim, encoding)
    try:
        return _scan_csv(con, path, path, source, table, label_, wanted, encoding, delim)
    except SourceError as exc:
        if "sniffing" not in str(exc) and "quote" not in str(exc).lower():
            raise
        repaired, stray = csv_lines.isolate_stray_quotes(path, _py(delim), encoding)
        if repaired is None:
            raise
    try:  # every line but the stray-quote ones loads; those are malformed lines
        rf = _scan_csv(con, repaired, path, source, table, label_, wanted, encoding, delim)
    finally:
        repaired.unlink(missing_ok=True)
    for line, text in stray.items():
        con.execute(f"UPDATE {rf.bad_table} SET raw = ?, detail = 'an unbalanced quote (\"): "
                    f"the line cannot be split into fields' WHERE line = ?", [text, line])
    return rf


def _no_twice_named(path: Path, delim: str, encoding: str) -> None:
    twice = csv_lines.named_twice(csv_lines.header(path, _py(delim), encoding))
    if twice:
        which = "; ".join(f"{name!r} (columns {', '.join(map(str, cols))})"
                          for name, cols in twice.items())
        raise SourceError(f"the header names a column more than once: {which}; the reader "
                          f"cannot tell which one is meant. Rename or remove the extra one in "
                          f"the export", path=path, row=1)


def _py(delim: str) -> str:
    return "\t" if delim == "\\t" else delim


def _scan_csv(con, path: Path, named: Path, source, table, label_, wanted, encoding,
              delim) -> RawFile:
    """``path`` read into ``table``; errors name ``named`` (the source file)."""
    # naming the dialect skips DuckDB's sniffer, which crawls over very long lines; the
    # compression is told by the file's bytes (DuckDB goes by the name)
    compression = "gzip" if csv_lines.is_gzip(path) else "none"
    opts = (f"header=true, all_varchar=true, max_line_size={MAX_LINE}, "
            f"delim='{delim}', quote='\"', escape='\"', "
            f"encoding='{encoding}', compression='{compression}'")
    scan = f"read_csv('{_sql_path(path)}', {opts}"
    keeps = (f"{scan}, store_rejects=true, rejects_table='{_bare(table)}_rej', "
             f"rejects_scan='{_bare(table)}_scan')")
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}, "
                                          f"ignore_errors=true)").fetchall()]
        keep = ", ".join(_q(c) for c in _select(cols, wanted)) or "*"
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {keep} FROM {keeps}")
    except Exception as exc:
        raise _csv_error(exc, named, source) from None
    rf = RawFile(label_, table)
    _malformed_lines(con, rf, named, source)
    return rf


def _malformed_lines(con, rf: RawFile, path: Path, source) -> None:
    """Keep lines with the wrong number of fields aside; other bad lines fail the file."""
    rej = f"{_bare(rf.table)}_rej"  # DuckDB's rejects tables: temp, this cursor's
    kinds = ", ".join(f"'{k}'" for k in MALFORMED)
    con.execute(f"CREATE OR REPLACE TABLE {rf.table}_bad AS SELECT line - 1 AS source_row, "
                f"line, arg_min(error_message, column_idx) AS detail, "
                f"first(csv_line) AS raw FROM {rej} WHERE error_type IN ({kinds}) GROUP BY line")
    other = con.execute(f"SELECT line, error_type, error_message FROM {rej} WHERE error_type "
                        f"NOT IN ({kinds}) ORDER BY line LIMIT 1").fetchall()
    con.execute(f"DROP TABLE {rej}; DROP TABLE {_bare(rf.table)}_scan")
    if other:
        raise _csv_error(Exception(f"{other[0][2]} Line: {other[0][0]}"), path, source)
    bad = con.execute(f"SELECT count(*), min(line) FROM {rf.table}_bad").fetchall()[0]
    rf.malformed = bad[0]
    if not rf.malformed:
        con.execute(f"DROP TABLE {rf.table}_bad")
        return
    good = con.execute(f"SELECT count(*) FROM {rf.table}").fetchall()[0][0]
    share = rf.malformed / (rf.malformed + good)
    if share > source.max_malformed:
        raise SourceError(
            f"{rf.malformed:,} of {rf.malformed + good:,} data lines ({share:.1%}) do not have "
            f"the header's number of fields (first: line {bad[1]}); more than max_malformed "
            f"({source.max_malformed:.0%}) means the file is not in the expected format. Check "
            f"the delimiter and quoting of the export, or raise 'max_malformed' on this source "
            f"in city.yaml", path=path, row=bad[1])
    rf.bad_table = f"{rf.table}_bad"
    # good rows before the i-th malformed line (i = 1, 2, ...): k = its row - i
    con.execute(f"CREATE OR REPLACE TABLE {rf.bad_table}_shift AS SELECT k, max(i) AS n "
                f"FROM (SELECT source_row - row_number() OVER w AS k, row_number() OVER w AS i "
                f"FROM {rf.bad_table} WINDOW w AS (ORDER BY source_row)) GROUP BY k")


def _delimiter(path: Path) -> str:
    """The header line's most frequent of comma, tab, semicolon, pipe (comma on a tie)."""
    with csv_lines.open_bytes(path) as f:
        head = f.readline(1 << 20)
    counts = {d: head.count(d.encode()) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return "\\t" if best == "\t" else best


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _csv_error(exc, path, source) -> SourceError:
    text = str(exc)
    line = re.search(r"Line: (\d+)", text)
    row = int(line.group(1)) if line else None
    if re.search(r"invalid (unicode|encoding)|byte sequence", text, flags=re.IGNORECASE):
        return SourceError(f"bytes that are not valid {source.encoding} text; set 'encoding' on "
                           f"this source in city.yaml to the file's encoding (e.g. latin-1, "
                           f"cp1252)", path=path, row=row)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return SourceError(f"cannot read as CSV: {first}; check the file is a comma/tab separated "
                       f"export with one header row", path=path, row=row)


def _transcode(path: Path, encoding: str) -> Path:
    """Copy a file in an encoding DuckDB lacks (cp1252, ...) to a UTF-8 temp file, streaming."""
    import codecs
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                          f"utf-8, latin-1, cp1252", path=path, key="encoding") from None
    out = Path(tempfile.mkstemp(suffix=".csv", prefix="stat-lib-")[1])
    with csv_lines.open_text(path, encoding) as src, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 20), ""):
            dst.write(chunk)
    return out


# -- Parquet, JSON, Excel, SQL ---------------------------------------------------------------

def _read_parquet(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    scan = f"read_parquet('{_sql_path(path)}')"
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        keep = ", ".join(_q(c) for c in _select(cols, wanted))
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {keep} FROM {scan}")
    except Exception as exc:
        raise SourceError(f"cannot read as Parquet: {str(exc).splitlines()[0]}",
                          path=path) from None
    return RawFile(label_, table)


def _read_json(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    """Open311 GeoReport v2: a JSON array of request objects."""
    if path.stat().st_size == 0:
        raise SourceError("file is empty (0 bytes); expected a JSON list of requests",
                          path=path)
    scan = f"read_json('{_sql_path(path)}', format='array', records=true)"
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        keep = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in _select(cols, wanted))
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {keep} FROM {scan}")
    except Exception as exc:
        raise SourceError(f"cannot read as an Open311 JSON list: {str(exc).splitlines()[0]}; "
                          f"expected [{{\"service_request_id\": ...}}, ...]", path=path) from None
    return RawFile(label_, table)


def _register_frame(con, df, table: str, label_: str, wanted) -> RawFile:
    df = df[_select(list(df.columns), wanted)]
    df = df.astype("string")  # text like the other readers; missing stays NULL
    view = f"{_bare(table)}_df"
    con.register(view, df)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {view}")
    con.unregister(view)
    return RawFile(label_, table)


def _read_excel(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    import pandas as pd
    try:
        df = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:
        raise SourceError(f"cannot read as an Excel workbook (.xlsx): {exc}", path=path) from None
    df.columns = [str(c) for c in df.columns]
    return _register_frame(con, df, table, label_, wanted)


def _read_sql(con, source, table: str, wanted) -> RawFile:
    import pandas as pd
    import sqlalchemy as sa
    shown = safe_url(source.sql.url)
    try:
        engine = sa.create_engine(source.sql.resolved_url())
        with engine.connect() as conn:
            df = pd.read_sql(sa.text(source.sql.query), conn)
        engine.dispose()
    except Exception as exc:
        msg = _scrub(str(exc).splitlines()[0], source.sql.resolved_url())
        raise SourceError(f"SQL source failed ({type(exc).__name__}: {msg}); check the URL "
                          f"and the query; credentials come from ${{VAR}} environment "
                          f"variables", path=shown) from None
    df.columns = [str(c) for c in df.columns]
    rf = _register_frame(con, df, table, shown, wanted)
    rf.content_hash = hashlib.blake2b(source.sql.query.encode(), digest_size=16).hexdigest()
    return rf


def safe_url(url: str) -> str:
    """A SQLAlchemy URL fit for logs: ``${VAR}`` placeholders kept, any password masked."""
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


def _scrub(text: str, resolved: str) -> str:
    import sqlalchemy as sa
    try:
        pw = sa.make_url(resolved).password
    except Exception:
        pw = None
    text = text.replace(resolved, safe_url(resolved))
    return text.replace(pw, "***") if pw else text


# -- the registry ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reader:
    """A source format: ``read`` fills a temp table; ``files`` readers take a path (globs
    allowed) and declare the ``suffixes`` they are chosen for, others (SQL) take the source."""

    name: str
    read: Callable
    description: str
    suffixes: tuple[str, ...] = ()
    files: bool = True


READERS: dict[str, Reader] = {}


def register_reader(reader: Reader) -> Reader:
    """Add a source format (the one place formats are listed)."""
    READERS[reader.name] = reader
    return reader


def format_of(source) -> str:
    """The reader of a source: its ``format``, else the one registered for its suffix."""
    if source.format is not None:
        if source.format not in READERS:
            raise SourceError(f"unknown format {source.format!r}; expected one of "
                              f"{', '.join(READERS)}", key="sources[].format",
                              path=source.path)
        return source.format
    suffix = Path(source.path).suffix.lower()
    for reader in READERS.values():
        if suffix in reader.suffixes:
            return reader.name
    known = ", ".join(f"{r.name} ({' '.join(r.suffixes)})" for r in READERS.values() if r.files)
    raise SourceError(f"cannot tell the format of {source.path!r} from its suffix; set "
                      f"'format' on the source in city.yaml to one of: {known}",
                      key="sources[].format", path=source.path)


register_reader(Reader("csv", _read_csv, "delimited text (comma, tab, semicolon, pipe)",
                       (".csv", ".txt", ".gz")))
register_reader(Reader("parquet", _read_parquet, "Apache Parquet", (".parquet", ".pq")))
register_reader(Reader("json", _read_json, "Open311 GeoReport v2 JSON list", (".json",)))
register_reader(Reader("excel", _read_excel, "Excel workbook (first sheet)", (".xlsx", ".xls")))
register_reader(Reader("sql", _read_sql, "a SQLAlchemy URL and query", files=False))


def describe() -> str:
    """Every registered format and the suffixes it is chosen for, for `stat-lib profiles`."""
    lines = ["Formats (a source's 'format', else chosen by the file's suffix):"]
    for r in READERS.values():
        where = " ".join(r.suffixes) if r.files else "sql: {url, query}"
        lines.append(f"  {r.name:<8} {where:<18} {r.description}")
    return "\n".join(lines)
