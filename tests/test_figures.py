"""Tidy figures from a real DuckDB store holding the hand fixture (support.builders)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from stat_lib.metrics import tidy as figures
from stat_lib.metrics import scoring
from stat_lib.metrics.moved import what_moved
from stat_lib.core.errors import UsageError
from stat_lib.core.periods import Period
from support.builders import HAND_DEPT, hand_city


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    """The sample city's params with the fixture's sanitation department, and a real store."""
    p = hand_city(tmp_path_factory.mktemp("home"))
    assert p.department("sanitation").model_dump() == HAND_DEPT.model_dump()
    return p


@pytest.fixture(scope="module")
def october(params):
    return figures.tidy_figures(params, "2026-10")


def test_every_department_and_metric(params, october):
    assert list(october.columns[:8]) == figures.COLUMNS[:8]
    assert set(october["department"]) == set(params.departments)
    # one row per department x metric, no duplicates
    assert not october.duplicated(["department", "metric"]).any()
    for metric in ("created", "closed", "cancelled", "on_time_rate", "median_days_to_close",
                   "p90_days_to_close", "backlog_open", "overdue_open"):
        assert (october["metric"] == metric).sum() == len(params.departments)


def test_values_from_the_store_match_the_hand_figures(october):
    san = october[october["department"] == "sanitation"].set_index("metric")
    # the same hand-worked figures as tests/test_metrics.py, now through DuckDB and back
    assert san.loc["created", "value"] == 12 and san.loc["closed", "value"] == 7
    assert san.loc["on_time_rate", "value"] == pytest.approx(0.5)
    assert (san.loc["on_time_rate", "numerator"], san.loc["on_time_rate", "denominator"]) == (2, 4)
    assert san.loc["on_time_rate", "status"] == "missed"
    assert san.loc["median_days_to_close", "value"] == pytest.approx(3.25)
    assert san.loc["median_days_to_close", "status"] == "met"
    assert san.loc["backlog_open", "value"] == 6 and san.loc["backlog_open", "status"] == "missed"
    assert san.loc["cohort_on_time_rate", "value"] == pytest.approx(3 / 7)
    assert san.loc["standard_compliance.bulky-5-days", "value"] == pytest.approx(2 / 3)
    assert san.loc["standard_compliance.bulky-5-days", "target"] == 0.9
    assert san.loc["redress_dollars.bulky-5-days", "value"] == pytest.approx(20.0)
    assert san.loc["created", "period_start"] == "2026-10-01T00:00:00-07:00"
    assert san.loc["created", "period_end"] == "2026-11-01T00:00:00-07:00"


def test_departments_without_requests_are_na_not_zero(october):
    ita = october[october["department"] == "information-technology"].set_index("metric")
    assert ita.loc["created", "value"] == 0
    assert pd.isna(ita.loc["on_time_rate", "value"])
    assert ita.loc["on_time_rate", "display"] == "n/a"
    assert ita.loc["on_time_rate", "status"] == "n/a"


def test_csv_and_json_round_trip(october, tmp_path):
    text = figures.to_csv(october, tmp_path / "metrics.csv")
    back = pd.read_csv(io.StringIO(text))
    assert len(back) == len(october) and list(back.columns) == figures.COLUMNS
    assert (tmp_path / "metrics.csv").read_text() == text
    records = json.loads(figures.to_json(october))
    ita = {r["metric"]: r for r in records if r["department"] == "information-technology"}
    assert ita["on_time_rate"]["value"] is None  # n/a is null, never 0
    assert ita["created"]["value"] == 0


def test_selected_department_and_unknown(params):
    one = figures.tidy_figures(params, Period.parse("2026-10"), ["sanitation"])
    assert set(one["department"]) == {"sanitation"}
    with pytest.raises(UsageError, match="known departments"):
        figures.tidy_figures(params, "2026-10", ["parks"])


def test_cityscore_from_store(params):
    figs = figures.cityscore_figures(params, "2026-10", ["sanitation"])
    assert set(figs["window"]) == {"month", "quarter", "year"}
    out = scoring.cityscore(params, figs)
    month = out["departments"].set_index("window").loc["month"]
    # on-time 0.5/0.85 = 0.5882; median 4/3.25 = 1.2308; backlog 5/6 = 0.8333;
    # bulky standard (2/3)/0.9 = 0.7407 -> mean 0.8483
    expected = (0.5 / 0.85 + 4 / 3.25 + 5 / 6 + (2 / 3) / 0.9) / 4
    assert month["score"] == pytest.approx(expected)
    assert month["metrics"] == 4
    city = out["city"].set_index("window")["score"]
    assert city["month"] == pytest.approx(expected)


def test_trends_and_what_moved_from_store(params):
    tr = figures.trends(params, "2026-10", ["sanitation", "street-lighting"], n=13)
    assert set(tr["department"]) == {"sanitation", "street-lighting"}
    assert tr.groupby("department")["period"].nunique().tolist() == [13, 13]
    moved = what_moved(tr, params.departments, spc=params.city.spc)
    san = moved[moved["department"] == "sanitation"].set_index("metric")
    # backlog 0 x 10, 1, 2 over the trailing twelve, then 6: mean 3/12 = 0.25; moving ranges
    # sum 2 over 11 -> upper 0.25 + 2.66 x 2/11 = 0.7336, lower clipped to 0; 6 is beyond it,
    # and the 2 before it is beyond two sigma too (one sigma 2.66 x 2/11 / 3 = 0.161: 0.57)
    b = san.loc["backlog_open"]
    assert (b["mean"], b["lower"], b["upper"]) == (0.25, 0, pytest.approx(0.25 + 2.66 * 2 / 11))
    assert b["rules"] == "beyond_limit; two_of_three"
    assert b["variation"] == "special_cause_concerning"
    # the fixture's durations exist in one or two months only: no verdict, and it says why
    assert san.loc["median_days_to_close", "reason"] == "1 baseline points; 12 needed"
    assert not san.loc["median_days_to_close", "flagged"]
