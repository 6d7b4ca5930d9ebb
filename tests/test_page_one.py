"""Page one: items from the signal sources, worst first, questions with the numbers filled in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stat_lib.core.periods import Period
from stat_lib.metrics import page_one as p1
from stat_lib.metrics.moved import what_moved
from stat_lib.params.models import Department
from stat_lib.present.page_one import notes_html, page_one_html, render_markdown

TZ = "America/Los_Angeles"
OCT = Period.parse("2026-10", TZ)
# mean 11.5, limits [7.872727, 15.127273], one sigma 1.209091 (tests/test_spc.py)
BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]
DEPT = Department(slug="lights", name="Lights", source_codes=["L"])


def _trend(values, metric):
    periods = [p.label for p in OCT.trailing(len(values))]
    return pd.DataFrame({"department": "lights", "period": periods,
                         "period_start": pd.to_datetime([p + "-01" for p in periods]),
                         "metric": metric, "value": np.asarray(values, dtype=float),
                         "numerator": np.nan, "denominator": np.nan})


def _card():
    rows = [  # metric, label, unit, value, prior, target, direction, status (scoring.status)
        ("overdue_open", "Open and overdue at period end", "count", 16, 11, 10, "lower",
         "missed"),                                      # gap 6/10 = 0.60
        ("backlog_open", "Open at period end", "count", 130, 120, 100, "lower",
         "missed"),                                      # gap 30/100 = 0.30
        ("on_time_rate", "Closed on time", "rate", 0.70, 0.72, 0.85, "higher",
         "missed"),                                      # gap 0.15/0.85 = 0.176
        ("median_days_to_close", "Median days to close", "days", 3.0, 5.0, 4.0, "lower",
         "met"),                                         # prior 5 > 4: newly met
        ("created", "Requests received", "count", 900, 850, None, None, "n/a"),
    ]
    cols = ["metric", "label", "unit", "value", "prior", "target", "direction", "status"]
    return pd.DataFrame(rows, columns=cols)


@pytest.fixture
def result(home):
    from stat_lib.params import load_params
    # overdue_open 16 > upper limit 15.13: concerning, 4.5 / 1.209 = 3.72 sigma; on_time_met
    # 19 > 15.13 and higher is better: improving
    moved = what_moved(pd.concat([_trend([*BASE, 16], "overdue_open"),
                                  _trend([*BASE, 19], "on_time_met")]),
                       metrics=["overdue_open", "on_time_met"])
    subs = pd.DataFrame([{"department": "lights", "status": "missing", "due": "2026-11-16",
                          "received_at": None},
                         {"department": "other", "status": "late", "due": "2026-11-16",
                          "received_at": pd.Timestamp("2026-11-20", tz="UTC")}])
    inputs = p1.PageOneInputs(load_params(home), DEPT, OCT, _card(), moved, subs)
    return p1.page_one(inputs)


def test_needs_attention_worst_first(result):
    # tier 0 the special cause; tier 1 the missed targets by gap (0.60, 0.30, 0.176); tier 3
    # the missing submission; the other department's late submission is not this page's
    # overdue_open's missed target folds into its special-cause line: one line per metric
    assert [s.text for s in result["attention"]] == [
        "Open and overdue at period end: 16, above the upper limit of 15; target 10 missed.",
        "Open at period end: 130 against a target of 100 (missed).",
        "Closed on time: 70.0% against a target of 85.0% (missed).",
        "The 2026-10 KPI submission is missing (due 2026-11-16).",
    ]
    assert [s.source for s in result["attention"]] == ["spc", "targets", "targets",
                                                      "kpi_submissions"]
    assert result["attention"][0].size == pytest.approx(4.5 / 1.209091, abs=1e-4)


def test_going_well_improvement_then_newly_met(result):
    assert [s.text for s in result["going_well"]] == [
        "Closed on time (count): 19, above the upper limit of 15.",
        "Median days to close met its target of 4.0 days: 3.0 days, from 5.0 days the period "
        "before.",
    ]


def test_questions_one_per_metric_with_numbers(result):
    # overdue_open's missed target asks nothing more: its special cause already asks
    assert result["questions"] == [
        "Open and overdue at period end rose to 16, above the upper limit of 15: what is "
        "driving it and what is the plan?",
        "Open at period end was 130 against a target of 100: what would it take to meet it, "
        "and by when?",
        "Closed on time was 70.0% against a target of 85.0%: what would it take to meet it, "
        "and by when?",
        "The 2026-10 KPI submission was due 2026-11-16 and has not arrived: when will it be "
        "sent, and who owns it?",
    ]


def test_run_rule_names_its_pattern_and_the_mean():
    # 7 points at 12.5 after BASE: each above the mean; the baseline's mean moves as the run
    # enters it, so read the mean the method used from the row itself
    moved = what_moved(_trend([*BASE, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5],
                              "backlog_open"), metrics=["backlog_open"])
    row = moved.iloc[0]
    assert row["rules"] == "run"
    # 12.5 prints "12"; a mean near 12 would too, so it gets one more digit
    mean = f"{row['mean']:,.0f}" if f"{row['mean']:,.0f}" != "12" else f"{row['mean']:,.1f}"
    assert p1.spc_question(row, "count") == (
        f"Open at period end rose to 12, {row['signals']} of {mean}: what is driving it and "
        f"what is the plan?")


def test_a_registered_source_joins_the_page(home):
    from stat_lib.params import load_params

    def overdue(inputs):
        return [p1.Signal(p1.ATTENTION, "test", p1.TIERS["commitment_overdue"], 12,
                          "Fix 40 lights on Main St: 12 days overdue.", "Why is it late?")]

    p1.register_source("test_commitments")(overdue)
    try:
        empty = pd.DataFrame(columns=["metric", "flagged"])
        out = p1.page_one(p1.PageOneInputs(load_params(home), DEPT, OCT, _card(), empty))
        # 4 missed-target items (no special cause here, so overdue_open's stands alone)
        assert [s.source for s in out["attention"]] == ["targets"] * 3 + ["test"]
        assert out["questions"][-1] == "Why is it late?"
        with pytest.raises(ValueError, match="registered twice"):
            p1.register_source("test_commitments")(overdue)
    finally:
        p1.unregister_source("test_commitments")


def test_notes_render_markdown_with_raw_html_off(tmp_path):
    notes = tmp_path / "sessions" / "2026-10" / "lights.md"
    notes.parent.mkdir(parents=True)
    notes.write_text("# Ask\n\n- Why **Main St**?\n\n<script>alert(1)</script>\n"
                     "[x](javascript:alert(1))\n", encoding="utf-8")
    html = notes_html(tmp_path, "2026-10", "lights")
    assert "<li>Why <strong>Main St</strong>?</li>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert notes_html(tmp_path, "2026-11", "lights") == \
        '<p class="stat-note">No questions or notes from the analyst for this session.</p>'
    assert render_markdown("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
    assert "<h4>Ask</h4>" in html  # "# Ask": below page one's own headings


def test_page_one_html_leads_with_the_worst_and_escapes(result):
    html = page_one_html(result, "<div>tiles</div>", "<p>notes</p>")
    assert html.index("First:") < html.index("Needs attention") < html.index("Going well")
    assert "<strong>First:</strong> Open and overdue at period end: 16, above the upper " \
           "limit of 15; target 10 missed." in html
    assert html.count("<li>") == 4 + 2 + 4
    # data strings (a KPI label, a commitment's text) are escaped
    evil = p1.Signal(p1.ATTENTION, "x", 0, 9, "<script>x()</script> late", "<b>why</b>?")
    page = page_one_html({"attention": [evil], "going_well": [], "questions": [evil.question]},
                         "", "")
    assert "<script>" not in page and "&lt;script&gt;x()&lt;/script&gt; late" in page
    assert "&lt;b&gt;why&lt;/b&gt;?" in page


def test_department_report_page_one_from_a_real_store(tmp_path):
    from stat_lib.present.reports.department import DepartmentReport
    from support.builders import hand_city
    city = hand_city(tmp_path)
    notes = city.home / "sessions" / "2026-10" / "sanitation.md"
    notes.parent.mkdir(parents=True)
    notes.write_text("Ask about **Main St**.\n", encoding="utf-8")
    report = DepartmentReport(str(city.home), "sanitation", "2026-10")
    html = report.page_one().data
    # every tile says its status in words beside its colour
    statuses = [s for s in report.card.set_index("metric")["status"].reindex(
        [m for m, _ in report_tiles()]).fillna("n/a")]
    assert html.count('class="stat-tile-status"') == len(statuses)
    for s in statuses:
        assert f"stat-tile-{s.replace('/', '')}" in html
    assert "<p>Ask about <strong>Main St</strong>.</p>" in html
    missed = report.card[report.card["status"] == "missed"]
    assert len(report.signals["attention"]) >= len(missed)


def report_tiles():
    from stat_lib.present.reports.department import HEADLINE
    return HEADLINE


def test_a_limit_printing_like_the_value_gets_one_more_digit():
    # 47 open, upper limit 46.6: "47, above the upper limit of 47" would read as on the limit
    assert p1.where_text("above the upper limit", 30.2, 46.6, 38.4, 47, "count") == \
        "above the upper limit of 46.6"
    assert p1.where_text("above the upper limit", 30.2, 256.4, 38.4, 435, "count") == \
        "above the upper limit of 256"
    assert p1.where_text("14 periods in a row below the mean", 0, 0.1, 0.004, 0.0, "days") == \
        "14 periods in a row below the mean of 0.004 days"
    # 46.96 rounds to 47.0 as well: one digit more is not enough, two are
    assert p1.beside(46.96, 47, "count") == "46.96"
    assert p1.beside(0.8512, 0.851, "rate") == "85.12%"  # 85.1% beside 85.1%


def test_commitments_overdue_and_delivered_come_from_the_records_store(home):
    import datetime as dt

    from stat_lib.params import load_params
    from stat_lib.store import sessions as records
    params = load_params(home)
    sanitation = params.department("sanitation")
    sid = records.add_session(params, "2026-09-15", ["sanitation"], "September session")
    base = {"session_id": sid, "department": "sanitation", "status": "open",
            "closed_on": None, "notes": None, "metric": None, "direction": None,
            "target": None}
    records.add_commitment(params, {**base, "what": "Clear the alley backlog",
                                    "owner": "J. Ruiz", "due_on": "2026-10-10"})
    records.add_commitment(params, {**base, "what": "Second truck on Route 9",
                                    "owner": "A. Chen", "due_on": "2026-10-20",
                                    "status": "done", "closed_on": "2026-10-18"})
    empty = pd.DataFrame(columns=["metric", "flagged"])
    inputs = p1.PageOneInputs(params, sanitation, OCT, empty, empty,
                              as_of_day=dt.date(2026, 10, 31))
    out = p1.page_one(inputs)
    # due 10 October, open on the as-of day 31 October: 21 days overdue
    assert [s.text for s in out["attention"]] == [
        "Commitment overdue by 21 days: Clear the alley backlog (J. Ruiz, due 2026-10-10)."]
    assert out["questions"] == [
        "Clear the alley backlog (J. Ruiz) was due 2026-10-10 and is 21 days overdue: what is "
        "the new date, and what stands in the way?"]
    assert [s.text for s in out["going_well"]] == [
        "Commitment delivered: Second truck on Route 9 (A. Chen, done 2026-10-18, on time)."]
    # the briefing lists it under the department's name, counted to the same day
    items = p1.briefing_items(params, OCT, dt.date(2026, 10, 31))
    assert [(d, s.size) for d, s in items] == [(sanitation.name, 21.0)]


def test_the_briefing_lists_the_longest_overdue_and_counts_the_rest(home):
    from stat_lib.params import load_params
    from stat_lib.metrics.period_figures import PeriodFigures
    from stat_lib.present.reports.briefing import BriefingReport
    from stat_lib.store import sessions as records
    params = load_params(home)
    sid = records.add_session(params, "2026-09-15", ["sanitation"])
    for day in range(1, 8):  # due 1..7 October: 30..24 days overdue on 31 October
        records.add_commitment(params, {
            "session_id": sid, "department": "sanitation", "what": f"Task {day}",
            "owner": "Crew", "due_on": f"2026-10-0{day}", "status": "open", "closed_on": None,
            "notes": None, "metric": None, "direction": None, "target": None})
    report = BriefingReport.__new__(BriefingReport)  # only what overdue_commitments reads
    report.params, report.period = params, OCT
    report.figures = PeriodFigures(OCT.label, None, False, {})  # no department's as-of day
    html = report.overdue_commitments(top=5).data  # the sample page shows 3
    assert "<p>7 commitments overdue, the longest first:</p>" in html
    assert html.count("<li>") == 5 and "Task 1 (Crew, due 2026-10-01)" in html
    assert "Task 6" not in html and "and 2 more overdue" in html
