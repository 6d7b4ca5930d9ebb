"""Statistical process control: limits worked by hand, each rule fired and not, the verdicts."""

import math

import numpy as np
import pandas as pd
import pytest

from stat_lib.core.errors import ParamsError
from stat_lib.core.periods import Period
from stat_lib.metrics import assess, methods, spc
from stat_lib.params.models import Department, Spc

TZ = "America/Los_Angeles"
# 12 baseline points: sum 138 -> mean 11.5; moving ranges 2,1,2,1,2,1,1,1,2,1,1 sum 15 over 11
# -> mR = 15/11 = 1.363636; limits 11.5 +- 2.66 x 1.363636 = 11.5 +- 3.627273
# -> [7.872727, 15.127273]; one sigma = 3.627273 / 3 = 1.209091
BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]


def series(values, num=None, den=None, end="2026-10"):
    labels = [p.label for p in Period.parse(end, TZ).trailing(len(values))]
    out = pd.DataFrame({"period": labels, "value": np.asarray(values, dtype=float)})
    if num is not None:
        out["numerator"], out["denominator"] = num, den
    return out


def test_xmr_limits_by_hand():
    lim = spc.xmr_limits(BASE)
    assert lim["mean"] == pytest.approx(11.5)
    assert lim["mr_bar"] == pytest.approx(15 / 11)
    assert (lim["lower"], lim["upper"]) == (pytest.approx(7.872727, abs=1e-6),
                                            pytest.approx(15.127273, abs=1e-6))
    assert lim["sigma"] == pytest.approx(1.209091, abs=1e-6)


def test_xmr_point_beyond_the_upper_limit():
    a = assess(series([*BASE, 16]), "created", direction="lower")
    assert a.chart == "xmr" and a.rules == ("beyond_limit",)
    assert a.variation == methods.CONCERNING  # up, and lower is better
    assert a.signals == ("above the upper limit",)
    # distance (16 - 11.5) / 1.209091 = 3.7218
    assert a.distance == pytest.approx(3.7218, abs=1e-4)
    assert (a.lower, a.upper) == (pytest.approx(7.872727), pytest.approx(15.127273))
    # 15 is inside the limits; above 2 sigma (13.918) but neither of 12, 11 before it is
    inside = assess(series([*BASE, 15]), "created", direction="lower")
    assert inside.variation == methods.COMMON and inside.rules == ()


def test_laney_p_prime_by_hand():
    # baseline 80, 90, 70, 80 of 100 each: p = 320/400 = 0.8; sigma_p = sqrt(0.16/100) = 0.04;
    # z = 0, 2.5, -2.5, 0; |dz| = 2.5, 5, 2.5 -> mean 10/3; sigma_z = (10/3)/1.128 = 2.955083
    lim = spc.laney_limits([80, 90, 70, 80], [100] * 4, at=[400])
    assert lim["mean"] == pytest.approx(0.8)
    assert lim["sigma_z"] == pytest.approx(2.955083, abs=1e-6)
    # at n = 400: sigma_p = sqrt(0.16/400) = 0.02; sigma = 0.02 x 2.955083 = 0.059102;
    # limits 0.8 +- 3 x 0.059102 = [0.622695, 0.977305]
    assert lim["lower"][0] == pytest.approx(0.622695, abs=1e-6)
    assert lim["upper"][0] == pytest.approx(0.977305, abs=1e-6)


def test_laney_widens_what_a_p_chart_would_flag():
    # 280/400 = 0.70: a plain p chart (sigma_z = 1) has 0.8 +- 3 x 0.02 = [0.74, 0.86] and
    # would flag it; the observed between-period spread widens that to [0.6227, 0.9773]
    num, den = [80, 90, 70, 80, 280], [100, 100, 100, 100, 400]
    s = series(np.divide(num, den), num, den)
    settings = Spc(baseline_periods=4, min_points=4)
    a = assess(s, "on_time_rate", direction="higher", settings=settings)
    assert a.chart == "p_prime" and a.variation == methods.COMMON
    assert (a.lower, a.upper) == (pytest.approx(0.622695, abs=1e-6),
                                  pytest.approx(0.977305, abs=1e-6))
    # 240/400 = 0.60 is below 0.622695: concerning when higher is better
    low = assess(series(np.divide([80, 90, 70, 80, 240], den), [80, 90, 70, 80, 240], den),
                 "on_time_rate", direction="higher", settings=settings)
    assert low.variation == methods.CONCERNING and low.rules == ("beyond_limit",)
    # distance 0.2 / 0.059102 = 3.384
    assert low.distance == pytest.approx(3.384, abs=1e-3)


