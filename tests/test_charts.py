"""Charts: hand-computed bins, specs that carry aggregates only, offline mimebundle, SVG."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.present import charts
from stat_lib.core.errors import StatLibError
from support.builders import EVIL


def _data(spec: dict) -> list[list[dict]]:
    """Every inline dataset of a spec (altair moves data to top-level ``datasets``)."""
    return list(spec.get("datasets", {}).values())


def test_histogram_hand_counts():
    # edges 0,1,3,10: [0,1) holds 0.5; [1,3) holds 1, 2.5, 2.9; [3,10) none; 10+ holds 10, 100.
    # NaN (an open request) is not counted.
    h = charts.histogram([0.5, 1, 2.5, 2.9, 10, 100, float("nan")], [0, 1, 3, 10])
    assert h["bucket"].tolist() == ["0–1", "1–3", "3–10", "10+"]
    assert h["count"].tolist() == [1, 3, 0, 2]


def test_histogram_keeps_negative_durations_in_their_own_bucket():
    # -2 and -0.1 are below the first edge (0): counted as "< 0", never dropped.
    h = charts.histogram([-2, -0.1, 0, 4], [0, 1, 3])
    assert h["bucket"].tolist() == ["< 0", "0–1", "1–3", "3+"]
    assert h["count"].tolist() == [2, 1, 0, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-50, 500), st.just(float("nan"))), max_size=200))
def test_histogram_counts_every_value_once(values):
    h = charts.histogram(values, charts.AGE_EDGES)
    assert h["count"].sum() == sum(not math.isnan(v) for v in values)
    assert (h["count"] >= 0).all()


def test_trend_keeps_last_13_periods_in_order_and_draws_the_target():
    # 15 periods given in reverse order: the chart keeps 2025-03 .. 2026-03 (13), sorted.
    periods = [f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(1, 13)]
               + [(2026, m) for m in range(1, 4)]]
    df = pd.DataFrame({"period": periods[::-1], "value": np.linspace(0.7, 0.9, 15)[::-1]})
    spec = charts.trend_chart(df, target=0.85, title="On time").to_dict()
    line, rule = spec["layer"]
    rows = [d for d in _data(spec) if d and "period" in d[0]][0]
    assert [r["period"] for r in rows] == periods[2:]
    assert len(rows) == 13
    targets = [d for d in _data(spec) if d and "target" in d[0]][0]
    assert targets == [{"target": 0.85, "label": "Target 85%"}]  # the rule says what it is
    rule, label = rule["layer"]
    assert rule["mark"]["type"] == "rule" and rule["mark"]["strokeDash"] == [6, 4]
    assert label["mark"]["type"] == "text" and label["encoding"]["text"]["field"] == "label"
    assert {t["field"] for t in line["encoding"]["tooltip"]} == {"period", "value"}


def test_ontime_by_service_sorts_worst_first_and_carries_aggregates_only():
    df = pd.DataFrame({"service_name": ["A", "B", "C"], "on_time_rate": [0.9, 0.4, 0.7],
                       "closed": [10, 20, 30], "raw_column_not_for_the_page": [1, 2, 3]})
    spec = charts.ontime_by_service(df, target=0.8).to_dict()
    rows = [d for d in _data(spec) if d and "service_name" in d[0]][0]
    assert [r["service_name"] for r in rows] == ["B", "C", "A"]
    assert set(rows[0]) == {"service_name", "on_time_rate", "closed", "against"}
    # against the 80% target: B (40%) and C (70%) below, A (90%) above; the legend says so
    assert [r["against"] for r in rows] == ["Below the 80% target", "Below the 80% target",
                                            "At or above the target"]
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["Below the 80% target", "At or above the target"]
    assert color["legend"] is not None


def test_missing_columns_name_what_was_expected_and_found():
    with pytest.raises(StatLibError, match=r"missing 'closed'.*found service_name, on_time"):
        charts.ontime_by_service(pd.DataFrame({"service_name": ["A"], "on_time": [1.0]}),
                                 on_time="on_time")


def test_renderer_emits_lab_mimetype_and_static_svg_no_cdn():
    chart = charts.aging_chart([1, 2, 40, 100])
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(bundle) == {charts.LAB_MIME, "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"].lstrip().startswith("<svg")
    assert "cdn" not in str(bundle).lower() and "<script" not in str(bundle)


def test_chart_svg_escapes_data_text():
    df = pd.DataFrame({"service_name": [EVIL, "Graffiti"], "on_time_rate": [0.5, 0.9],
                       "closed": [2, 4]})
    svg = charts.chart_svg(charts.ontime_by_service(df))
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_status_bars_counts_and_fixed_colours():
    spec = charts.status_bars({"met": 3, "missed": 2}).to_dict()
    rows = _data(spec)[0]
    assert rows == [{"status": "met", "count": 3}, {"status": "near", "count": 0},
                    {"status": "missed", "count": 2}]
    assert spec["encoding"]["color"]["scale"]["range"] == list(charts.STATUS_COLORS.values())


def test_branding_colours_reach_the_theme():
    charts.use_branding({"primary_color": "#123456", "accent_color": "#abcdef"})
    try:
        spec = charts.trend_chart(pd.DataFrame({"period": ["2026-01"], "value": [1.0]}),
                                  target=0.5).to_dict()
        assert spec["config"]["mark"]["color"] == "#123456"
        assert spec["layer"][1]["layer"][0]["mark"]["color"] == "#abcdef"
    finally:
        charts.use_branding({"primary_color": "#1f3b5c", "accent_color": "#d9822b"})


def test_aging_colours_are_explained_in_a_legend():
    # AGE_EDGES 0, 7, 14, 30, 60, 90: the last three buckets (30 days and up) are "older"
    spec = charts.aging_chart([1, 2, 40, 100]).to_dict()
    color = spec["encoding"]["color"]
    assert color["scale"]["domain"] == ["Under 30 days old", "30 days or older"]
    rows = [d for d in _data(spec) if d and "bucket" in d[0]][0]
    assert {r["bucket"]: r["older"] for r in rows}["30–60"] == "30 days or older"
    assert {r["bucket"]: r["older"] for r in rows}["14–30"] == "Under 30 days old"


def _every_kind():
    from stat_lib.present import permit_charts, telephony_charts
    df = pd.DataFrame({"period": ["2026-09", "2026-10"], "value": [0.7, 0.9]})
    points = df.assign(mean=0.8, lower=0.6, upper=1.0, signal=[True, False],
                       signal_kind=["concerning", ""], partial=[False, True])
    services = pd.DataFrame({"service_name": ["A", "B"], "on_time_rate": [0.5, 0.9],
                             "closed": [2, 4]})
    cells = pd.DataFrame({"day": ["Mon", "Tue"], "hour": [8, 9], "offered": [3.0, 5.0]})
    hours = pd.DataFrame({"hour": [8, 9], "offered_per_day": [3.0, 5.0],
                          "agent_hours_per_day": [1.0, 2.0], "offered_per_agent_hour": [3.0, 2.5]})
    return [charts.trend_chart(df, target=0.85), charts.spc_chart(points, target=0.85),
            charts.ontime_by_service(services, target=0.8), charts.time_to_close_chart([1, 9]),
            charts.aging_chart([1, 40]), charts.status_bars({"met": 1}),
            charts.cityscore_chart(pd.DataFrame({"name": ["A"], "score": [1.1]})),
            charts.bars(df.rename(columns={"period": "group"}), target=0.8),
            permit_charts.business_days_chart(pd.DataFrame({"business_days": ["1"],
                                                            "permits": [2]})),
            telephony_charts.heatmap(cells, "offered", title="Offered"),
            telephony_charts.staffing_chart(hours)]


@pytest.mark.slow  # every chart kind built and schema-validated: about 3-8 s
def test_every_chart_kind_displays_its_validated_spec(monkeypatch):
    # displayed without validation in packets: the spec is the one to_dict() validates
    for validate in (True, False):
        monkeypatch.setattr(charts, "VALIDATE", validate)
        for chart in _every_kind():
            assert isinstance(chart, charts._Shown)
            assert chart._repr_mimebundle_()[charts.LAB_MIME] == chart.to_dict(validate=True)


def test_display_with_validation_on_catches_a_bad_spec(monkeypatch):
    bad = charts.status_bars({"met": 1})
    bad["width"] = "wide"  # a number, "container" or a step: not "wide"
    monkeypatch.setattr(charts, "VALIDATE", True)
    assert bad._repr_mimebundle_() == {}  # altair's way: the traceback shows, nothing drawn
    with pytest.raises(Exception, match="width"):
        bad.to_dict()
    monkeypatch.setattr(charts, "VALIDATE", False)
    assert bad._repr_mimebundle_() != {}
