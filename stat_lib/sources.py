"""Sources: read a configured source into DuckDB as raw rows with provenance.

Every reader yields one temporary DuckDB table per file with the source's own columns plus
``__file`` (path relative to the home folder) and ``__row`` (1-based data row). CSV is read by
DuckDB's ``read_csv`` (streaming, parallel; any size), Parquet by ``read_parquet``, Open311
JSON by ``read_json``; Excel (openpyxl) and SQL (SQLAlchemy) through pandas. Text formats are
read as text (``all_varchar``) so nothing is coerced before ingest checks it.
"""

from __future__ import annotations

import glob
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SourceError

MAX_LINE = 64 * 1024 * 1024  # a single CSV line up to 64 MB (default DuckDB: 2 MB)
NATIVE_CSV_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1",
                        "latin1": "latin-1", "iso-8859-1": "latin-1", "utf-16": "utf-16"}


@dataclass
class RawFile:
    """One file (or query) read into ``table``."""

    label: str
    table: str
    rows: int = 0
    content_hash: str = ""


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
    """A file's provenance label: its path relative to the home folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(params.home))
    except ValueError:
        return str(path)


def file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def read(con, source, params, prefix: str, wanted=None) -> RawSource:
    """Read every file of ``source`` into temp tables ``<prefix>_<i>``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    source : config.Source
    params : Params
    prefix : str
        Table-name prefix.
    wanted : callable, optional
        ``wanted(columns) -> list`` picks the columns to keep from those the file has (CSV reads
        only those); default all.
    """
    raw = RawSource(source_name(source))
    if source.format == "sql":
        raw.files.append(_read_sql(con, source, f"{prefix}_0", wanted))
    else:
        reader = {"csv": _read_csv, "parquet": _read_parquet, "json": _read_json,
                  "excel": _read_excel}[source.format]
        for i, path in enumerate(paths(source, params)):
            rf = reader(con, path, source, f"{prefix}_{i}", label(path, params), wanted)
            rf.content_hash = file_hash(path)
            raw.files.append(rf)
    for rf in raw.files:
        rf.rows = con.execute(f"SELECT count(*) FROM {rf.table}").fetchall()[0][0]
        cols = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                f"WHERE table_name = '{rf.table}'").fetchall())
        for k, v in cols.items():
            raw.columns.setdefault(k, v)
    return raw


def _select(columns, wanted) -> list[str]:
    return list(wanted(columns)) if wanted else list(columns)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number_rows(con, staging: str, table: str, label_: str) -> None:
    # rowids follow insertion (= file) order; inside a transaction they start at an offset
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT ? AS __file, "
                f"CAST(rowid - (SELECT min(rowid) FROM {staging}) + 1 AS BIGINT) AS __row, * "
                f"FROM {staging}", [label_])
    con.execute(f"DROP TABLE {staging}")


# -- CSV -------------------------------------------------------------------------------------

def _read_csv(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    if path.stat().st_size == 0:
        raise SourceError("file is empty (0 bytes); expected a header row and data rows. "
                          "Re-export the file or remove it from 'sources' in city.yaml",
                          path=path)
    enc = source.encoding.lower()
    path = path if enc in NATIVE_CSV_ENCODINGS else _transcode(path, source.encoding)
    # naming the dialect skips DuckDB's sniffer, which crawls over very long lines
    opts = (f"header=true, all_varchar=true, max_line_size={MAX_LINE}, "
            f"delim='{_delimiter(path)}', quote='\"', escape='\"', "
            f"encoding='{NATIVE_CSV_ENCODINGS.get(enc, 'utf-8')}'")
    scan = f"read_csv('{_sql_path(path)}', {opts})"
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        keep = ", ".join(_q(c) for c in _select(cols, wanted)) or "*"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_s AS SELECT {keep} FROM {scan}")
    except Exception as exc:
        raise _csv_error(exc, path, source) from None
    _number_rows(con, f"{table}_s", table, label_)
    return RawFile(label_, table)


def _delimiter(path: Path) -> str:
    """The header line's most frequent of comma, tab, semicolon, pipe (comma on a tie)."""
    with open(path, "rb") as f:
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
    if "unicode" in text.lower() or "utf-8" in text.lower():
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
    with open(path, encoding=encoding, errors="strict", newline="") as src, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 20), ""):
            dst.write(chunk)
    return out


# -- Parquet, JSON, Excel, SQL ---------------------------------------------------------------

def _read_parquet(con, path: Path, source, table: str, label_: str, wanted) -> RawFile:
    scan = f"read_parquet('{_sql_path(path)}', file_row_number=true)"
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        keep = [c for c in _select([c for c in cols if c != "file_row_number"], wanted)]
        select = ", ".join(_q(c) for c in keep + ["file_row_number"])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_s AS SELECT {select} FROM {scan}")
    except Exception as exc:
        raise SourceError(f"cannot read as Parquet: {str(exc).splitlines()[0]}",
                          path=path) from None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT ? AS __file, "
                f"CAST(file_row_number + 1 AS BIGINT) AS __row, * EXCLUDE (file_row_number) "
                f"FROM {table}_s", [label_])
    con.execute(f"DROP TABLE {table}_s")
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
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_s AS SELECT {keep} FROM {scan}")
    except Exception as exc:
        raise SourceError(f"cannot read as an Open311 JSON list: {str(exc).splitlines()[0]}; "
                          f"expected [{{\"service_request_id\": ...}}, ...]", path=path) from None
    _number_rows(con, f"{table}_s", table, label_)
    return RawFile(label_, table)


def _register_frame(con, df, table: str, label_: str, wanted) -> RawFile:
    df = df[_select(list(df.columns), wanted)]
    df = df.astype("string")  # text like the other readers; missing stays NULL
    con.register(f"{table}_df", df)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_s AS SELECT * FROM {table}_df")
    con.unregister(f"{table}_df")
    _number_rows(con, f"{table}_s", table, label_)
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
