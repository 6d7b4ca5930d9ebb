"""``stat-lib ingest``: every source read, checked and stored in one transaction.

Steps 1-3 (read, classify, place) only touch temp tables; step 4 writes the store inside one
transaction, so a failed ingest leaves it exactly as it was (see :mod:`stat_lib.ingest.requests`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

from .. import store
from ..core.errors import out_of_space
from ..params.kinds import configured
from . import boundaries as bnd
from .kinds import INGESTS
from .report import IngestReport
from .requests import preview  # noqa: F401  (onboarding's sample check)

log = logging.getLogger("stat_lib.ingest")


def ingest(params, rebuild: bool = False) -> IngestReport:
    """Load every source in city.yaml into the store; return what happened.

    Parameters
    ----------
    params : Params
    rebuild : bool
        Re-derive the source store from today's sources alone (after a params change the
        summary suggests it); the records store is never touched.

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
        A source cannot be read, lacks a required column or has more than its
        ``max_malformed`` share of malformed CSV lines; the store is left unchanged.
    OutOfSpace
        The disk filled while writing the store; the transaction was rolled back.
    """
    layers = bnd.read_layers(params)
    try:
        return _ingest(params, layers, rebuild)
    except Exception as exc:
        full = out_of_space(exc, params.store_path)
        if full is None:
            raise
        raise full from exc


def _ingest(params, layers, rebuild: bool = False):
    with store.write_lock(params), store.connect(params, read_only=False) as con:
        # row order only matters while reading (sources keeps it there): inserts go parallel
        con.execute("SET preserve_insertion_order = false")
        _limit_memory(con)
        try:
            # temp tables only: the store is untouched until the transaction below
            kinds = [k for k in INGESTS.values() if configured(params, k.kind)]
            _show_progress(con)
            prepared = {}
            for k in kinds:
                with _step(f"reading and checking the {k.kind} sources"):
                    prepared[k.kind] = k.prepare(con, params, layers)
            con.execute("BEGIN TRANSACTION")
            try:
                with _step("writing the store (one transaction)"):
                    store.ensure_schema(con, params)
                    if rebuild:
                        _clear_source_rows(con)
                    reports = {k.kind: k.commit(con, params, layers, prepared[k.kind])
                               for k in kinds}
                    con.execute("COMMIT")
            except BaseException:
                _quietly(con, "ROLLBACK")  # a failed write may have ended it already
                raise
        finally:
            _quietly(con, "RESET preserve_insertion_order")
    report = reports["requests"]
    report.rebuilt = rebuild
    report.kinds = {k: r for k, r in reports.items() if k != "requests"}  # e.g. permits
    return report


# DuckDB's own default is 80% of RAM: millions of rows in temp tables would take it. With a
# limit the temp tables spill to ``<store>.tmp`` (a 6M-row ingest: ~2.7 GiB peak, not 6 GiB).
MEMORY_LIMIT = "2.5GB"


def _limit_memory(con) -> None:
    """Cap DuckDB's memory for the ingest (``STAT_LIB_INGEST_MEMORY``, e.g. ``4GB``, else
    ``MEMORY_LIMIT``)."""
    import os
    limit = os.environ.get("STAT_LIB_INGEST_MEMORY", MEMORY_LIMIT)
    try:
        con.execute("SET memory_limit = ?", [limit])
    except Exception as exc:  # noqa: BLE001  (a bad value: say which and what is expected)
        from ..core.errors import UsageError
        raise UsageError(f"STAT_LIB_INGEST_MEMORY={limit!r} is not a memory size DuckDB "
                         f"reads; expected e.g. 2.5GB or 4000MB") from exc


def _clear_source_rows(con) -> None:
    """``--rebuild``: every re-derivable row goes (the ingest log stays; the records store is
    another file), so today's sources alone fill the store, inside the same transaction."""
    from ..store.schema import tables
    for table in tables("source"):
        if table.name != "ingests":
            con.execute(f"DELETE FROM {table.name}")


@contextlib.contextmanager
def _step(what: str):
    """One log line when a step starts and one with its time when it ends (plain lines in
    logs; the CLI shows them on the terminal)."""
    log.info("ingest: %s ...", what)
    t0 = time.monotonic()
    yield
    log.info("ingest: %s done in %.1f s", what, time.monotonic() - t0)


def _show_progress(con) -> None:
    """On a terminal, DuckDB's own progress bar for long reads (a big file) and writes."""
    if sys.stderr.isatty():
        con.execute("SET enable_progress_bar = true")


def _quietly(con, sql: str) -> None:
    """Clean-up that must not hide the error being raised (DuckDB: no transaction active)."""
    import duckdb
    try:
        con.execute(sql)
    except duckdb.Error:
        pass


