"""The store's schema version: an older store is carried forward, a newer one refused."""

from __future__ import annotations

import duckdb
import pytest

from stat_lib import store
from stat_lib.core.errors import StoreError
from stat_lib.store.migrations import SCHEMA_VERSION, stored_version
from support.builders import ingest_rows, myla_row

# The ingest log as the schema this release started with (version 1) declared it; version 1's
# requests had no derivation column.
V1_INGESTS = ("CREATE TABLE ingests (ingested_at TIMESTAMPTZ, source VARCHAR, rows_read BIGINT, "
              "rows_loaded BIGINT, rows_rejected BIGINT, content_hash VARCHAR)")


def _as_version_1(params) -> None:
    """Rewrite a store's ingest log and version to what version 1 wrote."""
    with duckdb.connect(str(params.store_path)) as con:
        con.execute("DROP TABLE ingests")
        con.execute(V1_INGESTS)
        con.execute("ALTER TABLE requests DROP COLUMN derivation")  # added by step 3
        con.execute("INSERT INTO ingests VALUES (now(), 'old.csv', 3, 3, 0, 'abc')")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def test_a_version_1_store_is_upgraded_in_place_by_a_reader_keeping_every_row(tmp_path):
    params, _, stored = ingest_rows(tmp_path, [myla_row("1"), myla_row("2")])
    _as_version_1(params)
    assert len(store.load_requests(params)) == 2  # a reader upgrades it, then reads
    with store.connect(params) as con:
        assert stored_version(con) == SCHEMA_VERSION == 3
        assert con.execute("SELECT source, kind FROM ingests").fetchall() == [
            ("old.csv", "requests")]


def test_an_ingest_upgrades_a_version_1_store_and_logs_the_kind(tmp_path):
    params, _, _ = ingest_rows(tmp_path, [myla_row("1")])
    _as_version_1(params)
    from stat_lib.ingest import ingest
    ingest(params)
    with store.connect(params) as con:
        kinds = con.execute("SELECT kind, count(*) FROM ingests GROUP BY 1").fetchall()
    assert kinds == [("requests", 2)]


def test_a_store_from_a_newer_stat_lib_is_refused_with_the_fix(tmp_path):
    params, _, _ = ingest_rows(tmp_path, [myla_row("1")])
    with duckdb.connect(str(params.store_path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"newer stat_lib \(schema version 99; this one knows "
                                         r"up to 3\): upgrade stat_lib"):
        store.load_requests(params)


def test_backup_copies_both_stores_whole_and_refuses_while_an_ingest_writes(tmp_path):
    from stat_lib.core.errors import StoreBusyError
    from stat_lib.store.backup import backup
    from stat_lib.store.connection import write_lock
    from stat_lib.store.records import connect_records
    params, _, _ = ingest_rows(tmp_path, [myla_row("1"), myla_row("2"), myla_row("3")])
    with connect_records(params):
        pass  # the records store exists (its tables, no rows)
    folder, counts = backup(params, tmp_path / "b1")
    assert counts["stat.duckdb"]["requests"] == 3 and "records.duckdb" in counts
    with duckdb.connect(str(folder / "stat.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM requests").fetchall() == [(3,)]
        assert stored_version(con) == SCHEMA_VERSION
    with write_lock(params), pytest.raises(StoreBusyError, match="ingesting"):
        backup(params, tmp_path / "b2")
    assert not (tmp_path / "b2").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name], "no half backup left"
    with pytest.raises(StoreError, match="exists already"):
        backup(params, tmp_path / "b1")
