"""Bad CSV input gets a clear answer and loses nothing (cases 7, 9 and 17)."""

from __future__ import annotations

import pytest

from stat_lib import store
from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest
from stat_lib.ingest.csv_lines import named_twice
from support.builders import MYLA_COLUMNS, csv_lines, grid_params, myla_row, write_csv


def _with_stray_quote(path, rows, at: int):
    """``rows`` as CSV where data row ``at`` (file line at + 1) opens a quote it never closes."""
    lines = csv_lines(rows).splitlines()
    lines[at] = lines[at].replace("1 MAIN ST", '"1 MAIN ST')
    path.write_text("\n".join(lines) + "\n")
    return path, lines[at]


def test_one_unbalanced_quote_rejects_that_line_only_with_its_number(tmp_path):
    rows = [myla_row(str(i)) for i in range(1, 80)]
    path, stray = _with_stray_quote(tmp_path / "q.csv", rows, at=50)  # file line 51
    params = grid_params(tmp_path / "home", path)
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (79, 78, 1)
    rejects = store.load_rejects(params)
    assert rejects["reason"].tolist() == ["malformed_line"]
    assert rejects["source_row"].tolist() == [50]  # data row 50 = file line 51
    assert rejects["raw"].tolist() == [stray], "the original text is kept, quote and all"
    assert "unbalanced quote" in rejects["detail"].iloc[0]
    stored = store.load_requests(params)["request_id"]
    assert "50" not in set(stored) and {"49", "51", "79"} <= set(stored)


def test_a_quoted_newline_still_loads_beside_a_stray_quote(tmp_path):
    rows = [myla_row(str(i)) for i in range(1, 21)]
    rows[4]["Address"] = "2 MAIN ST\nAPT 3"  # a legitimate field over two physical lines
    lines = csv_lines(rows).splitlines()
    lines[15] = lines[15].replace("1 MAIN ST", '"1 MAIN ST')  # row 14 after the 2-line record
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    params = grid_params(tmp_path / "home", tmp_path / "m.csv")
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (20, 19, 1)
    stored = store.load_requests(params).set_index("request_id")
    assert stored.loc["5", "address"] == "2 MAIN ST\nAPT 3"
    assert "14" not in stored.index and "15" in stored.index


def test_a_column_named_twice_is_an_error_naming_it_and_its_places(tmp_path):
    cols = MYLA_COLUMNS + ["status"]
    write_csv(tmp_path / "d.csv", [{**myla_row("1"), "status": "Open"}], columns=cols)
    with pytest.raises(SourceError) as err:
        ingest(grid_params(tmp_path / "home", tmp_path / "d.csv"))
    text = str(err.value)
    assert "d.csv, line 1" in text and "'Status' (columns 6, 13)" in text
    assert "Rename or remove" in text
    assert named_twice(["a", " A ", "b", "c", "B"]) == {"a": [1, 2], "b": [3, 5]}


def test_files_of_one_glob_with_different_optional_columns_are_read_by_name(tmp_path):
    folder = tmp_path / "g"
    write_csv(folder / "a.csv", [myla_row("a1", CD="B")])
    extra = MYLA_COLUMNS[:8] + ["Extra"] + MYLA_COLUMNS[8:]
    write_csv(folder / "b.csv", [myla_row("b1", Extra="x", CD="B")], columns=extra)
    no_cd = [c for c in MYLA_COLUMNS if c != "CD"]
    write_csv(folder / "c.csv", [myla_row("c1", Latitude="", Longitude="")], columns=no_cd)
    params = grid_params(tmp_path / "home", str(folder / "*.csv"))
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded) == (3, 3)
    stored = store.load_requests(params).set_index("request_id")
    assert set(stored.index) == {"a1", "b1", "c1"}
    assert stored.loc["c1", "address"] == "1 MAIN ST"  # the columns it has are read
