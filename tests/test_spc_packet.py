"""SPC in the packet: the printed range is the limits used, every row names its rule, charts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from stat_lib.core.periods import Period
from stat_lib.metrics import assess
from stat_lib.metrics.registry import metric_def
from stat_lib.present import charts
from stat_lib.present.spc_text import limits_text, moved_table
from support.builders import hand_city, replace_in_city

BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]  # limits [7.87, 15.13], tests/test_spc.py


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The hand fixture (requests of 2026-08 .. 2026-10) in a real store."""
    return hand_city(tmp_path_factory.mktemp("spc-home"))


def _report(home, period="2026-10"):
    from stat_lib.present.reports.department import DepartmentReport
    return DepartmentReport(str(home), "sanitation", period)


def _rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in body.split("</tr>")
            if "<td" in tr]


def test_default_baseline_gives_no_verdict_and_says_why(city):
    # 2026-08 and 2026-09 before October: 2 baseline points, 12 needed
    html = _report(city.home).what_moved().data
    assert "No measure shows a signal this period." in html
    assert "Open at period end (2 baseline points; 12 needed)" in html


def test_listed_rows_print_the_limits_used_and_name_the_rule(city):
    replace_in_city(city.home, "min_points: 12 ", "min_points: 2 ")  # city.yaml's spc:
    try:
        report = _report(city.home)
        moved = report.moved
        # backlog 1 (Aug), 2 (Sep), then 6: mean 1.5, mR 1 -> 1.5 +- 2.66 = [0 (clipped from
        # -1.16), 4.16]; 6 is above; two sigma 1.5 + 1.77 = 3.27: 2 is not beyond it
        b = moved.set_index("metric").loc["backlog_open"]
        assert (b["lower"], b["upper"]) == (0, pytest.approx(4.16))
        assert b["rules"] == "beyond_limit" and b["variation"] == "special_cause_concerning"
        flagged = moved[moved["flagged"]]
        rows = _rows(report.what_moved(top=len(moved)).data)
        assert len(rows) == len(flagged) > 0
        for cells, r in zip(rows, flagged.itertuples()):
            assert cells[3] == limits_text(r.lower, r.upper, r.value, metric_def(r.metric).unit)
            assert cells[5] and cells[5] == r.signals.replace("&", "&amp;")
        # overdue 1, 1 then 2: mR 0, limits [1, 1]: infinitely many sigmas out, ranked first
        assert [r[1] for r in rows[:2]] == ["Open and overdue at period end", "Open at period end"]
        assert rows[0][3] == "1 – 1" and rows[1][3] == "0 – 4"
        assert rows[1][5] == "above the upper limit"
    finally:
        replace_in_city(city.home, "min_points: 2 ", "min_points: 12 ")


def test_a_partial_period_is_drawn_not_judged(city):
    # the fixture's data ends on 31 October: November is not complete
    report = _report(city.home, "2026-11")
    assert report.partial and not report.moved["flagged"].any()
    html = report.what_moved().data
    assert "2026-11 is not complete" in html and "Nothing is judged" in html
    assert "No measure shows a signal" not in html
    assert set(report.moved["variation"]) <= {"not_judged", "no_verdict"}


def test_trend_charts_are_spc_charts(city):
    spec = _report(city.home).trends()[2].to_dict()  # backlog_open
    marks = [_mark(layer) for layer in spec["layer"]]
    # mean, lower, upper, value, the target (a rule and its label)
    assert marks == ["line", "line", "line", "line", ["rule", "text"]]
    assert spec["title"]["text"] == "Open at period end"
    assert spec["title"]["subtitle"] == ["XmR chart",
                                         "no verdict (2 baseline points; 12 needed)"]


def _mark(layer):
    """A layer's mark type; a nested layer (the labelled target) as the list of its marks."""
    return layer["mark"]["type"] if "mark" in layer else [_mark(x) for x in layer["layer"]]


def _points(values, target=None, **kw):
    labels = [p.label for p in Period.parse("2026-10").trailing(len(values))]
    a = assess(pd.DataFrame({"period": labels, "value": values}), "backlog_open",
               direction="lower", target=target, **kw)
    return a, a.points


def test_spc_chart_draws_mean_limits_target_and_signals():
    a, points = _points([*BASE, 16], target=14)
    spec = charts.spc_chart(points, target=a.target, title="Open", fmt=",.0f").to_dict()
    marks = [_mark(layer) for layer in spec["layer"]]
    assert marks == ["line", "line", "line", "line", "point", ["rule", "text"]]
    encoded = [layer["encoding"]["y"]["field"] for layer in spec["layer"][:4]]
    assert encoded == ["mean", "lower", "upper", "value"]
    data = [d for d in spec["datasets"].values() if d and "mean" in d[0]]
    signals = [d for d in data if len(d) == 1][0]
    assert signals[0]["period"] == "2026-10" and signals[0]["kind"] == "concerning"
    assert [r["upper"] for r in data[0]] == [pytest.approx(15.127273)] * 13  # the limits used
    assert spec["layer"][-1]["layer"][0]["mark"]["strokeDash"] == [6, 4]
    targets = [d for d in spec["datasets"].values() if d and "label" in d[0]]
    assert targets == [[{"target": 14, "label": "Target 14"}]]  # the line says what it is
    assert charts.chart_svg(charts.spc_chart(points)).startswith("<svg")  # offline SVG


def test_spc_chart_marks_a_partial_point_hollow():
    _, points = _points([*BASE, 16], partial=True)
    spec = charts.spc_chart(points).to_dict()
    last = spec["layer"][-1]
    assert last["mark"]["type"] == "point" and last["mark"]["color"] == "white"
    assert not points["signal"].any()


def test_moved_table_escapes_and_shows_rules():
    moved = pd.DataFrame([{"rank": 1.0, "department": "a<b", "metric": "created",
                           "label": "Requests created", "value": 20.0, "lower": 5.0,
                           "upper": 19.6, "mean": 12.0, "chart": "xmr",
                           "signals": "above the upper limit",
                           "variation": "special_cause_neither", "assurance": None,
                           "assurance_text": ""}])
    html = moved_table(moved, {"a<b": "<b>Dept</b>"})
    assert "&lt;b&gt;Dept&lt;/b&gt;" in html and "<b>Dept" not in html
    assert "<td>5 – 20</td>" not in html and "<td>5.0 – 19.6</td>" in html  # 20 = 19.6 rounded
