"""The cabinet briefing and the roundtable packets: sentences by hand, packets by a real batch."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from stat_lib.core.errors import ParamsErrors
from stat_lib.core.periods import Period
from stat_lib.metrics.briefing import briefing_sentence
from stat_lib.metrics.methods import assess
from stat_lib.params import load_params
from support.builders import replace_in_city

TZ = "America/Los_Angeles"
# mean 11.5, limits [7.872727, 15.127273] (tests/test_spc.py)
BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]


def _series(values):
    periods = [p.label for p in Period.parse("2026-10", TZ).trailing(len(values))]
    return pd.DataFrame({"period": periods, "value": np.asarray(values, dtype=float),
                         "numerator": np.nan, "denominator": np.nan})


def test_sentence_of_a_concerning_signal_with_a_target():
    a = assess(_series([*BASE, 16]), "backlog_open", direction="lower", target=10)
    assert briefing_sentence("Sanitation", "Open at period end", "count", "2026-10", a) == (
        "Sanitation: Open at period end rose to 16 in 2026-10, above the upper limit of 15 "
        "(special cause: concerning); no assurance verdict: the process changed.")


def test_sentence_of_common_cause_states_the_limits_and_assurance():
    # 12 is inside [7.87, 15.13]; target 20 lies above the upper limit and lower is better:
    # the limits say the target will be consistently met
    a = assess(_series([*BASE, 12]), "backlog_open", direction="lower", target=20)
    assert briefing_sentence("Sanitation", "Open at period end", "count", "2026-10", a) == (
        "Sanitation: Open at period end was 12 in 2026-10, within its limits of 8 to 15 "
        "(common cause variation); target consistently met.")


def test_sentence_without_a_verdict_says_why():
    a = assess(_series([11, 12, 13]), "backlog_open", direction="lower")
    assert briefing_sentence("Sanitation", "Open at period end", "count", "2026-10", a) == (
        "Sanitation: Open at period end was 13 in 2026-10; no verdict (2 baseline points; 12 "
        "needed).")


def test_briefing_names_known_departments(home):
    replace_in_city(home, "{department: sanitation, metric: overdue_open}",
                    "{department: sanitatoin, metric: overdue_open}")
    with pytest.raises(ParamsErrors) as err:
        load_params(home)
    assert "key 'briefing.metrics': unknown department 'sanitatoin'; expected one of " \
           "beautification, building-and-safety," in str(err.value)


def test_briefing_measures_are_checked_before_a_run_and_by_validate(home):
    from click.testing import CliRunner

    from stat_lib.cli import main
    from stat_lib.metrics.briefing import chosen_problems
    from stat_lib.run.batch import _check_briefing, run_period
    replace_in_city(home, "{department: sanitation, metric: overdue_open}",
                    "{department: sanitation, metric: overdue_opn}")
    replace_in_city(home, "{department: sanitation, metric: on_time_rate}",
                    "{department: sanitation, metric: kpi.bulky_items}")
    params = load_params(home)  # the params themselves are well formed
    problems = [str(p) for p in chosen_problems(params)]
    assert len(problems) == 2
    assert "key 'briefing.metrics[0].metric': unknown metric 'overdue_opn' (did you mean " \
           "'overdue_open'?); expected one of " in problems[0]
    assert "backlog_no_sla, backlog_open," in problems[0]  # sorted, every registered id
    assert problems[0].rstrip().endswith("or kpi.<id>")
    assert "key 'briefing.metrics[1].metric': sanitation submits no KPI 'bulky_items'; " \
           "expected one of bulky_items_collected," in problems[1]
    with pytest.raises(ParamsErrors, match="2 problem"):  # before any notebook or lock
        run_period(params, "2026-10")
    _check_briefing(params, ["sanitation"])  # a department-only run does not need it
    with pytest.raises(ParamsErrors):
        _check_briefing(params, ["sanitation", "briefing"])
    out = CliRunner().invoke(main, ["--home", str(home), "validate"])
    assert out.exit_code == 3 and "overdue_opn" in out.output and "bulky_items'" in out.output


def test_a_roundtable_groups_one_to_three_departments(home):
    replace_in_city(home, "departments: [sanitation, beautification]",
                    "departments: [sanitation, beautification, street-lighting, "
                    "water-and-power]")
    with pytest.raises(ParamsErrors) as err:
        load_params(home)
    assert "key 'roundtables.0.departments': List should have at most 3 items" in str(err.value)


def test_a_roundtable_slug_may_not_be_a_departments(home):
    replace_in_city(home, "slug: clean-streets", "slug: sanitation")
    with pytest.raises(ParamsErrors, match="roundtable slug 'sanitation' is already"):
        load_params(home)


# ---- a real batch run on the sample city ----------------------------------------------------

NOTES = "## Questions\n\n- Why did **bulky items** slip?\n\n<script>window.__x=1</script>\n"


@pytest.fixture(scope="module")
def packets(sample_city):
    from stat_lib.run.batch import run_period
    notes = sample_city.home / "sessions" / "2026-10" / "sanitation.md"
    notes.parent.mkdir(parents=True, exist_ok=True)
    notes.write_text(NOTES, encoding="utf-8")
    try:
        result = run_period(sample_city, Period.parse("2026-10"),
                            ["briefing", "clean-streets", "sanitation"], workers=2,
                            force=True, progress=False)
    finally:
        notes.unlink()
    assert result.ok, result.summary()
    out = sample_city.outputs / "2026-10"
    return {slug: (out / f"{slug}.html").read_text(encoding="utf-8")
            for slug in ("briefing", "clean-streets", "sanitation")}


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.slow
def test_briefing_packet_has_one_sentence_per_chosen_measure(sample_city, packets):
    from stat_lib.present.reports import BriefingReport
    page = packets["briefing"]
    sentences = re.findall(r'<ol class="stat-briefing">(.*?)</ol>', page, re.S)[0]
    items = [html.unescape(s) for s in re.findall(r"<li>(.*?)</li>", sentences)]
    assert len(items) == len(sample_city.city.briefing.metrics) == 4
    # the packet says what the library computes from the store
    expected = BriefingReport(str(sample_city.home), "2026-10").rows()
    assert items == expected["sentence"].tolist()
    assert items[0].startswith("Bureau of Sanitation: Open and overdue at period end")
    assert "FY2027-to-date" in page  # LA's fiscal year starts in July
    # the sample city's records store holds no commitment here: none is overdue
    assert "No commitment is overdue." in page


@pytest.mark.slow
def test_roundtable_packet_has_each_departments_page_one(sample_city, packets):
    page = packets["clean-streets"]
    names = [sample_city.departments[s].name for s in ("sanitation", "beautification")]
    assert page.count('class="stat-page-one"') == 2
    assert page.index(names[0]) < page.index(names[1])
    assert "Since last session" in page and "Clean streets roundtable" in page
    # the period page names both packets by their cover titles, not their slugs
    index = (sample_city.outputs / "2026-10" / "index.html").read_text(encoding="utf-8")
    assert "Cabinet briefing" in index and "Clean streets roundtable" in index
    assert "Clean Streets<" not in index


@pytest.mark.slow
def test_department_packet_opens_with_page_one_and_notes_shown_literally(packets):
    page = packets["sanitation"]
    assert page.index('class="stat-page-one"') < page.index('<h2 id="Scorecard"')
    assert "<h5>Questions</h5>" in page  # the notes' headings sit below page one's
    assert "<li>Why did <strong>bulky items</strong> slip?</li>" in page
    assert "<script>window.__x" not in page
    assert "&lt;script&gt;window.__x=1&lt;/script&gt;" in page
    assert "Needs attention" in _text(page) and "Questions for the session" in _text(page)


def _trend_of(labels):
    return pd.DataFrame({"period": labels, "metric": "created", "value": 1.0})


def test_a_figures_trend_makes_the_card_only_when_it_holds_the_year_ago_period():
    from stat_lib.present.reports.roundtable import _same_card
    period = Period.parse("2026-10", TZ)
    months = [p.label for p in period.trailing(13)]  # 2025-10 .. 2026-10
    assert months[0] == "2025-10"
    assert _same_card(_trend_of(months), period)
    assert not _same_card(_trend_of(months[1:]), period)  # data from 2025-11 on
    assert not _same_card(_trend_of(months[:-1]), period)  # not the period itself


def test_a_roundtable_member_from_the_figures_has_its_packets_page_one(sample_city):
    from stat_lib.present.reports import DepartmentReport, RoundtableReport
    from stat_lib.present.reports.roundtable import FiguresReport
    from stat_lib.present.html import HTML
    home = str(sample_city.home)
    table = RoundtableReport(home, "clean-streets", "2026-10")
    HTML("")  # the process's first HTML output carries the CSS: not one of those compared
    for slug in table.group.departments:
        member, own = table.reports[slug], DepartmentReport(home, slug, "2026-10")
        assert isinstance(member, FiguresReport) and member.prep is None  # no rows loaded
        pd.testing.assert_frame_equal(member.card, own.card)
        assert member.page_one().data == own.page_one().data
        assert member.since_last_session().data == own.since_last_session().data
