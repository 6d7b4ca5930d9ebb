"""Resident surveys: share satisfied with its margin of error, status and change, by hand.

Margin of error at 95%: m = 1.96 x sqrt(p (1 - p) / n_eff), n_eff = (sum w)^2 / sum w^2 (Kish).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.periods import Period
from stat_lib.metrics import satisfaction as sat
from stat_lib.metrics.methods import (CONCERNING, IMPROVING, MET_BEYOND_MARGIN,
                                      MISSED_BEYOND_MARGIN, NO_VERDICT, TOO_CLOSE, TOO_FEW,
                                      WITHIN_MARGIN, assess)
from stat_lib.params.survey_models import Survey

TZ = "America/Los_Angeles"


# ---- the figures, by hand -------------------------------------------------------------------

def test_margin_for_100_responses_at_50_percent_is_9_8_points():
    share, n_eff, margin = sat.share_satisfied([5] * 30 + [4] * 20 + [1] * 50, [1.0] * 100,
                                               [4, 5])
    # 1.96 x sqrt(0.25 / 100) = 1.96 x 0.05 = 0.098
    assert (share, n_eff) == (0.5, 100.0)
    assert margin == pytest.approx(0.098, abs=1e-12)


def test_a_weighted_sample_by_hand():
    answers = [5, 4, 2, 1, 5, 3]
    weights = [2, 1, 1, 2, 1, 1]
    share, n_eff, margin = sat.share_satisfied(answers, weights, [4, 5])
    # satisfied weight 2 + 1 + 1 = 4 of 8 -> p = 0.5; n_eff = 8^2 / (4+1+1+4+1+1) = 64/12;
    # m = 1.96 x sqrt(0.25 / 5.3333) = 1.96 x 0.216506 = 0.424352
    assert share == 0.5
    assert n_eff == pytest.approx(64 / 12)
    assert margin == pytest.approx(0.424352, abs=1e-6)
    # unweighted, the same answers: p = 3/6, n_eff = 6, m = 1.96 x sqrt(0.25/6) = 0.400083
    assert sat.share_satisfied(answers, [1] * 6, [4, 5])[2] == pytest.approx(0.400083, abs=1e-6)


@given(st.lists(st.floats(0.01, 10), min_size=1, max_size=50))
def test_effective_n_is_at_most_n_and_n_for_equal_weights(weights):
    n_eff = sat.effective_n(weights)
    assert 1 - 1e-9 <= n_eff <= len(weights) + 1e-9
    assert sat.effective_n([weights[0]] * len(weights)) == pytest.approx(len(weights))


def test_status_respects_the_margin():
    # 62% +- 5 points: the interval is 57%..67%
    assert sat.judge(0.62, 0.05, 400, 0.65, 30) == TOO_CLOSE    # target inside
    assert sat.judge(0.62, 0.05, 400, 0.67, 30) == TOO_CLOSE    # on the edge: not wholly
    assert sat.judge(0.62, 0.05, 400, 0.55, 30) == "met"        # wholly above
    assert sat.judge(0.62, 0.05, 400, 0.70, 30) == "missed"     # wholly below
    assert sat.judge(0.62, 0.05, 29, 0.30, 30) == TOO_FEW       # under min_responses
    assert sat.judge(0.62, 0.05, 400, None, 30) is None


def series(*quarters):
    """A satisfaction trend: (label, share, margin, responses) per quarter, oldest first."""
    return pd.DataFrame([{"department": "d", "period": q, "metric": "satisfaction",
                          "period_start": Period.parse(q, TZ).start, "value": p,
                          "margin": m, "responses": n, "too_few": n < 30, "numerator": np.nan,
                          "denominator": np.nan} for q, p, m, n in quarters])


def test_what_moved_only_beyond_the_combined_margin():
    # combined margin sqrt(0.04^2 + 0.03^2) = 0.05
    drop = assess(series(("2026-Q2", 0.70, 0.04, 500), ("2026-Q3", 0.64, 0.03, 900)),
                  "satisfaction", direction="higher", target=0.60)
    assert drop.method == "survey_margin" and drop.variation == CONCERNING and drop.special
    assert drop.signals == ("down 6.0 points in 2026-Q3 from 70% in 2026-Q2, beyond the "
                            "combined margin of ±5.0 points",)
    assert (drop.lower, drop.upper) == pytest.approx((0.61, 0.67))  # the latest interval
    assert drop.distance == pytest.approx(0.06 / 0.05)
    assert drop.assurance == MET_BEYOND_MARGIN  # 61%..67% is wholly above 60%
    inside = assess(series(("2026-Q2", 0.70, 0.04, 500), ("2026-Q3", 0.66, 0.03, 900)),
                    "satisfaction", direction="higher", target=0.68)
    assert inside.variation == WITHIN_MARGIN and not inside.special
    assert inside.reason == ("−4.0 points since 2026-Q2, within the combined margin of "
                             "±5.0 points")
    assert inside.assurance == TOO_CLOSE
    rise = assess(series(("2026-Q2", 0.50, 0.04, 500), ("2026-Q3", 0.56, 0.03, 900)),
                  "satisfaction", direction="higher", target=0.70)
    assert rise.variation == IMPROVING and rise.assurance == MISSED_BEYOND_MARGIN


def test_too_few_responses_are_never_judged():
    few = assess(series(("2026-Q2", 0.70, 0.04, 500), ("2026-Q3", 0.40, 0.2, 12)),
                 "satisfaction", direction="higher", target=0.60)
    assert few.variation == NO_VERDICT and few.assurance == TOO_FEW
    assert few.reason == "12 responses in 2026-Q3: too few to judge"
    before = assess(series(("2026-Q2", 0.90, 0.2, 10), ("2026-Q3", 0.40, 0.03, 900)),
                    "satisfaction", direction="higher")
    assert before.variation == NO_VERDICT and before.assurance is None


def test_the_survey_quarter_is_the_latest_complete_one():
    assert sat.survey_quarter(Period.parse("2026-10", TZ), TZ).label == "2026-Q3"
    assert sat.survey_quarter(Period.parse("2026-09", TZ), TZ).label == "2026-Q3"
    assert sat.survey_quarter(Period.parse("2026-08", TZ), TZ).label == "2026-Q2"
    assert sat.survey_quarter(Period.parse("2026-Q3", TZ), TZ).label == "2026-Q3"


def test_the_metric_is_defined_once_with_its_method():
    from stat_lib.metrics.registry import metric_def
    d = metric_def("satisfaction")
    assert (d.kind, d.unit, d.direction, d.method) == ("surveys", "rate", "higher",
                                                       "survey_margin")
    assert "numerator" in d.description and "denominator" in d.description
    assert "excluded" in d.description


def test_survey_params_default_to_top_two_box_and_check_the_scale():
    from pydantic import ValidationError
    assert Survey().satisfied_points == [4, 5]
    assert Survey(scale_min=0, scale_max=10).box_text() == "9 or 10 on a 0-10 scale"
    with pytest.raises(ValidationError, match="off the 1-5 scale: 6"):
        Survey(satisfied=[5, 6])


def test_the_kind_has_all_its_parts():
    from stat_lib import metrics, store
    from stat_lib.core.kinds import KINDS
    from stat_lib.ingest.kinds import INGESTS
    from stat_lib.params.kinds import KIND_PARAMS
    assert KINDS["surveys"].origin == "source"
    assert "surveys" in KIND_PARAMS and "surveys" in INGESTS
    assert {t.name for t in store.TABLES.values() if t.kind == "surveys"} == {
        "survey_responses", "survey_rejects"}
    assert [m.id for m in metrics.METRICS.values() if m.kind == "surveys"] == ["satisfaction"]


# ---- ingest: rows in = stored + rejected ---------------------------------------------------

HEADER = "response_id,responded_at,department,service,district,answer,comment,weight"
LINES = [
    "R1,2026-08-03 10:00,bos,,1,5,<script>alert('x')</script> slow pickup,2",   # ok
    "R2,2026-08-04 10:00,BOS,,2,Very satisfied,,",                              # ok: label
    "R3,2026-08-05 10:00,,Bulky Items,1,2,nobody came,1",                        # ok: service
    "R4,2026-08-06 10:00,bos,,1,7,,1",                                           # 4 off scale
    "R5,2026-08-07 10:00,parks,,1,4,,1",                                         # 5 department
    "R6,someday,bos,,1,4,,1",                                                    # 6 bad date
    "R7,2026-08-08 10:00,bos,,1,4,,-0.5",                                        # 7 negative
    "R8,2026-08-09 10:00,bos,,1,,,1",                                            # 8 no answer
    "R9,2026-08-10 10:00,bos,,1,meh,,1",                                         # 9 bad answer
    "R10,2026-08-11 10:00,bos,,1,4,,heavy",                                      # 10 weight
    "R11,,bos,,1,4,,1",                                                          # 11 no date
    "R12,2026-08-12 10:00,bos,,1,4,,1,extra",                                    # 12 malformed
    "R13,1990-08-12 10:00,bos,,1,4,,1",                                          # 13 too early
    "R14,2026-08-13 10:00,bos,,3,4.0,,0",                                        # ok: 4.0, w 0
]


def surveys_home(base, lines=LINES):
    import yaml
    from support.builders import GRID, GRID_DEPARTMENTS, city_home, myla_row, write_csv
    home = city_home(base, [{"name": "s0", "path": str(write_csv(base / "x.csv", [myla_row()])),
                             "profile": "myla311"}], boundaries=GRID,
                     departments=GRID_DEPARTMENTS)
    (base / "surveys.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    city_file = home / "params" / "city.yaml"
    city = yaml.safe_load(city_file.read_text())
    city["surveys"] = [{"name": "surveys", "path": "surveys.csv", "profile": "surveys",
                        "max_malformed": 0.5}]
    city["survey"] = {"labels": {"Very satisfied": 5}, "min_responses": 2}
    city_file.write_text(yaml.safe_dump(city, sort_keys=False))
    return home


def test_survey_rows_in_equal_stored_plus_rejected(tmp_path):
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.store import connect
    from stat_lib.store.surveys import load_responses, survey_rejects
    params = load_params(surveys_home(tmp_path))
    report = ingest(params).kinds["surveys"]
    got = load_responses(params, "bos").set_index("response_id")
    assert sorted(got.index) == ["R1", "R14", "R2", "R3"]
    assert got.loc["R2", "answer"] == 5 and got.loc["R2", "weight"] == 1.0  # label, no weight
    assert got.loc["R3", "department"] == "bos"  # from its service
    assert (got.loc["R14", "answer"], got.loc["R14", "weight"]) == (4, 0.0)
    with connect(params) as con:
        rejects = con.execute("SELECT source_row, reason, detail FROM survey_rejects "
                              "ORDER BY 1").fetchall()
    assert {r: reason for r, reason, _ in rejects} == {
        4: "off_scale", 5: "unknown_department", 6: "bad_responded_at", 7: "negative_weight",
        8: "missing_answer", 9: "bad_answer", 10: "bad_weight", 11: "missing_responded_at",
        12: "malformed_line", 13: "implausible_responded_at"}
    details = {r: d for r, _, d in rejects}
    assert details[4] == "answer 7" and details[7] == "weight -0.5"
    assert details[5] == "department value parks, service empty"
    (s,) = report.sources
    assert (s.rows_read, s.loaded, s.rows_rejected) == (14, 4, 10)
    assert sum(survey_rejects(params).values()) == 10
    assert "Surveys: 14 rows read, 4 responses stored, 10 rejected." in ingest(params).summary()


def test_survey_data_changes_the_batch_input_hash(tmp_path):
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.store.surveys import survey_fingerprint
    home = surveys_home(tmp_path)
    params = load_params(home)
    ingest(params)
    before = survey_fingerprint(params, "bos")
    (home / "surveys.csv").write_text("\n".join([HEADER, LINES[0].replace(",5,", ",1,"),
                                                 *LINES[1:]]) + "\n")
    ingest(params)
    assert survey_fingerprint(params, "bos") != before


# ---- the packet section ---------------------------------------------------------------------

def test_the_section_escapes_comments_and_keeps_them_out_of_the_public_edition(tmp_path):
    from support.html_text import text

    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.present.audience import get_audience
    from stat_lib.present.satisfaction_section import SatisfactionSection
    params = load_params(surveys_home(tmp_path))
    ingest(params)
    october = Period.parse("2026-10", TZ)

    def section(audience):  # what DepartmentReport.satisfaction() displays
        parts = SatisfactionSection(params, params.department("bos"), october,
                                    get_audience(audience)).outputs()
        return "\n".join(p.data for p in parts)

    internal = section("internal")
    # R1 (w 2, answer 5), R2 (1, 5), R3 (1, 2), R14 (0, 4): 3 of 4 weight satisfied = 75%,
    # n_eff = 4^2 / (4 + 1 + 1 + 0) = 2.667, m = 1.96 x sqrt(.75 x .25 / 2.667) = 51.96 points
    assert "75% satisfied ±52.0 points, 4 responses, Q3 2026." in text(internal)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; slow pickup" in internal
    assert "<script>" not in internal
    assert "nobody came" in internal
    public = section("public")
    assert "75% satisfied ±52.0 points" in text(public)
    assert "slow pickup" not in public and "nobody came" not in public
    assert "script" not in public
    # min_responses is 2: every district of the test's four responses is judged, and counts
    # of 1 to public.withhold_up_to (10) are not printed in the public edition
    assert "≤10" in public and "≤10" not in internal


def test_the_section_is_empty_without_responses(tmp_path):
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.present.audience import INTERNAL
    from stat_lib.present.satisfaction_section import SatisfactionSection
    params = load_params(surveys_home(tmp_path, lines=[]))
    ingest(params)
    section = SatisfactionSection(params, params.department("bos"), Period.parse("2026-10", TZ),
                                  INTERNAL)
    assert section.outputs() == [] and section.moved().empty


def test_the_sample_surveys_regenerate_byte_for_byte(tmp_path):
    from support.builders import ROOT

    from stat_lib.ingest.sample_surveys import write
    write(tmp_path / "surveys.csv")
    assert (tmp_path / "surveys.csv").read_bytes() == \
        (ROOT / "data" / "sample" / "surveys.csv").read_bytes()


@pytest.mark.slow  # ingests the bundled sample city once per session
def test_the_sample_tells_its_story(sample_city):
    """Sanitation drops beyond the combined margin in 2026-Q3; Street Lighting moves inside
    it; the drop is on sanitation's page one, through the method."""
    from stat_lib.present.reports import DepartmentReport
    from stat_lib.store.surveys import load_responses
    q = Period.parse("2026-Q3", TZ)
    verdicts = {}
    for slug in ("sanitation", "street-lighting"):
        trend = sat.satisfaction_trend(load_responses(sample_city, slug),
                                       sample_city.city.survey, q, slug)
        assert trend["responses"].between(250, 900).all()  # a few hundred a quarter
        verdicts[slug] = assess(trend, "satisfaction", direction="higher").variation
        m = trend["margin"].iloc[-1]
        assert 0.03 < m < 0.06 and not math.isnan(m)
    assert verdicts == {"sanitation": CONCERNING, "street-lighting": WITHIN_MARGIN}
    report = DepartmentReport(str(sample_city.home), "sanitation", "2026-10")
    attention = [s.text for s in report.signals["attention"]]
    assert any(t.startswith("Residents satisfied (survey): ") and "beyond the combined margin"
               in t for t in attention)


@pytest.mark.slow
def test_the_sanitation_packet_executes_with_the_section(sample_city):
    from stat_lib.run.batch import run_period
    result = run_period(sample_city, "2026-10", ["sanitation"], workers=1, progress=False,
                        force=True)
    assert result.ok, result.summary()
    page = (sample_city.outputs / "2026-10" / "sanitation.html").read_text()
    assert "Resident satisfaction (survey)" in page
    assert "satisfied ±" in page and "responses, Q3 2026" in page
    assert "beyond the combined margin" in page
