"""The records store: what people enter (KPI submissions, sessions, commitments).

Source data is re-derived: a new export, a re-ingest, a deleted ``data/stat.duckdb`` or
``make clean`` rebuild it. What liaisons and analysts enter cannot be rebuilt, so it lives in a
file of its own, ``city.records`` (default ``data/records.duckdb``), that no ingest, rebuild or
clean touches. Its tables are those registered in :mod:`stat_lib.store.schema` with
``store="records"`` (tables of ``records`` kinds). Rows are appended, never updated in place:
a change is a new row, so the history of every record is kept.
"""

from __future__ import annotations

import contextlib

from .connection import connect_file
from .schema import tables

RECORDS_META = ("CREATE TABLE IF NOT EXISTS records_meta (key VARCHAR PRIMARY KEY, "
                "value VARCHAR)")
RECORDS_VERSION = "1"


def ensure_records_schema(con) -> None:
    """Create the records store's tables (idempotent; never drops or alters a table)."""
    con.execute(RECORDS_META)
    for table in tables("records"):
        con.execute(table.ddl())
    con.execute("INSERT OR REPLACE INTO records_meta VALUES ('records_version', ?)",
                [RECORDS_VERSION])


@contextlib.contextmanager
def connect_records(params, read_only: bool = False, wait: float = 10.0):
    """Open the records store (created with its schema on the first write)."""
    path = params.records_path
    writable = not read_only or not path.exists()
    with connect_file(path, read_only=not writable, wait=wait) as con:
        if writable:
            ensure_records_schema(con)
        yield con


def read_records(params, sql: str, args=None, tables=()):
    """``sql`` on the records store as a DataFrame; None when nothing was entered yet (no
    records store: a read never creates it) or the store predates ``tables``' kind."""
    if not params.records_path.exists():
        return None
    with connect_records(params, read_only=True) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables"
                                          ).fetchall()}
        if not set(tables) <= have:
            return None
        return con.execute(sql, args or []).df()
