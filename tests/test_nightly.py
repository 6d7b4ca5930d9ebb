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
    use_real_rows(home)  # the rows of 1 January 2018: fresh enough within 10 days
    replace_in_city(home, "stale_after_hours: 48", "stale_after_hours: 240")
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


@pytest.mark.slow
def test_stale_data_is_said_on_every_cover_cut_at_its_end_and_exits_12(tmp_path):
    home = batch_home(tmp_path)  # newest request: 2 November 2026, 08:00 in Los Angeles
    nbs = notebooks_dir(tmp_path)
    # 3 December, 02:00: 30.75 days later. November is re-finalized (day 3), but only to the
    # data's end; December is not reached by the data at all, so it is skipped, not zero-filled.
    code = run_nightly(load_params(home), now="2026-12-03T02:00:00", ingest=False, workers=2,
                       notebooks_dir=nbs)
    assert code == 12
    out = home / "outputs"
    assert not (out / "2026-12").exists()
    nov = json.loads((out / "2026-11" / "manifest.json").read_text())
    assert nov["as_of"] == "2026-11-02T08:00:01-08:00", "cut at the data's end, not complete"
    notice = ("Stale: the data ends 2026-11-02 08:00 PST; no newer request has arrived for 31 "
              "days (limit 48 hours).")
    for page in ("sanitation.html", "citywide.html", "index.html"):
        assert notice in (out / "2026-11" / page).read_text(), page
    log = next((out / "logs").glob("nightly-*.log")).read_text()
    assert "2026-12 skipped: the data ends 2026-11-02 08:00 PST" in log
    assert "nightly finished: STALE DATA (exit code 12)" in log

    # a notebook that also fails: its code wins and the log says both
    code = run_nightly(load_params(home), now="2026-12-03T03:00:00", ingest=False, workers=2,
                       notebooks_dir=notebooks_dir(tmp_path, sanitation="broken"))
    assert code == 10
    log = sorted((out / "logs").glob("nightly-*.log"))[-1].read_text()
    assert "FAILED (exit code 10); the data is also stale (exit code 12 otherwise)" in log


def test_periods_are_cut_where_stale_data_ends(tmp_path):
    import pandas as pd

    from stat_lib.core.periods import Period
    from stat_lib.run.freshness import Freshness, cut_at_data_end
    tz = "America/Los_Angeles"
    nov = Period.parse("2026-11", tz=tz)
    end = pd.Timestamp("2026-11-16 14:02", tz=tz)
    cut = cut_at_data_end(nov, end)
    assert cut.is_to_date and cut.end == end + pd.Timedelta(seconds=1)
    assert cut_at_data_end(Period.parse("2026-12", tz=tz), end) is None
    assert cut_at_data_end(Period.parse("2026-10", tz=tz), end) == Period.parse("2026-10", tz=tz)
    assert not Freshness(end, 47.9, 48).stale and Freshness(end, 48.1, 48).stale
    # the newest request in the month's last hour: covered (a quiet hour is not missing data)
    last_hour = pd.Timestamp("2026-11-30 23:00", tz=tz)
    assert cut_at_data_end(nov, last_hour) == nov
    before = cut_at_data_end(nov, last_hour - pd.Timedelta(seconds=1))
    assert before.is_to_date and before.end == last_hour
    assert Freshness(end, 30.0, 24).notice().endswith(
        "no newer request has arrived for 30 hours (limit 24 hours). Figures after that "
        "moment are missing, not zero.")
    assert Freshness(None, None, 48).notice() == "Stale: the store holds no requests"


@pytest.mark.parametrize("newest, partial", [("2026-11-30 23:59:59", False),
                                             ("2026-11-30 23:00:00", False),
                                             ("2026-11-30 22:59:59", True),
                                             ("2026-11-02 08:00:00", True)])
def test_a_month_is_partial_only_when_the_data_ends_before_its_last_hour(home, monkeypatch,
                                                                         newest, partial):
    import pandas as pd

    from stat_lib import store
    from stat_lib.core.periods import Period
    from stat_lib.run.freshness import partial_notice
    tz = "America/Los_Angeles"
    params = load_params(home)
    monkeypatch.setattr(store, "requested_span", lambda p: (None, pd.Timestamp(newest, tz=tz)))
    notice = partial_notice(params, Period.parse("2026-11", tz=tz))
    assert (notice is not None) == partial
    if partial:
        assert notice.startswith(f"Partial: the data ends {newest[:16]} PST, before this "
                                 f"period does (2026-11-30)")


@pytest.mark.slow
def test_a_month_the_data_ends_inside_is_published_as_partial(tmp_path):
    from stat_lib.run.batch import run_period
    home = batch_home(tmp_path)  # the newest request: 2 November 2026, 08:00
    result = run_period(load_params(home), "2026-11", notebooks_dir=notebooks_dir(tmp_path),
                        workers=2, progress=False)
    assert result.ok
    notice = ("Partial: the data ends 2026-11-02 08:00 PST, before this period does "
              "(2026-11-30); figures after that moment are missing, not zero.")
    for page in ("sanitation.html", "index.html"):
        assert notice in (home / "outputs" / "2026-11" / page).read_text(), page
    result = run_period(load_params(home), "2026-10", notebooks_dir=notebooks_dir(tmp_path),
                        workers=2, progress=False)
    assert "Partial:" not in (home / "outputs" / "2026-10" / "sanitation.html").read_text()
