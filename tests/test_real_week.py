"""A weekly packet on the real MyLA311 rows: real profile, real joins, a short history.

The real extract covers 8 days (2017-12-27 to 2018-01-04), so a weekly packet for 2018-W01 has
12 empty weeks of trend before it: every figure must still render ("n/a", never a crash).
"""

import re

import pytest

from stat_lib.params import load_params
from stat_lib.core.periods import Period
from support.builders import sample_home

pytestmark = pytest.mark.slow  # ingests 19,999 real rows, executes a real notebook


@pytest.fixture(scope="module")
def real_city(tmp_path_factory):
    from stat_lib.ingest import ingest
    home = sample_home(tmp_path_factory.mktemp("real"), ("la311", "boundaries"),
                       sample_data=False, data_notice=None,
                       sources=[{"name": "myla311", "path": "data/la311/*.csv",
                                 "profile": "myla311"}], permits=[], permit_stops=[])
    params = load_params(home)
    report = ingest(params)
    return params, report


def test_real_rows_are_all_accounted_for(real_city):
    params, report = real_city
    text = report.summary()
    assert "19,999 rows read, 19,998 loaded, 1 rejected" in text


def test_weekly_packet_on_real_rows(real_city):
    from stat_lib.run.batch import run_period
    params, _ = real_city
    result = run_period(params, Period.parse("2018-W01"), ["sanitation"], workers=1, force=True)
    assert result.ok, result.summary()
    page = (params.outputs / "2018-W01" / "sanitation.html").read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-metric="(\w+)">([^<]*)<', page))
    # created in ISO week 1 of 2018 (Mon 2018-01-01 .. Sun 2018-01-07, Los Angeles time):
    # the 2018 file's BOS rows, all created 2018-01-01 00:00 to 2018-01-04 09:33.
    assert shown["created"] == "7,635"
    assert "Synthetic data" not in page
    assert "week 1 of 2018" in page
