"""Status against targets, trend direction, scorecards and CityScore."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.metrics import scoring
from stat_lib.params import Department, Params, Result, Results, Target
from support.builders import HAND_CAL as CAL, HAND_DEPT as DEPT, HAND_OCT as OCT, hand_requests

HIGH = Target(target=0.85, direction="higher", tolerance=0.05)  # near band: [0.8075, 0.85)
LOW = Target(target=4, direction="lower", tolerance=0.10)  # near band: (4, 4.4]


@pytest.mark.parametrize("value, target, expected", [
    (0.85, HIGH, "met"), (0.90, HIGH, "met"), (0.8075, HIGH, "near"), (0.80, HIGH, "missed"),
    (4.0, LOW, "met"), (4.4, LOW, "near"), (4.41, LOW, "missed"), (1.0, LOW, "met"),
    (None, HIGH, "n/a"), (float("nan"), LOW, "n/a"), (0.5, None, "n/a"),
])
def test_status(value, target, expected):
    assert scoring.status(value, target) == expected


@pytest.mark.parametrize("values, direction, expected", [
    ([0.7, 0.8, 0.9], "higher", "improving"),
    ([0.7, 0.8, 0.9], "lower", "worsening"),
    ([5, 4, 3], "lower", "improving"),
    ([0.8, 0.8, 0.9], "higher", "improving"),   # flat then up
    ([0.9, 0.8, 0.9], "higher", "steady"),      # down then up: mixed
    ([100, 100.5, 100.9], "lower", "steady"),   # steps under 1%: flat
    ([1, 2], "higher", "n/a"),                  # fewer than three periods
    ([1, None, 2], "higher", "n/a"),
    ([1, 2, 3], None, "n/a"),                   # volume: no good direction
    ([9, 1, 2, 3], "higher", "improving"),      # only the last three count
])
def test_trend_direction(values, direction, expected):
    assert scoring.trend_direction(values, direction) == expected


def test_metric_score():
    cap = 1.25
    assert scoring.metric_score(0.9, 0.9, "higher", cap) == pytest.approx(1.0)
    assert scoring.metric_score(0.45, 0.9, "higher", cap) == pytest.approx(0.5)
    assert scoring.metric_score(2.0, 4.0, "lower", cap) == pytest.approx(1.25)  # 4/2 = 2, capped
    assert scoring.metric_score(5.0, 4.0, "lower", cap) == pytest.approx(0.8)
    assert scoring.metric_score(0.0, 4.0, "lower", cap) == cap  # nothing late at all
    assert scoring.metric_score(None, 4.0, "lower", cap) is None
    assert scoring.metric_score(0.5, None, "higher", cap) is None
    assert scoring.metric_score(0.5, 0.0, "higher", cap) is None


@given(st.floats(0, 1e6), st.floats(0.01, 1e6), st.sampled_from(["higher", "lower"]))
def test_metric_score_bounds(value, target, direction):
    score = scoring.metric_score(value, target, direction, 1.25)
    assert 0 <= score <= 1.25


def test_scorecard_on_hand_fixture():
    card, tr = scoring.department_scorecard(hand_requests(), DEPT, OCT, CAL)
    card = card.set_index("metric")
    # on-time 2/4 = 0.5 against 0.85 higher: missed; September: R16 only, no SLA -> n/a
    assert card.loc["on_time_rate", "value"] == pytest.approx(0.5)
    assert card.loc["on_time_rate", "status"] == "missed"
    assert pd.isna(card.loc["on_time_rate", "prior"])
    assert card.loc["on_time_rate", "display"] == "50.0%"
    # median 3.25 days against 4 lower: met; backlog 6 against 5 (+10% = 5.5): missed
    assert card.loc["median_days_to_close", "status"] == "met"
    assert card.loc["backlog_open", "status"] == "missed"
    # created 12 now, 3 in September: change +9; October 2025: 0 created -> change 12
    assert card.loc["created", "change_prior"] == 9
    assert card.loc["created", "year_ago"] == 0
    # backlog over Aug, Sep, Oct: 1 (R12), 2 (R12 + R1 at 1 Oct), 6 -> rising, lower is better
    assert card.loc["backlog_open", "trend"] == "worsening"
    assert pd.isna(card.loc["created", "direction"]) and card.loc["created", "trend"] == "n/a"
    assert list(card.index[:2]) == ["created", "closed"]


def _params(departments: dict[str, Department]) -> Params:
    results = Results(cityscore_cap=1.25, results=[Result(id="safety", name="Public safety"),
                                                   Result(id="service", name="Customer service")])
    return Params.model_construct(home=None, city=None, departments=departments, results=results)


def test_cityscore_by_department_result_and_city():
    depts = {s: Department(slug=s, name=s.title(), source_codes=[s], result=r)
             for s, r in [("lights", "safety"), ("water", "safety"), ("it", "service")]}
    rows = [  # department, metric, value, target, direction -> score
        ("lights", "on_time_rate", 0.72, 0.80, "higher"),          # 0.72/0.8 = 0.9
        ("lights", "median_days_to_close", 5.0, 10.0, "lower"),    # 10/5 = 2 -> cap 1.25
        ("water", "on_time_rate", 0.475, 0.95, "higher"),          # 0.5
        ("water", "backlog_open", 10.0, np.nan, None),             # no target: not scored
        ("it", "on_time_rate", np.nan, 0.9, "higher"),             # n/a: not scored
        ("it", "median_days_to_close", 2.5, 2.0, "lower"),         # 2/2.5 = 0.8
    ]
    figures = pd.DataFrame(rows, columns=["department", "metric", "value", "target", "direction"])
    figures["period"] = "2026-10"
    out = scoring.cityscore(_params(depts), figures)
    dept = out["departments"].set_index("department")["score"]
    assert dept["lights"] == pytest.approx((0.9 + 1.25) / 2)  # 1.075
    assert dept["water"] == pytest.approx(0.5)
    assert dept["it"] == pytest.approx(0.8)
    result = out["results"].set_index("result")
    # safety: mean of its metrics' scores (not of department means): (0.9 + 1.25 + 0.5) / 3
    assert result.loc["safety", "score"] == pytest.approx(2.65 / 3)
    assert result.loc["safety", "name"] == "Public safety"
    assert result.loc["service", "score"] == pytest.approx(0.8)
    city = out["city"].iloc[0]
    assert city["score"] == pytest.approx((0.9 + 1.25 + 0.5 + 0.8) / 4)  # 0.8625
    assert city["metrics"] == 4