def test_limits_are_clipped_to_possible_values():
    # counts 0, 4 alternating: mean 2, mR 4 -> 2 +- 10.64: the lower limit is 0, not -8.64
    a = assess(series([0, 4] * 6 + [3]), "created", direction="lower")
    assert a.lower == 0 and a.upper == pytest.approx(12.64)


# ---- rules, on a centre of 10, sigma 1, limits [7, 13] --------------------------------------

def rules(x):
    return spc.fired(spc.rule_points(x, 10.0, 1.0, 7.0, 13.0))


@pytest.mark.parametrize("fires, quiet, rule, sign", [
    ([10, 10, 13.5], [10, 10, 12.9], "beyond_limit", 1),
    ([10, 10, 6.5], [10, 10, 7.0], "beyond_limit", -1),           # on the limit is inside
    ([9] + [11] * 7, [9] + [11] * 6, "run", 1),                   # 7 above; 6 above
    ([11] + [9.5] * 7, [9.5] * 3 + [10] + [9.5] * 4, "run", -1),  # a point on the mean breaks it
    ([10, 9.1, 9.2, 9.3, 9.4, 9.5, 9.6], [10, 9.2, 9.3, 9.4, 9.5, 9.6], "trend", 1),  # 6 / 5
    ([10, 10.9, 10.8, 10.7, 10.6, 10.5, 10.4], [10.9, 10.8, 10.8, 10.7, 10.6, 10.5],
     "trend", -1),                                                # a tie breaks the fall
    ([10, 12.5, 10, 12.5], [10, 12.5, 10, 10, 12.5], "two_of_three", 1),  # 2 of the last 3
    ([10, 7.5, 7.6], [10, 7.5, 10, 12.5], "two_of_three", -1),    # opposite sides do not add
])
def test_each_rule_fires_and_not(fires, quiet, rule, sign):
    assert rules(fires).get(rule) == sign
    assert rule not in rules(quiet)


def test_two_of_three_needs_the_latest_point_beyond_two_sigma():
    # 12.5, 12.5, 10: two of the last three are beyond 12, but the latest is not
    assert "two_of_three" not in rules([10, 12.5, 12.5, 10])


def test_run_rule_through_assess_names_its_length():
    # baseline: 12, 8 x 6 then 10.5, 11, 10.6, 11.2, 10.8, 11 (18 points): sum 185.1 ->
    # mean 10.2833; mR: 11 x 4, then 2.5, .5, .4, .6, .4, .2 -> 48.6/17 = 2.8588; limits
    # 10.28 +- 7.60, two sigma 5.07: only the run fires, 7 points above the mean (after an 8)
    x = [12, 8] * 6 + [10.5, 11, 10.6, 11.2, 10.8, 11, 10.7]
    a = assess(series(x), "backlog_open", direction="lower")
    assert a.rules == ("run",) and a.signals == ("7 periods in a row above the mean",)
    assert a.mean == pytest.approx(185.1 / 18) and a.variation == methods.CONCERNING
    assert a.lower <= a.value <= a.upper
    quiet = assess(series([*x[:-1], 10.0]), "backlog_open", direction="lower")
    assert quiet.variation == methods.COMMON


def test_trend_rule_through_assess():
    # baseline 8, 12 x 6 then 7, 8, 9, 10, 11 (17 points): mean 165/17 = 9.706; mR 53/16
    # = 3.3125: limits 9.71 +- 8.81, two sigma 5.87; 7..12 rising = 6 points
    x = [8, 12] * 6 + [7, 8, 9, 10, 11, 12]
    a = assess(series(x), "on_time_met", direction="higher")
    assert a.rules == ("trend",) and a.variation == methods.IMPROVING
    assert a.signals == ("6 periods in a row rising",)
    assert assess(series([*x[:-1], 10.5]), "created", direction=None).variation == \
        methods.COMMON


def test_signal_without_good_direction_is_neither():
    a = assess(series([*BASE, 16]), "created", direction=None)
    assert a.variation == methods.NEITHER and a.special


# ---- no verdict, partial periods, seasonal baselines ------------------------------------------

