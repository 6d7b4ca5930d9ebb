"""A gzip-compressed export (``requests.csv.gz``) reads as its plain text would: the header
checks, the delimiter, stray quotes and other encodings see the text, not the compressed
bytes (told by the file's first bytes, not its name)."""

from __future__ import annotations

import gzip

import pytest

from stat_lib import store
from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest
from support.builders import MYLA_COLUMNS, csv_lines, grid_params, myla_row, write_csv


def _gz(path, text: bytes, name=None):
    out = path.with_name(name or path.name + ".gz")
    out.write_bytes(gzip.compress(text))
    return out


def _stored(params):
    return store.load_requests(params).set_index("request_id")


def test_a_tab_separated_gzip_export_loads_every_row(tmp_path):
    rows = [myla_row(str(i), Address=f"{i} MAIN ST") for i in range(1, 40)]
    text = "\n".join("\t".join(r.get(c, "") for c in MYLA_COLUMNS)
                     for r in [dict(zip(MYLA_COLUMNS, MYLA_COLUMNS))] + rows) + "\n"
    path = _gz(tmp_path / "r.tsv", text.encode())
    params = grid_params(tmp_path / "home", path)
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded) == (39, 39)
    assert _stored(params).loc["7", "address"] == "7 MAIN ST"


def test_a_column_named_twice_in_a_gzip_export_is_named(tmp_path):
    cols = MYLA_COLUMNS + ["status"]
    plain = write_csv(tmp_path / "d.csv", [{**myla_row("1"), "status": "Open"}], columns=cols)
    with pytest.raises(SourceError, match=r"'Status' \(columns 6, 13\)"):
        ingest(grid_params(tmp_path / "home", _gz(plain, plain.read_bytes())))


def test_a_stray_quote_in_a_gzip_export_rejects_that_line_only(tmp_path):
    lines = csv_lines([myla_row(str(i)) for i in range(1, 30)]).splitlines()
    lines[10] = lines[10].replace("1 MAIN ST", '"1 MAIN ST')  # data row 10
    path = _gz(tmp_path / "q.csv", ("\n".join(lines) + "\n").encode())
    params = grid_params(tmp_path / "home", path)
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (29, 28, 1)
    rejects = store.load_rejects(params)
    assert rejects[["reason", "source_row"]].values.tolist() == [["malformed_line", 10]]
    assert not list(path.parent.glob(".*tmp*")), "the repaired copy is removed"


def test_a_cp1252_gzip_export_is_read_in_its_encoding(tmp_path):
    plain = write_csv(tmp_path / "w.csv", [myla_row("1", Address="1 CAFÉ ST – REAR")],
                      encoding="cp1252")
    params = grid_params(tmp_path / "home", _gz(plain, plain.read_bytes()), encoding="cp1252")
    ingest(params)
    assert _stored(params).loc["1", "address"] == "1 CAFÉ ST – REAR"


def test_a_gzip_file_named_csv_and_an_empty_gzip_file(tmp_path):
    plain = write_csv(tmp_path / "x.csv", [myla_row("1"), myla_row("2")])
    misnamed = _gz(plain, plain.read_bytes(), name="export.csv")  # gzip bytes, .csv name
    params = grid_params(tmp_path / "home", misnamed)
    assert ingest(params).rows_loaded == 2
    empty = _gz(plain, b"", name="empty.csv.gz")
    with pytest.raises(SourceError, match="file is empty"):
        ingest(grid_params(tmp_path / "home2", empty))
