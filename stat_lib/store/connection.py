"""Connections to the store: read-only for readers, read-write under the writer's lock.

Writers (``ingest``) hold a file lock beside the store and work inside one transaction, so a
failed ingest leaves the store as it was. Readers (notebooks) open it read-only; DuckDB lets any
number of processes do that at once while no writer has it open.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from ..core.errors import StoreBusyError, StoreError

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
    started = time.time()
    try:
        _owner_file(params).write_text(f"{os.getpid()} {started:.0f}")
        yield
        _timing_file(params).write_text(f"{time.time() - started:.0f}")
    finally:
        lock.release()


def _timing_file(params) -> Path:
    return Path(str(params.store_path) + ".last-write-seconds")


def _busy(params) -> StoreBusyError:
    """Who is writing, since when, and how long the last write took (a reader's wait)."""
    try:
        pid, _, since = _owner_file(params).read_text().strip().partition(" ")
    except OSError:
        pid, since = "?", ""
    when = f" since {time.strftime('%H:%M:%S', time.localtime(float(since)))}" if since else ""
    try:
        took = f"; the last ingest took {int(_timing_file(params).read_text()):,} s"
    except (OSError, ValueError):
        took = ""
    return StoreBusyError(
        f"store is busy: another stat-lib process (pid {pid or '?'}) is ingesting{when}{took}; "
        f"readers cannot open the store until it commits: wait for it to finish and retry (a "
        f"crashed process releases the lock by itself)", path=params.store_path)


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
    from .migrations import pending
    for attempt in (1, 2):
        with connect_file(params.store_path, read_only, wait, busy=lambda: _busy(params)) as con:
            if read_only and not _has_requests(con):
                raise StoreError("the store has no tables: its first ingest did not finish (it "
                                 "was killed or failed); run `stat-lib ingest` to build it",
                                 path=params.store_path)
            if not read_only or attempt == 2 or not pending(con, params.store_path):
                yield con
                return
        upgrade_in_place(params)  # written by an older stat_lib: carried forward, then read


def upgrade_in_place(params) -> list:
    """Carry an older store forward to this stat_lib's schema (under the writer lock, in one
    transaction, every row kept); the steps applied."""
    from .migrations import SCHEMA_VERSION, upgrade
    with write_lock(params), connect_file(params.store_path, False) as con:
        con.execute("BEGIN TRANSACTION")
        steps = upgrade(con, params.store_path)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    return steps


def _has_requests(con) -> bool:
    return bool(con.execute("SELECT 1 FROM information_schema.tables "
                            "WHERE table_name = 'requests'").fetchall())


@contextlib.contextmanager
def connect_file(path: Path, read_only: bool = True, wait: float = 10.0, busy=None):
    """Open one DuckDB file, retrying while another process has it open for writing."""
    import duckdb
    if read_only and not path.exists():
        raise StoreError("the store does not exist yet; run `stat-lib ingest` first", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"cannot open the store: {exc}", path=path) from None
            if time.monotonic() >= deadline:
                raise (busy() if busy else StoreError(
                    "busy: another stat-lib process has it open for writing; retry when it "
                    "is done", path=path)) from None
            time.sleep(0.2)
    try:
        con.execute("SET TimeZone='UTC'")
        yield con
    finally:
        con.close()


def frame(con, sql: str, args=None):
    """A query's result as a pandas DataFrame (through Arrow: typed, no copy warnings)."""
    return con.sql(sql, params=args or None).to_arrow_table().to_pandas()