def test_fewer_than_min_points_gives_no_verdict():
    a = assess(series([*BASE[1:], 40]), "created", direction="lower")  # 11 baseline points
    assert a.variation == methods.NO_VERDICT and not a.special and a.rules == ()
    assert a.reason == "11 baseline points; 12 needed"
    assert math.isnan(a.lower) and math.isnan(a.upper)
    assert assess(series([*BASE, 40]), "created", direction="lower").special  # 12 are enough


def test_missing_values_do_not_count_as_baseline_points():
    x = [*BASE[:6], np.nan, *BASE[6:], 40]  # 13 periods before the latest, one without value
    a = assess(series(x), "created", direction="lower")
    assert a.baseline_points == 12 and a.special
    assert a.mean == pytest.approx(11.5)  # the gap is skipped; moving ranges unchanged


def test_partial_period_is_never_judged():
    a = assess(series([*BASE, 40]), "created", direction="lower", partial=True)
    assert a.variation == methods.NOT_JUDGED and not a.special and a.rules == ()
    assert "partial period" in a.reason and a.assurance is None
    assert a.points["partial"].tolist()[-1] and not a.points["signal"].any()


def test_baseline_is_the_trailing_periods():
    # 30 periods before the latest: baseline_periods 24 uses the last 24 (all 11 here), so an
    # old level of 100 does not widen the limits: mean 11, mR 0 -> 12 is beyond the limits
    a = assess(series([100] * 6 + [11] * 24 + [12]), "created", direction="lower")
    assert a.baseline_points == 24 and a.mean == 11 and a.upper == 11
    assert a.rules[0] == "beyond_limit"


def _seasonal_series():
    # August 2022 .. July 2026: 100 every month, Julys 195 (2023), 200 (2024), 205 (2025) and
    # 205 in July 2026, the month judged
    labels = [p.label for p in Period.parse("2026-07", TZ).trailing(48)]
    july = {"2023-07": 195, "2024-07": 200, "2025-07": 205, "2026-07": 205}
    return pd.DataFrame({"period": labels, "value": [float(july.get(p, 100)) for p in labels]})


def test_seasonal_baseline_uses_the_same_months_of_earlier_years():
    s = _seasonal_series()
    # not seasonal: the 24 months before (Julys 200 and 205, 22 x 100): mean 2605/24 = 108.54;
    # mR 100 + 105 + 105 over 23 = 13.478; upper 108.54 + 35.85 = 144.39: 205 fires
    plain = assess(s, "created", direction="lower")
    assert plain.upper == pytest.approx(2605 / 24 + 2.66 * 310 / 23)
    assert plain.variation == methods.CONCERNING
    # seasonal: Julys 195, 200, 205: mean 200, mR 5 -> [186.7, 213.3]: 205 is common cause
    settings = Spc(min_points=3, seasonal=["created"])
    a = assess(s, "created", direction="lower", settings=settings)
    assert a.seasonal and a.baseline_points == 3 and a.variation == methods.COMMON
    assert (a.lower, a.upper) == (pytest.approx(200 - 13.3), pytest.approx(200 + 13.3))
    assert a.points["period"].tolist() == ["2023-07", "2024-07", "2025-07", "2026-07"]
    # with the default 12 points needed, three earlier Julys give no verdict, and say so
    none = assess(s, "created", direction="lower", settings=Spc(seasonal=["created"]))
    assert none.reason == "3 same-period earlier-year baseline points; 12 needed"


# ---- assurance --------------------------------------------------------------------------------

@pytest.mark.parametrize("target, direction, verdict", [
    (7, "higher", methods.MET),             # lower limit 7.87 >= 7
    (16, "higher", methods.MISSED),         # upper limit 15.13 < 16
    (12, "higher", methods.HIT_AND_MISS),   # 12 inside [7.87, 15.13]
    (16, "lower", methods.MET),             # upper limit 15.13 <= 16
    (7, "lower", methods.MISSED),           # lower limit 7.87 > 7
])
def test_assurance_from_the_limits(target, direction, verdict):
    a = assess(series([*BASE, 12]), "created", direction=direction, target=target)
    assert a.assurance == verdict
    assert a.text().endswith(methods.VERDICT_TEXT[verdict])


def test_no_assurance_after_a_signal_and_the_text_says_why():
    # 16 is above the limits [7.87, 15.13]: those describe the process before the change
    a = assess(series([*BASE, 16]), "created", direction="lower", target=20)
    assert a.special and a.assurance is None
    assert a.text() == ("special cause: concerning (above the upper limit); "
                        "no assurance verdict: the process changed")


