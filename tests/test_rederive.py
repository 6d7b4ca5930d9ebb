"""Quirk 6: a params change re-derives the stored rows; what only the store holds is counted
and `ingest --rebuild` re-derives the source store, never touching the records store."""

from __future__ import annotations

from stat_lib import store
from stat_lib.ingest import ingest
from stat_lib.ingest.derivation import derivation_hash
from stat_lib.store.records import connect_records
from support.builders import grid_params, myla_row, write_csv


def _derivations(params) -> set:
    with store.connect(params) as con:
        return {r[0] for r in con.execute("SELECT DISTINCT derivation FROM requests").fetchall()}


def test_rows_from_todays_sources_take_the_new_params(tmp_path):
    path = write_csv(tmp_path / "a.csv", [myla_row("1"), myla_row("2")])
    first = grid_params(tmp_path / "home", path)
    ingest(first)
    changed = grid_params(tmp_path / "home", path, earliest_date="2001-01-01")
    assert derivation_hash(changed) != derivation_hash(first)
    report = ingest(changed)
    assert report.older_derivation == 0 and _derivations(changed) == {derivation_hash(changed)}
    assert "--rebuild" not in report.summary()


def test_rows_only_the_store_holds_are_counted_and_rebuild_rederives(tmp_path):
    old = write_csv(tmp_path / "a.csv", [myla_row("7", UpdatedDate="01/03/2024 10:00:00 AM"),
                                         myla_row("8")])
    new = write_csv(tmp_path / "b.csv", [myla_row("7", UpdatedDate="01/04/2024 10:00:00 AM",
                                                  Address="2 MAIN ST")])
    ingest(grid_params(tmp_path / "home", old, new))
    params = grid_params(tmp_path / "home", old, earliest_date="2001-01-01")  # b.csv dropped
    with connect_records(params) as con:  # something a person entered
        con.execute("CREATE TABLE note (t VARCHAR)")
        con.execute("INSERT INTO note VALUES ('kept')")
    report = ingest(params)
    assert report.stale == 1 and report.older_derivation == 1  # request 7 from b.csv
    assert "1 stored requests were derived with earlier params" in report.summary()
    assert "stat-lib ingest --rebuild" in report.summary()
    rebuilt = ingest(params, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.older_derivation == 0 and rebuilt.inserted == 2
    stored = store.load_requests(params).set_index("request_id")
    assert stored.loc["7", "address"] == "1 MAIN ST"  # today's sources alone
    assert _derivations(params) == {derivation_hash(params)}
    with connect_records(params, read_only=True) as con:
        assert con.execute("SELECT t FROM note").fetchall() == [("kept",)]
