"""``stat-lib backup``: a consistent copy of both stores while nothing is writing.

The source store is copied under its writer lock (no ingest can start meanwhile; one already
running makes the backup wait or fail with its pid), the records store the same way, each
with DuckDB's ``COPY FROM DATABASE`` from a read-only attachment (one snapshot, WAL included).
Copies are written into a temporary folder and renamed into place only once every table's row
count matches the original, so a backup folder is either whole or absent.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from ..core.errors import StoreError
from .connection import connect_file, write_lock


def backup(params, dest: str | Path | None = None) -> tuple[Path, dict[str, dict[str, int]]]:
    """Copy the source store and the records store into ``dest``; the folder and row counts.

    ``dest`` defaults to ``<home>/backups/<YYYYmmdd-HHMMSS>``; it must not exist yet.
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = Path(dest) if dest else params.home / "backups" / stamp
    if dest.exists():
        raise StoreError("the backup folder exists already; choose another --to", path=dest)
    stores = {p.name: p for p in (params.store_path, params.records_path) if p.exists()}
    if not stores:
        raise StoreError("nothing to back up: no store yet (run `stat-lib ingest`)",
                         path=params.store_path)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        with write_lock(params):
            counts = {name: _copy(path, tmp / name) for name, path in stores.items()}
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest, counts


def _copy(source: Path, target: Path) -> dict[str, int]:
    """One store copied to ``target``; its tables' row counts (checked equal to the source's)."""
    with connect_file(target, read_only=False) as con:
        con.execute(f"ATTACH '{_sql(source)}' AS src (READ_ONLY)")
        con.execute(f"COPY FROM DATABASE src TO {_db_name(con)}")
        counts = {t: _rows(con, f"src.{t}") for t in _tables(con, "src")}
        copied = {t: _rows(con, t) for t in _tables(con, _db_name(con))}
        con.execute("DETACH src")
    if copied != counts:
        raise StoreError(f"the copy does not match the original ({copied} != {counts}); "
                         f"nothing was kept: run the backup again", path=source)
    return counts


def _tables(con, database: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_type = 'BASE TABLE' ORDER BY 1", [database]).fetchall()]


def _rows(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _db_name(con) -> str:
    return con.execute("SELECT current_database()").fetchall()[0][0]


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")
