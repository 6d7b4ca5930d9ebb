"""Many files of one source give the same store as one file, and as staging them one by one.

The big city's requests come as monthly CSV files; ingest stages all of a source's files in one
statement when their columns agree (``requests._insert_staged``). The stores are compared row
by row: every stored column, and the row hash (which leaves out the file and row).
"""

import shutil

import duckdb
import pandas as pd
import pytest

from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest, readers
from stat_lib.ingest import requests as staging
from stat_lib.ingest import sample_big_city as big
from stat_lib.params import load_params

COLUMNS = "* EXCLUDE (derivation)"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A 12-department city over three months, as monthly files and as one file."""
    root = tmp_path_factory.mktemp("bigcity")
    big.write_params(root / "monthly", 12)
    files = big.write_requests(root / "monthly" / "data" / "requests", "2026-08-01",
                               "2026-10-31", 8_000, 12, seed=3)
    one = root / "one"
    shutil.copytree(root / "monthly" / "params", one / "params")
    shutil.copytree(root / "monthly" / "data" / "boundaries", one / "data" / "boundaries")
    (one / "data" / "requests").mkdir(parents=True)
    text = [f.read_text().splitlines(keepends=True) for f in files]
    (one / "data" / "requests" / "requests-all.csv").write_text(
        "".join(text[0] + [line for t in text[1:] for line in t[1:]]))
    return root, files


def _store(home) -> pd.DataFrame:
    params = load_params(home)
    report = ingest(params)
    assert report.rows_read == report.rows_loaded  # nothing rejected in the generated city
    with duckdb.connect(str(params.store_path), read_only=True) as con:
        return con.execute(f"SELECT {COLUMNS} FROM requests ORDER BY request_id").df()


def test_monthly_files_equal_one_file(city, tmp_path):
    root, files = city
    monthly = _store(shutil.copytree(root / "monthly", tmp_path / "m"))
    one = _store(shutil.copytree(root / "one", tmp_path / "o"))
    assert len(monthly) == len(one) == sum(
        sum(1 for _ in open(f)) - 1 for f in files)
    assert monthly["source_file"].nunique() == len(files)
    # a monthly row's number in its file + the rows of the months before = its row in one file
    offsets = {f"data/requests/{f.name}": sum(sum(1 for _ in open(g)) - 1
                                             for g in files[:i]) for i, f in enumerate(files)}
    assert (monthly["source_row"] + monthly["source_file"].map(offsets)).tolist() == \
        one["source_row"].tolist()
    same = [c for c in monthly.columns if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(monthly[same], one[same])


def test_one_statement_equals_file_by_file(city, tmp_path, monkeypatch):
    root, _ = city
    together = _store(shutil.copytree(root / "monthly", tmp_path / "t"))
    monkeypatch.setattr(staging, "same_columns", lambda files: False)
    one_by_one = _store(shutil.copytree(root / "monthly", tmp_path / "f"))
    pd.testing.assert_frame_equal(together, one_by_one)


def test_files_read_two_at_a_time_equal_one_at_a_time(city, tmp_path, monkeypatch):
    root, _ = city
    together = _store(shutil.copytree(root / "monthly", tmp_path / "two"))
    monkeypatch.setattr(readers, "READ_THREADS", 1)
    alone = _store(shutil.copytree(root / "monthly", tmp_path / "one"))
    pd.testing.assert_frame_equal(together, alone)


def test_a_malformed_line_in_one_file_keeps_every_file_s_row_numbers(city, tmp_path):
    home = shutil.copytree(root_of(city) / "monthly", tmp_path / "h")
    files = sorted((home / "data" / "requests").glob("*.csv"))
    lines = files[1].read_text().splitlines(keepends=True)
    lines.insert(3, "only,three,fields\n")  # data row 3 of the second file
    files[1].write_text("".join(lines))
    params = load_params(home)
    ingest(params)
    with duckdb.connect(str(params.store_path), read_only=True) as con:
        bad = con.execute("SELECT source_file, source_row, reason FROM rejects").fetchall()
        rows = dict(con.execute("SELECT source_file, max(source_row) FROM requests "
                                "GROUP BY 1").fetchall())
    label = f"data/requests/{files[1].name}"
    assert bad == [(label, 3, "malformed_line")]
    for f in files:  # the last data row of each file keeps its number (the bad one: + 1)
        assert rows[f"data/requests/{f.name}"] == sum(1 for _ in open(f)) - 1


def test_of_several_bad_files_the_first_is_named_and_the_store_is_untouched(city, tmp_path):
    home = shutil.copytree(root_of(city) / "monthly", tmp_path / "h")
    params = load_params(home)
    ingest(params)
    before = _rows(params)
    files = sorted((home / "data" / "requests").glob("*.csv"))
    files[1].write_text("")
    files[2].write_text("")
    with pytest.raises(SourceError, match="empty") as err:
        ingest(params)
    assert str(files[1]) in str(err.value)
    assert str(files[2]) not in str(err.value)
    assert _rows(params) == before


def root_of(city):
    return city[0]


def _rows(params) -> tuple:
    with duckdb.connect(str(params.store_path), read_only=True) as con:
        return con.execute("SELECT count(*), sum(hash(request_id, source_row)) FROM requests"
                           ).fetchall()[0]


def test_points_placed_in_three_slices_equal_one_placement(tmp_path, monkeypatch):
    """Points inside, on edges, swapped, outside and missing, placed by three threads (a slice
    of the distinct points each) give the very rows one placement gives."""
    import numpy as np

    from support.builders import ingest_rows, myla_row
    rng = np.random.default_rng(7)
    rows = [myla_row(str(i), Latitude=f"{lat:.2f}", Longitude=f"{lon:.2f}")
            for i, (lat, lon) in enumerate(rng.uniform(-0.5, 2.5, (400, 2)))]
    rows += [myla_row(f"e{i}", Latitude="", Longitude="") for i in range(5)]

    def placed(name, threads):
        monkeypatch.setattr(staging, "PLACE_THREADS", threads)
        _, report, df = ingest_rows(tmp_path / name, rows, max_outside_boundaries=1)
        return df.drop(columns=["source_file"]), report.sources[0].quality
    sliced, flags = placed("three", 3)
    whole, _ = placed("one", 1)
    assert {"latlon_swapped", "outside_boundaries", "no_coordinates"} <= set(flags)
    pd.testing.assert_frame_equal(sliced, whole)

def test_a_file_linked_into_the_home_is_labelled_by_its_place_in_the_home(tmp_path):
    """``data/x.csv`` -> elsewhere: the label is ``data/x.csv``, not the link's target."""
    from types import SimpleNamespace
    target = tmp_path / "elsewhere" / "x.csv"
    target.parent.mkdir()
    target.write_text("a\n1\n")
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "x.csv").symlink_to(target)
    params = SimpleNamespace(home=home.resolve())
    assert readers.label(home / "data" / "x.csv", params) == "data/x.csv"
    assert readers.label(target, params) == str(target)  # outside the home: as given


