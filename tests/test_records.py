"""The records store (what people enter) survives everything that rebuilds source data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.builders import ROOT, params_home

from stat_lib.core import kinds
from stat_lib.ingest import ingest
from stat_lib.params import load_params
from stat_lib.store import connect_records, load_requests, schema

CSV = ("SRNumber,CreatedDate,UpdatedDate,ClosedDate,RequestType,Owner,Status,Address\n"
       "1-1,10/01/2026 09:00:00 AM,10/02/2026 09:00:00 AM,10/02/2026 09:00:00 AM,"
       "Graffiti Removal,OCB,Closed,1 Main St\n")


@pytest.fixture
def notes_kind(monkeypatch):
    """A records kind with one table, registered for this test only."""
    kind = kinds.DatasetKind("notes", "analysts' notes (test)", "records")
    monkeypatch.setitem(kinds.KINDS, "notes", kind)
    table = schema.Table("notes", "notes", "note_id VARCHAR, text VARCHAR, entered_at "
                         "TIMESTAMPTZ DEFAULT now()", store="records")
    monkeypatch.setitem(schema.TABLES, "notes", table)
    return table


@pytest.fixture
def home(tmp_path) -> Path:
    city = params_home(tmp_path) / "params" / "city.yaml"
    text = re.sub(r"(?ms)^sources:.*?(?=^boundaries:)", "sources:\n  - {name: t, path: data/t.csv,"
                  " profile: myla311}\n", city.read_text())
    city.write_text(re.sub(r"(?ms)^boundaries:.*?(?=^\w)", "boundaries: []\n", text))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text(CSV)
    return tmp_path


def test_records_live_in_their_own_file(home):
    params = load_params(home)
    assert params.records_path == home / "data" / "records.duckdb"
    assert params.records_path != params.store_path


def test_the_records_store_is_created_with_its_registered_tables(home, notes_kind):
    params = load_params(home)
    with connect_records(params) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                 .fetchall()}
    assert {"records_meta", "notes"} <= names
    assert "requests" not in names  # source tables stay in the source store


def test_records_survive_a_rebuild_of_the_source_store(home, notes_kind):
    params = load_params(home)
    ingest(params)
    with connect_records(params) as con:
        con.execute("INSERT INTO notes (note_id, text) VALUES ('n1', 'follow up on graffiti')")
    params.store_path.unlink()  # a rebuild from the sources: the store is thrown away ...
    ingest(params)              # ... and derived again
    assert len(load_requests(params)) == 1
    with connect_records(params, read_only=True) as con:
        assert con.execute("SELECT note_id, text FROM notes").fetchall() == [
            ("n1", "follow up on graffiti")]


def test_reingest_never_opens_the_records_store(home):
    params = load_params(home)
    ingest(params)
    ingest(params)
    assert not params.records_path.exists()


def test_make_clean_leaves_the_records_store_alone():
    makefile = (ROOT / "Makefile").read_text()
    clean = re.search(r"^clean:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "stat.duckdb" in clean
    assert "records" not in clean and "data/*" not in clean and "rm -rf data" not in clean


def test_a_records_table_cannot_sit_in_the_source_store(notes_kind):
    with pytest.raises(ValueError, match="belongs in the records store"):
        schema.register_table(schema.Table("notes", "notes_wrong", "x VARCHAR"))


def test_records_and_store_in_one_file_is_a_params_error(home):
    from stat_lib.core.errors import ParamsErrors
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text() + "records: data/stat.duckdb\n")
    with pytest.raises(ParamsErrors, match="'records' and 'store' are both 'data/stat.duckdb'"):
        load_params(home)
