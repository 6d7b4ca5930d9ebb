"""What moved: every listed row names a rule, prints the limits used, ranked for the memo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.periods import Period
from stat_lib.metrics import methods
from stat_lib.metrics.moved import default_metrics, what_moved
from stat_lib.params.models import Department, Spc, Target
from support.builders import HAND_CAL as CAL, HAND_DEPT as DEPT, HAND_OCT as OCT, hand_requests

TZ = "America/Los_Angeles"
# mean 11.5, limits [7.872727, 15.127273], one sigma 1.209091 (tests/test_spc.py)
BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]


def _trend(values, metric="backlog_open", dept="lights", num=None, den=None):
    periods = [p.label for p in Period.parse("2026-10", TZ).trailing(len(values))]
    return pd.DataFrame({"department": dept, "period": periods,
                         "period_start": pd.to_datetime([p + "-01" for p in periods]),
                         "metric": metric, "value": np.asarray(values, dtype=float),
                         "numerator": num if num is not None else np.nan,
                         "denominator": den if den is not None else np.nan})


def _dept(slug, **targets):
    return Department(slug=slug, name=slug.title(), source_codes=[slug.upper()],
                      targets={k: Target(**v) for k, v in targets.items()})


def test_ranked_concerning_first_then_by_distance():
    # backlog (lower is better) 16: 3.72 sigma above, concerning; overdue_open 15.5: 3.31
    # sigma above, concerning; on_time_met (higher is better) 19: 6.20 sigma above, improving,
    # listed after both concerning rows though it is farther out; created 12: common cause
    trends = pd.concat([_trend([*BASE, 16]), _trend([*BASE, 15.5], "overdue_open"),
                        _trend([*BASE, 19], "on_time_met"), _trend([*BASE, 12], "created")])
    ids = ["backlog_open", "overdue_open", "on_time_met", "created"]
    moved = what_moved(trends, metrics=ids)
    assert moved["metric"].tolist() == ids
    assert moved["rank"].tolist()[:3] == [1, 2, 3] and np.isnan(moved["rank"].iloc[3])
    assert moved["variation"].tolist() == [methods.CONCERNING, methods.CONCERNING,
                                           methods.IMPROVING, methods.COMMON]
    assert moved["distance"].iloc[0] == pytest.approx(4.5 / 1.209091, abs=1e-4)
    top = moved.iloc[0]
    # printed range: exactly the limits the rule used
    assert (top["lower"], top["upper"]) == (pytest.approx(7.872727), pytest.approx(15.127273))
    assert top["rules"] == "beyond_limit" and top["signals"] == "above the upper limit"
    # prior 11 -> 16: +5; a year earlier (2025-10, the first point) 10 -> +6
    assert top[["prior", "change_prior", "year_ago", "change_year"]].tolist() == [11, 5, 10, 6]
    assert top["moved"] == "up" and top["chart"] == "xmr"


def test_targets_and_directions_come_from_the_department():
    # closed has no good direction by default; this department's target says lower is better
    dept = _dept("lights", closed={"target": 14, "direction": "lower"})
    moved = what_moved(_trend([*BASE, 19], "closed"), {"lights": dept}, ["closed"])
    row = moved.iloc[0]
    assert row["variation"] == methods.CONCERNING
    # a signal: the limits describe the process before it changed, so no assurance verdict
    assert row["assurance"] is None and row["assurance_text"] == methods.PAUSED
    # common cause at 12: limits [7.87, 15.13] straddle 14 -> hit and miss
    calm = what_moved(_trend([*BASE, 12], "closed"), {"lights": dept}, ["closed"]).iloc[0]
    assert calm["assurance"] == methods.HIT_AND_MISS
    assert calm["assurance_text"] == "target hit and miss"


def test_department_spc_override_is_used():
    dept = Department(slug="lights", name="Lights", source_codes=["L"],
                      spc={"min_points": 13})  # 12 baseline points are now too few
    moved = what_moved(_trend([*BASE, 40]), {"lights": dept}, ["backlog_open"])
    assert not moved["flagged"].iloc[0]
    assert moved["reason"].iloc[0] == "12 baseline points; 13 needed"
    city = Spc(baseline_periods=12, min_points=12)
    assert what_moved(_trend([*BASE, 40]), spc=city)["flagged"].iloc[0]


def test_partial_period_is_not_listed():
    moved = what_moved(_trend([*BASE, 40]), partial=True)
    assert not moved["flagged"].any() and moved["variation"].iloc[0] == methods.NOT_JUDGED
    assert np.isnan(moved["lower"].iloc[0])


def test_laney_rows_for_rates():
    # 24 months of 3,500 requests, 80% +- 2 points on time: a plain p chart's sigma at
    # n = 3,500 is sqrt(.16/3500) = 0.0068, so +-2 points is 3 sigma and would flag most
    # months; Laney's sigma_z rescales to the observed month-to-month spread
    rng = np.random.default_rng(7)
    p = 0.8 + rng.uniform(-0.02, 0.02, 25)
    den = np.full(25, 3500.0)
    num = np.round(p * den)
    moved = what_moved(_trend(num / den, "on_time_rate", num=num, den=den),
                       metrics=["on_time_rate"])
    row = moved.iloc[0]
    assert row["chart"] == "p_prime" and row["lower"] < 0.78 and row["upper"] > 0.82


@pytest.mark.slow  # over ~1.5 s: 100 random series, each scored
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=13, max_size=30),
       st.sampled_from(["higher", "lower"]))
def test_no_row_without_a_rule_and_inside_limits_only_by_a_run_rule(values, direction):
    metric = "on_time_met" if direction == "higher" else "backlog_open"
    moved = what_moved(_trend(values, metric), metrics=[metric])
    for row in moved[moved["flagged"]].itertuples():
        assert row.rules and row.signals
        assert row.lower <= row.upper
        if row.lower <= row.value <= row.upper:
            assert "beyond_limit" not in row.rules.split("; ")
        else:
            assert "beyond_limit" in row.rules.split("; ")
    for row in moved[~moved["flagged"]].itertuples():
        assert not row.rules and np.isnan(row.rank)


def test_on_a_real_trend_the_default_metrics_are_judged():
    from stat_lib.metrics import scoring
    tr = scoring.department_scorecard(hand_requests(), DEPT, OCT, CAL, n=25)[1]
    moved = what_moved(tr, {DEPT.slug: DEPT})
    assert set(moved["metric"]) <= set(default_metrics())
    assert moved["rank"].dropna().tolist() == list(range(1, moved["flagged"].sum() + 1))
    assert set(moved["variation"]) <= {*methods.SPECIAL, methods.COMMON, methods.NO_VERDICT}