def test_a_failing_file_interrupts_the_read_beside_it(city, tmp_path, monkeypatch):
    """File 1 fails while file 0 is still being read (here: a query of hours on its cursor,
    started only after the failure, so a first interrupt finds no statement to stop): the
    ingest raises file 1's error at once, file 0's read interrupted, not awaited."""
    import dataclasses
    import threading
    import time
    home = shutil.copytree(root_of(city) / "monthly", tmp_path / "h")
    files = sorted((home / "data" / "requests").glob("*.csv"))
    started, failed = threading.Event(), threading.Event()
    cursors = []  # to stop the query of hours should the ingest not (the test then fails)

    def read(cur, path, source, *rest):
        if path.name == files[0].name:
            cursors.append(cur)
            started.set()
            failed.wait(30)
            time.sleep(0.3)  # between two statements of a read when the failure comes
            cur.execute("SELECT count(*) FROM range(1000000000000) t(i) WHERE hash(i) = 42")
        if path.name == files[1].name:
            started.wait(30)
            failed.set()
            raise SourceError("cannot read as CSV: a test's bad file", path=path)
        return readers._read_csv(cur, path, source, *rest)
    csv = readers.READERS["csv"]
    monkeypatch.setitem(readers.READERS, "csv", dataclasses.replace(csv, read=read))
    errors = []

    def run():
        try:
            ingest(load_params(home))
        except SourceError as exc:
            errors.append(exc)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(120)  # liveness, not speed: without the interrupt the read of file 0 takes hours
    alive = t.is_alive()
    while t.is_alive():  # a failing run leaves no query running (pytest would not exit)
        for cur in cursors:
            cur.interrupt()
        t.join(1)
    assert not alive, "the ingest waited for the read beside the failing file"
    assert len(errors) == 1 and files[1].name in str(errors[0])