def test_no_assurance_without_target_or_verdict():
    assert assess(series([*BASE, 12]), "created", direction="higher").assurance is None
    short = assess(series([10, 12, 14]), "created", direction="higher", target=5)
    assert short.assurance is None and short.variation == methods.NO_VERDICT


# ---- settings and the method registry ---------------------------------------------------------

def _dept(**spc_keys):
    return Department(slug="lights", name="Lights", source_codes=["L"],
                      **({"spc": spc_keys} if spc_keys else {}))


def test_department_spc_overrides_the_city_key_by_key():
    city = Spc(baseline_periods=36, min_points=18)
    assert spc.spc_settings(city, _dept()) == city
    merged = spc.spc_settings(city, _dept(min_points=6))
    assert (merged.baseline_periods, merged.min_points) == (36, 6)


def test_bad_spc_settings_say_the_fix():
    with pytest.raises(ValueError, match="min_points .* is more than baseline_periods"):
        Spc(baseline_periods=6, min_points=12)
    # the department's keys are checked once laid over the city's: 30 <= 36 is fine
    assert spc.spc_settings(Spc(baseline_periods=36), _dept(min_points=30)).min_points == 30
    with pytest.raises(ParamsError, match="unknown metric.*'?nope'?.*known metrics"):
        spc.spc_settings(Spc(seasonal=["nope"]), None)
    with pytest.raises(ParamsError, match="lights.*spc"):  # 30 > the city's baseline of 24
        spc.spc_settings(Spc(), _dept(min_points=30))


def test_every_metric_names_a_registered_method():
    from stat_lib.metrics import METRICS
    # None: never judged over time (documented on Metric.method), e.g. the follow-up rate
    assert {m.method for m in METRICS.values()} - {None} <= set(methods.METHODS)
    assert METRICS["follow_up_rate"].method is None
    assert methods.METHODS["spc"].assess is spc.assess_spc
    with pytest.raises(ValueError, match="registered twice"):
        methods.register_method(methods.Method("spc", "again", spc.assess_spc))


def test_another_kind_of_method_plugs_in(monkeypatch):
    from stat_lib.metrics import registry
    seen = {}

    def margin(series, **kw):
        seen.update(kw)
        return methods.Assessment(method="margin", chart="", variation=methods.COMMON)

    monkeypatch.setitem(methods.METHODS, "margin", methods.Method("margin", "survey", margin))
    d = registry.METRICS["created"]
    monkeypatch.setitem(registry.METRICS, "created", type(d)(**{**d.__dict__,
                                                               "method": "margin"}))
    assert assess(series(BASE), "created", target=3).method == "margin"
    assert seen["target"] == 3 and seen["unit"] == "count"


def test_spc_params_load_with_lines_and_reject_unknown_keys(home):
    from stat_lib.core.errors import ParamsErrors
    from stat_lib.params import load_params
    dept = home / "params/departments/sanitation.yaml"
    dept.write_text(dept.read_text() + "spc:\n  min_points: 6\n  seasonal: [created]\n")
    params = load_params(home)
    merged = spc.spc_settings(params.city.spc, params.department("sanitation"))
    assert (merged.baseline_periods, merged.min_points, merged.seasonal) == (24, 6, ["created"])
    dept.write_text(dept.read_text() + "  baseline: 12\n")
    with pytest.raises(ParamsErrors, match=r"sanitation\.yaml.*line \d+.*spc\.baseline"):
        load_params(home)


def test_trend_wording_counts_only_the_last_unbroken_rise():
    # rises 1..6, a tie (6, 6), then rises 6..11: the last streak is 6 points (6, 7, ..., 11)
    x = [*BASE, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10, 11]
    lim = spc.xmr_limits(x[:-1])
    marks = spc.rule_points(x, lim["mean"], 100.0, -1e9, 1e9)  # wide: only the trend rule
    assert spc.fired(marks)["trend"] == 1
    assert spc._wording("trend", 1, marks, np.asarray(x, float)) == "6 periods in a row rising"


def test_a_partial_period_with_few_points_says_partial():
    a = assess(series([10, 12, 40]), "created", direction="lower", partial=True)
    assert a.variation == methods.NOT_JUDGED and "partial period" in a.reason
