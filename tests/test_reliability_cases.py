"""Bad inputs that were already handled well (the reliability review of December 2026,
verdict "ok"), kept so by a test each. Case numbers are those of docs/reliability.md."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from stat_lib import store
from stat_lib.cli import main
from stat_lib.core.errors import ParamsError, SourceError, StoreBusyError, StoreError
from stat_lib.ingest import ingest
from stat_lib.params import load_params
from support.builders import (MYLA_COLUMNS, csv_lines, grid_params, ingest_rows, myla_row,
                              write_csv)


def _cli(*args, home=None):
    return CliRunner().invoke(main, (["--home", str(home)] if home else []) + list(args))


def _edit_city(home, **changes):
    city = home / "params" / "city.yaml"
    data = yaml.safe_load(city.read_text())
    data.update(changes)
    city.write_text(yaml.safe_dump(data, sort_keys=False))


# --- CSV shapes (cases 3, 4, 11, 12, 16) ------------------------------------------------------

@pytest.mark.parametrize("case, transform", [
    ("3: UTF-8 byte-order mark", lambda text: ("\ufeff" + text).encode("utf-8")),
    ("4: CRLF line ends", lambda text: text.replace("\n", "\r\n").encode("utf-8")),
])
def test_a_bom_or_crlf_file_loads_every_row(tmp_path, case, transform):
    path = tmp_path / "x.csv"
    path.write_bytes(transform(csv_lines([myla_row("1"), myla_row("2")])))
    params = grid_params(tmp_path / "home", path)
    report = ingest(params)
    assert (report.rows_read, report.rows_loaded) == (2, 2), case
    assert sorted(store.load_requests(params)["request_id"]) == ["1", "2"]


def test_11_extra_columns_are_ignored(tmp_path):
    cols = MYLA_COLUMNS + ["Internal Notes", "Crew"]
    rows = [{**myla_row("1"), "Internal Notes": "x", "Crew": "7"}]
    path = write_csv(tmp_path / "x.csv", rows, columns=cols)
    params = grid_params(tmp_path / "home", path)
    assert ingest(params).rows_loaded == 1
    assert "Crew" not in store.load_requests(params).columns


def test_12_every_row_bad_rejects_all_with_reasons(tmp_path):
    rows = [myla_row("1", CreatedDate="not a date"), myla_row("", CreatedDate="01/02/2024"),
            myla_row("3", Owner="NOPE")]
    params, report, stored = ingest_rows(tmp_path, rows)
    assert report.rows_loaded == 0 and report.rows_rejected == 3 and stored.empty
    reasons = set(store.load_rejects(params)["reason"])
    assert reasons == {"bad_requested_at", "missing_request_id", "unknown_department"}


def test_16_same_id_in_two_files_keeps_the_latest_and_rejects_the_other(tmp_path):
    old = write_csv(tmp_path / "a.csv", [myla_row("7", UpdatedDate="01/03/2024 10:00:00 AM")])
    new = write_csv(tmp_path / "b.csv", [myla_row("7", UpdatedDate="01/04/2024 10:00:00 AM",
                                                  Address="2 MAIN ST")])
    params = grid_params(tmp_path / "home", old, new)
    report = ingest(params)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert store.load_requests(params)["address"].tolist() == ["2 MAIN ST"]
    reject = store.load_rejects(params).iloc[0]
    assert reject["reason"] == "duplicate" and str(reject["source_file"]).endswith("a.csv")


# --- params (cases 18, 21, 22, 23, 25, 50) -----------------------------------------------------

def test_18_tab_indented_yaml_names_file_and_line(home):
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text().replace("  cell_timeout:", "\tcell_timeout:"))
    with pytest.raises(ParamsError) as err:
        load_params(home)
    assert "city.yaml" in str(err.value) and "line" in str(err.value)


@pytest.mark.parametrize("field, value, words", [
    ("batch", {"workers": "many"}, "workers"),                       # 21: wrong type
    ("timezone", "Mars/Olympus_Mons", "unknown timezone"),           # 25: no such timezone
    ("branding", {"primary_color": "red; } body { display: none"},   # 50: CSS from params
     "primary_color"),
])
def test_wrong_types_and_values_in_city_yaml_are_clear_errors(home, field, value, words):
    _edit_city(home, **{field: value})
    with pytest.raises(ParamsError) as err:
        load_params(home)
    assert words in str(err.value) and "city.yaml" in str(err.value)


@pytest.mark.parametrize("sla", ["5 bizness days", "0 hours"])
def test_22_a_bad_sla_is_a_clear_error(home, sla):
    dept = home / "params" / "departments" / "sanitation.yaml"
    data = yaml.safe_load(dept.read_text())
    data["services"][0]["sla"] = sla
    dept.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParamsError) as err:
        load_params(home)
    assert "sanitation.yaml" in str(err.value) and "sla" in str(err.value).lower()


@pytest.mark.parametrize("slug", ["parks and rec", "../x"])
def test_23_a_department_slug_with_spaces_or_dots_is_refused(home, slug):
    dept = home / "params" / "departments" / "sanitation.yaml"
    data = yaml.safe_load(dept.read_text())
    data["slug"] = slug
    dept.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParamsError, match="slug"):
        load_params(home)


def test_25_a_department_path_is_a_usage_error(home):
    result = _cli("run", "--period", "2026-10", "--department", "../../x", home=home)
    assert result.exit_code == 2 and "Traceback" not in result.output


# --- boundaries and the store (cases 27, 32, 34, 36) -------------------------------------------

@pytest.mark.parametrize("content, words", [
    (None, "not found"), (b"", "empty"), (b"{ not json", "cannot read"),
])
def test_27_a_missing_empty_or_corrupt_boundary_file_is_named(tmp_path, content, words):
    layer = tmp_path / "layer.geojson"
    if content is not None:
        layer.write_bytes(content)
    rows = write_csv(tmp_path / "x.csv", [myla_row("1")])
    from support.builders import city_home, GRID_DEPARTMENTS
    home = city_home(tmp_path / "home", [{"path": str(rows), "profile": "myla311"}],
                     boundaries=[{"layer": "x", "name": "X", "path": str(layer), "key": "id",
                                  "label": "id"}], departments=GRID_DEPARTMENTS)
    with pytest.raises((SourceError, ParamsError)) as err:
        ingest(load_params(home))
    assert "layer.geojson" in str(err.value) and words in str(err.value).lower()


@pytest.mark.parametrize("content", [b"", b"SQLite format 3\0" + b"x" * 100, b"hello"])
def test_32_a_damaged_store_file_is_named_with_exit_5(tmp_path, content):
    params, _, _ = ingest_rows(tmp_path, [myla_row("1")])
    params.store_path.write_bytes(content)
    with pytest.raises(StoreError) as err:
        store.load_requests(params)
    assert str(params.store_path) in str(err.value) and err.value.exit_code == 5


HOLD_AND_DIE = """
import os, sys
from stat_lib.params import load_params
from stat_lib import store
with store.write_lock(load_params(sys.argv[1])):
    os.kill(os.getpid(), 9)
"""


def test_34_a_lock_left_by_a_killed_writer_does_not_block_the_next(tmp_path):
    params, _, _ = ingest_rows(tmp_path, [myla_row("1")])
    killed = subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(params.home)])
    assert killed.returncode == -9
    assert ingest(params).unchanged == 1  # the OS released the lock with the process


READ_DURING_WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # a writer holding the file open
print("open", flush=True)
sys.stdin.readline()
"""


def test_36_a_reader_during_a_write_waits_then_says_busy(tmp_path):
    params, _, _ = ingest_rows(tmp_path, [myla_row("1")])
    writer = subprocess.Popen([sys.executable, "-c", READ_DURING_WRITE, str(params.store_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(StoreBusyError) as err, store.connect(params, wait=0.5):
            pass
        assert err.value.exit_code == 5 and "retry" in str(err.value)
    finally:
        writer.communicate("\n", timeout=30)
