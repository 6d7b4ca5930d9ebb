"""Nightly against a fixed clock: real ingest of real MyLA311 rows, MTD + re-finalize, logs."""

from __future__ import annotations

import json

import pytest

from stat_lib.params import load_params
from stat_lib.run.nightly import nightly_periods, prune_logs, run_nightly
from support.builders import (batch_home, manifest_runs, notebooks_dir, replace_in_city,
                              use_real_rows)


@pytest.mark.slow
def test_nightly_on_a_fixed_clock(tmp_path):
    home = batch_home(tmp_path)
    use_real_rows(home)
    nbs = notebooks_dir(tmp_path)
    # 3 January 2018, 23:30 in Los Angeles: day 3 <= refinalize_days 5, so December 2017 is
    # re-finalized in full, then January runs to date with as_of = now.
    code = run_nightly(load_params(home), now="2018-01-03T23:30:00", workers=2,
                       notebooks_dir=nbs)
    assert code == 0
    out = home / "outputs"
    dec = json.loads((out / "2017-12" / "manifest.json").read_text())
    jan = json.loads((out / "2018-01" / "manifest.json").read_text())
    assert dec["as_of"] is None and "as_of" not in dec["runs"][0]["parameters"]
    assert jan["as_of"] == "2018-01-03T23:30:00-08:00"  # PST is UTC-8 in January
    sanitation = manifest_runs(out / "2018-01")["sanitation"]
    assert sanitation["parameters"]["as_of"] == "2018-01-03T23:30:00-08:00"
    assert sanitation["summary"]["as_of"] == "2018-01-03T23:30:00-08:00"  # the kernel got it
    log = out / "logs" / "nightly-20180103-233000.log"
    text = log.read_text()
    assert "ingest:" in text and "2018-01: 3 notebook(s): 3 ok" in text

    from stat_lib.store import connect
    with connect(load_params(home)) as con:
        loaded = con.execute("SELECT count(*) FROM requests WHERE source_file LIKE "
                             "'%la311_slice%'").fetchone()[0]
    assert 0 < loaded <= 300  # real rows ingested (some may be rejects, counted apart)

    # 10 January: past the re-finalize window; December is left alone; log_keep 1 prunes.
    replace_in_city(home, "log_keep: 14", "log_keep: 1")
    dec_mtime = (out / "2017-12" / "manifest.json").stat().st_mtime_ns
    nbs = notebooks_dir(tmp_path, sanitation="broken")
    code = run_nightly(load_params(home), now="2018-01-10T23:30:00", workers=2,
                       notebooks_dir=nbs)
    assert code == 10  # RunFailed.exit_code: the broken notebook failed
    assert (out / "2017-12" / "manifest.json").stat().st_mtime_ns == dec_mtime
    assert [p.name for p in (out / "logs").iterdir()] == ["nightly-20180110-233000.log"]
    assert manifest_runs(out / "2018-01")["sanitation"]["status"] == "failed"


def test_nightly_periods_follow_the_refinalize_window(tmp_path):
    params = load_params(batch_home(tmp_path))  # refinalize_days: 5
    from stat_lib.run.nightly import city_now
    first = nightly_periods(params, city_now(params, "2026-12-05T01:00"))
    assert [(str(p), p.is_to_date) for p in first] == [("2026-11", False), ("2026-12", True)]
    later = nightly_periods(params, city_now(params, "2026-12-06T01:00"))
    assert [(str(p), p.is_to_date) for p in later] == [("2026-12", True)]
    assert str(later[0].as_of) == "2026-12-06 01:00:00-08:00"


def test_ingest_failure_is_logged_and_returned(tmp_path):
    home = batch_home(tmp_path)  # city.yaml names data/sample/...parquet, absent here
    nbs = notebooks_dir(tmp_path, department="no_parameters", citywide="no_parameters")
    code = run_nightly(load_params(home), now="2026-11-20T02:00", notebooks_dir=nbs)
    assert code == 4  # SourceError.exit_code: the source file is missing
    text = next((home / "outputs" / "logs").glob("nightly-*.log")).read_text()
    assert "ingest failed" in text


def test_prune_logs_keeps_the_newest(tmp_path):
    for day in ("20260101", "20260102", "20260103"):
        (tmp_path / f"nightly-{day}-020000.log").write_text(day)
    removed = prune_logs(tmp_path, keep=2)
    assert [p.name for p in removed] == ["nightly-20260101-020000.log"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly-20260102-020000.log",
                                                          "nightly-20260103-020000.log"]
