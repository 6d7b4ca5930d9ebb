"""KPI submissions: the workbook, the all-or-nothing loader, history, status, reconciliation.

Every expected figure is worked out by hand in the comments. The sample city's params are used
(Sanitation: bulky_items_collected 0..20000, illegal_dumping_tons 0..20000, missed_collections
0..5000; Beautification's graffiti target 800 from 2025-07-01 and 900 from 2026-07-01).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from stat_lib.cli import main
from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.core.due_dates import due_day, due_deadline
from stat_lib.core.errors import SubmissionRejected
from stat_lib.core.periods import Period
from stat_lib.ingest import ingest
from stat_lib.ingest.submissions import _big_change, load_file, load_files, template
from stat_lib.metrics import kpis
from stat_lib.params import load_params
from stat_lib.store import submissions as records
from support.builders import csv_store_home

LA = "America/Los_Angeles"
CSV_311 = ("SRNumber,CreatedDate,UpdatedDate,ClosedDate,RequestType,Owner,Status,Address\n"
           "1-1,10/01/2026 09:00:00 AM,,10/02/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,1 A St\n"
           "1-2,10/05/2026 09:00:00 AM,,10/06/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,2 A St\n"
           "1-3,10/20/2026 09:00:00 AM,,10/21/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,3 A St\n"
           "1-4,09/20/2026 09:00:00 AM,,09/21/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,4 A St\n"
           "1-5,10/03/2026 09:00:00 AM,,10/04/2026 09:00:00 AM,Bulky Items,BOS,Closed,5 A St\n")


def _csv(path, department, period, rows):
    lines = ["department,period,kpi,value,note"]
    lines += [f"{department},{period},{k},{v},{n}" for k, v, n in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _workbook(params, tmp_path, values, name="sanitation-2026-10.xlsx", edit=None):
    path = template(params, "sanitation", "2026-10", tmp_path / name)
    wb = load_workbook(path)
    ws = wb["KPIs"]
    for row, value in zip((6, 7, 8), values):
        ws[f"C{row}"] = value
    if edit:
        edit(ws)
    wb.save(path)
    return path


@pytest.fixture
def store_home(home):
    """The sample params reading a five-request 311 CSV (no boundaries), ingested."""
    return csv_store_home(home, CSV_311)


# ---- the workbook and the loader --------------------------------------------------------------

def test_the_template_has_instructions_locked_labels_validation_and_its_department(home, tmp_path):
    params = load_params(home)
    path = template(params, "sanitation", "2026-10", tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Instructions", "KPIs"]
    ws = wb["KPIs"]
    assert (ws["B2"].value, ws["B3"].value) == ("sanitation", "2026-10")
    assert [ws[f"A{r}"].value for r in (6, 7, 8)] == [
        "bulky_items_collected", "illegal_dumping_tons", "missed_collections"]
    assert ws.protection.sheet and ws["B6"].protection.locked
    assert not ws["C6"].protection.locked and not ws["G6"].protection.locked
    rules = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in
             ws.data_validations.dataValidation}
    assert rules["C7"] == ("decimal", "0.0", "20000.0")
    assert rules["C8"] == ("decimal", "0.0", "5000.0")
    assert "2026-11-16" in " ".join(str(c.value) for c in wb["Instructions"]["A"])


def test_a_workbook_with_one_bad_cell_is_rejected_whole_naming_sheet_and_cell(home, tmp_path):
    params = load_params(home)
    path = _workbook(params, tmp_path, [2300, "12a", 540])
    with pytest.raises(SubmissionRejected) as err:
        load_file(params, path)
    assert err.value.problems == [
        'KPIs!C7: value "12a" is not a number; enter a number between 0 and 20000']
    assert err.value.exit_code == 9
    assert records.current_values(params).empty  # C6 and C8 were fine: nothing stored anyway


def test_every_problem_is_reported_at_once(home, tmp_path):
    params = load_params(home)

    def edit(ws):
        ws["A8"] = "missed_pickups"   # unknown id, so missed_collections is missing too
    path = _workbook(params, tmp_path, [25000, "abc", 3], edit=edit)
    with pytest.raises(SubmissionRejected) as err:
        load_file(params, path)
    assert err.value.problems == [
        "KPIs!C6: value 25000 is out of range for 'bulky_items_collected'; enter a number "
        "between 0 and 20000",
        'KPIs!C7: value "abc" is not a number; enter a number between 0 and 20000',
        "KPIs!A8: KPI 'missed_pickups' is not a monthly KPI of sanitation; expected one of "
        "bulky_items_collected, illegal_dumping_tons, missed_collections",
        "KPI 'missed_collections' (Missed curbside collections) is missing; add its row with "
        "a value"]


def test_a_csv_with_a_duplicate_row_and_an_unknown_department(home, tmp_path):
    params = load_params(home)
    bad = _csv(tmp_path / "a.csv", "sanitaton", "2026-10", [("x", 1, "")])
    dup = _csv(tmp_path / "b.csv", "sanitation", "2026-10", [
        ("bulky_items_collected", 1, ""), ("bulky_items_collected", 2, ""),
        ("illegal_dumping_tons", 3, ""), ("missed_collections", 4, "")])
    loaded, rejected = load_files(params, [bad, dup])
    assert loaded == []
    assert rejected[0].problems[0].startswith(
        "a.csv:line 2 (department): department 'sanitaton' is not a department")
    assert rejected[1].problems == [
        "b.csv:line 3 (kpi): KPI 'bulky_items_collected' is given twice (first at b.csv:line 2 "
        "(kpi)); keep one row per KPI"]


def test_one_bad_file_does_not_hold_back_another(home, tmp_path):
    params = load_params(home)
    bad = _workbook(params, tmp_path, [2300, "12a", 540], name="bad.xlsx")
    good = _csv(tmp_path / "ocb.csv", "beautification", "2026-10",
                [("graffiti_sq_ft_removed", 870, "")])
    loaded, rejected = load_files(params, [bad, good])
    assert [x.file for x in loaded] == ["ocb.csv"] and len(rejected) == 1
    assert records.current_values(params)["value"].tolist() == [870.0]


def test_a_large_change_needs_a_note(home, tmp_path):
    params = load_params(home)
    _csv(tmp_path / "sep.csv", "beautification", "2026-09", [("graffiti_sq_ft_removed", 100, "")])
    load_file(params, tmp_path / "sep.csv")
    ws = load_workbook(template(params, "beautification", "2026-10", tmp_path / "t.xlsx"))["KPIs"]
    assert (ws["A6"].value, ws["E6"].value) == ("graffiti_sq_ft_removed", 100)  # prior shown
    # 301 > 3 x 100: refused without a note, accepted with one
    bare = _csv(tmp_path / "oct.csv", "beautification", "2026-10",
                [("graffiti_sq_ft_removed", 301, "")])
    with pytest.raises(SubmissionRejected) as err:
        load_file(params, bare)
    assert err.value.problems == [
        "oct.csv:line 2 (value): value 301 is more than 3x away from the prior period's 100 "
        "(or changes sign); explain it in the Notes column"]
    noted = _csv(tmp_path / "oct2.csv", "beautification", "2026-10",
                 [("graffiti_sq_ft_removed", 301, "cleanup week")])
    assert load_file(params, noted).status == "loaded"


@given(prior=st.floats(0.01, 1e6), ratio=st.floats(0.34, 2.99), sign=st.sampled_from([1, -1]))
def test_the_change_rule(prior, ratio, sign):
    value = prior * ratio * sign
    assert not _big_change(value, prior * sign, 3.0)  # within 3x, same sign: no note needed
    assert _big_change(-value, prior * sign, 3.0)     # a change of sign always needs one
    assert _big_change(prior * 3.01 * sign, prior * sign, 3.0)


def test_the_cli_exits_9_for_a_rejected_file_and_0_for_a_good_one(home, tmp_path):
    params = load_params(home)
    bad = _workbook(params, tmp_path, [2300, "12a", 540], name="bad.xlsx")
    good = _csv(tmp_path / "ocb.csv", "beautification", "2026-10",
                [("graffiti_sq_ft_removed", 870, "")])
    runner = CliRunner()
    out = runner.invoke(main, ["--home", str(home), "submissions", "load", str(good)])
    assert out.exit_code == 0 and "loaded 1 KPI(s) for beautification 2026-10" in out.output
    out = runner.invoke(main, ["--home", str(home), "submissions", "load", str(bad)])
    assert out.exit_code == 9
    assert 'KPIs!C7: value "12a" is not a number' in out.output


# ---- history, review, export, survival ---------------------------------------------------------

def test_a_resubmission_replaces_the_figures_and_keeps_the_history(home, tmp_path):
    params = load_params(home)
    first = _csv(tmp_path / "v1.csv", "beautification", "2026-10",
                 [("graffiti_sq_ft_removed", 870, "")])
    second = _csv(tmp_path / "v2.csv", "beautification", "2026-10",
                  [("graffiti_sq_ft_removed", 910, "recount")])
    a = load_file(params, first)
    b = load_file(params, second)
    assert b.changed == {"graffiti_sq_ft_removed": (870.0, 910.0)} and b.replaces
    assert records.current_values(params)["value"].tolist() == [910.0]
    hist = records.history(params)
    assert hist["value"].tolist() == [870.0, 910.0]
    assert hist["current"].tolist() == [False, True]
    assert hist["file"].tolist() == ["v1.csv", "v2.csv"]
    assert hist["content_hash"].nunique() == 2 and a.status == "loaded"
    assert load_file(params, second).status == "unchanged"   # same bytes: not stored twice
    assert len(records.latest_submissions(params)) == 1


def test_a_review_is_kept_and_shown_with_the_figure(home, tmp_path):
    params = load_params(home)
    load_file(params, _csv(tmp_path / "v.csv", "beautification", "2026-10",
                           [("graffiti_sq_ft_removed", 870, "")]))
    before = records.submissions_fingerprint(params, "beautification")
    runner = CliRunner()
    out = runner.invoke(main, ["--home", str(home), "submissions", "review", "beautification",
                               "2026-10", "graffiti_sq_ft_removed", "--query", "--comment",
                               "which crews?"])
    assert out.exit_code == 0, out.output
    cur = records.current_values(params)
    assert (cur["review"].iloc[0], cur["review_comment"].iloc[0]) == ("queried", "which crews?")
    # the packet's input hash changes, so the department's packet is rebuilt
    assert records.submissions_fingerprint(params, "beautification") != before
    out = runner.invoke(main, ["--home", str(home), "submissions", "review", "beautification",
                               "2026-09", "graffiti_sq_ft_removed", "--accept", "--comment", "ok"])
    assert out.exit_code == 2 and "no submitted figure" in out.output


def test_the_export_is_formula_safe(home, tmp_path):
    params = load_params(home)
    load_file(params, _csv(tmp_path / "v.csv", "beautification", "2026-10",
                           [("graffiti_sq_ft_removed", 870, "=HYPERLINK(\"http://x\")")]))
    out = CliRunner().invoke(main, ["--home", str(home), "submissions", "export", "--out",
                                    str(tmp_path / "x")])
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "x" / "submissions.csv")
    assert table["note"].tolist() == ["'=HYPERLINK(\"http://x\")"]
    assert pd.read_csv(tmp_path / "x" / "history.csv")["value"].tolist() == [870.0]


def test_submissions_survive_a_reingest_and_a_deleted_source_store(store_home, tmp_path):
    params = load_params(store_home)
    load_file(params, _csv(tmp_path / "v.csv", "beautification", "2026-10",
                           [("graffiti_sq_ft_removed", 870, "")]))
    ingest(params)
    params.store_path.unlink()             # what `make clean` removes
    ingest(params)
    assert records.current_values(params)["value"].tolist() == [870.0]


# ---- status, targets, reconciliation, the packet ---------------------------------------------

def test_the_due_date_counts_business_days_across_a_holiday(home):
    params = load_params(home)
    cal = BusinessCalendar.from_city(params.city)
    # October 2026 ends Sat 31. Business days after it: Nov 2-6 (5), 9, 10 (7), Nov 11 is
    # Veterans Day, 12, 13 (9), 16 (10): due Mon Nov 16, late from Tue Nov 17 00:00 local.
    assert due_day(Period.parse("2026-10"), cal, 10) == "2026-11-16"
    assert due_deadline(Period.parse("2026-10"), cal, 10) == pd.Timestamp("2026-11-17", tz=LA)


def test_the_status_listing_on_time_late_missing(home, tmp_path):
    params = load_params(home)
    on_time = pd.Timestamp("2026-11-16 23:59", tz=LA)
    late = pd.Timestamp("2026-11-17 00:00", tz=LA)
    load_file(params, _csv(tmp_path / "o.csv", "beautification", "2026-10",
                           [("graffiti_sq_ft_removed", 870, "")]), received_at=on_time)
    load_file(params, _csv(tmp_path / "i.csv", "information-technology", "2026-10",
                           [("service_desk_resolved", 3000, "")]), received_at=late)
    status = kpis.submission_status(params, Period.parse("2026-10"), now=late)
    assert dict(zip(status["department"], status["status"])) == {
        "beautification": "on time", "information-technology": "late",
        "sanitation": "missing", "street-lighting": "missing", "water-and-power": "missing"}
    assert kpis.status_line(status) == "KPI submissions: 1 on time, 1 late, 3 missing."
    early = kpis.submission_status(params, Period.parse("2026-10"), now=on_time)
    assert early.set_index("department")["status"]["sanitation"] == "not yet due"
    assert kpis.awaiting_text(early) == (
        "Awaiting submission from Bureau of Sanitation, Bureau of Street Lighting, "
        "Department of Water and Power (due 2026-11-16).")


def test_targets_take_effect_from_their_date(home):
    kpi = load_params(home).departments["beautification"].kpis[0]
    june, july = Period.parse("2026-06"), Period.parse("2026-07")
    assert kpis.target_of(kpi, june).target == 800 and kpis.target_of(kpi, july).target == 900
    assert kpis.target_of(kpi, Period.parse("2025-06")) is None  # before any target
    # 870 >= 800: met in June; 900 x 0.95 = 855 <= 870 < 900: near in July
    from stat_lib.metrics.scoring import status
    assert (status(870, kpis.target_of(kpi, june)), status(870, kpis.target_of(kpi, july))) \
        == ("met", "near")


def test_reconciliation_agrees_and_differs(store_home):
    from stat_lib.metrics import prepare
    from stat_lib.params.kpi_models import Kpi
    from stat_lib.store import load_requests
    params = load_params(store_home)
    dept = params.departments["beautification"]
    prep = prepare(load_requests(params, ["beautification"]), dept,
                   BusinessCalendar.from_city(params.city))
    oct_ = Period.parse("2026-10", LA)
    kpi = Kpi(id="g", label="g", reconcile_with={"metric": "closed",
                                                 "service": "Graffiti Removal"})
    # 311: graffiti requests 1-1, 1-2 and 1-3 closed in October (1-4 closed in September)
    assert kpis.reconciliation(kpi, 3, prep, oct_) == "agrees with 311 (3 vs 3)"
    assert kpis.reconciliation(kpi, 5, prep, oct_) == "differs by 2 (5 vs 3)"


@pytest.mark.slow  # a real DepartmentReport (13-period trend, imports the present layer)
def test_template_filled_loaded_and_shown_in_the_department_packet(store_home, tmp_path):
    from stat_lib.present.reports import DepartmentReport
    params = load_params(store_home)
    path = _workbook(params, tmp_path, [1, 880, 390])
    assert load_file(params, path, received_at=pd.Timestamp("2026-11-09", tz=LA)).kpis == 3
    report = DepartmentReport(str(store_home), "sanitation", "2026-10")
    card = report.card.set_index("metric")
    # targets 2000 (higher), 900 (higher, amber 5%: 855), 400 (lower, amber 10%: 440)
    assert card.loc["kpi.bulky_items_collected", ["value", "status"]].tolist() == [1.0, "missed"]
    assert card.loc["kpi.illegal_dumping_tons", "status"] == "near"
    assert card.loc["kpi.missed_collections", "status"] == "met"
    html = "".join(h.data for h in report.kpis())
    assert "Submitted on time: 2026-11-09 (sanitation-2026-10.xlsx), due 2026-11-16." in html
    # one Bulky Items request (1-5) closed in October: 1 submitted agrees with 1
    assert "agrees with 311 (1 vs 1)" in html and "Missed curbside collections" in html


@pytest.mark.slow  # 128 file loads
def test_the_demo_loads_the_sample_submissions_once_and_shows_the_rejected_workbook(tmp_path):
    from support.builders import sample_home

    from stat_lib.run.submissions_cli import load_sample
    params = load_params(sample_home(tmp_path))
    lines = []
    rejected = load_sample(params, echo=lines.append)
    # 13 months x 5 departments, less Street Lighting's October
    assert lines == ["KPI submissions: 64 files (64 new, 0 unchanged)."]
    assert rejected[0].endswith(
        'KPIs!C7: value "12a" is not a number; enter a number between 0 and 20000')
    status = kpis.submission_status(params, Period.parse("2026-10"))
    assert dict(zip(status["department"], status["status"])) == {
        "beautification": "on time", "information-technology": "late", "sanitation": "on time",
        "street-lighting": "missing", "water-and-power": "on time"}
    before = records.submissions_fingerprint(params)
    load_sample(params, echo=lines.append)
    assert lines[-1] == "KPI submissions: 64 files (0 new, 64 unchanged)."
    assert records.submissions_fingerprint(params) == before  # no re-run of unchanged packets
    assert len(records.reviews(params)) == 1


def test_a_load_for_one_department_and_period_refuses_another(home, tmp_path):
    params = load_params(home)
    path = _csv(tmp_path / "v.csv", "beautification", "2026-10",
                [("graffiti_sq_ft_removed", 870, "")])
    with pytest.raises(SubmissionRejected) as err:
        load_file(params, path, expect={"department": "sanitation", "period": "2026-09"})
    assert err.value.problems == [
        "v.csv:line 2 (department): department 'beautification', but this load is for "
        "'sanitation'; send the file of the right department",
        "v.csv:line 2 (period): period 2026-10, but this load is for 2026-09; send the figures "
        "of that period"]


def test_a_kpi_id_twice_in_params_is_an_error_with_its_line(home):
    from stat_lib.core.errors import ParamsErrors
    f = home / "params" / "departments" / "street-lighting.yaml"
    f.write_text(f.read_text() + "  - {id: lights_repaired, label: again}\n")
    with pytest.raises(ParamsErrors) as err:
        load_params(home)
    assert "KPI id 'lights_repaired' is listed twice" in str(err.value)
    assert "street-lighting.yaml" in str(err.value)


def test_quarterly_kpis_have_their_own_template_and_status(home, tmp_path):
    f = home / "params" / "departments" / "water-and-power.yaml"
    f.write_text(f.read_text() + "  - {id: main_breaks, label: Water main breaks, direction: "
                 "lower, frequency: quarterly, target: 30, valid: {min: 0, max: 500}}\n")
    params = load_params(home)
    wb = load_workbook(template(params, "water-and-power", "2026-Q3", tmp_path / "q.xlsx"))
    assert [c.value for c in wb["KPIs"]["A"][5:]] == ["main_breaks"]   # monthly ones left out
    # 2026-Q3 ends Wed Sep 30; business days after: Oct 1, 2, 5-9, 12, 13, 14 -> due Oct 14
    # (Columbus Day is not a California state holiday)
    status = kpis.submission_status(params, Period.parse("2026-Q3"),
                                    now=pd.Timestamp("2026-12-01", tz=LA))
    assert status[["department", "status", "due"]].values.tolist() == [
        ["water-and-power", "missing", "2026-10-14"]]
    load_file(params, _csv(tmp_path / "q.csv", "water-and-power", "2026-Q3",
                           [("main_breaks", 27, "")]),
              received_at=pd.Timestamp("2026-10-14 17:00", tz=LA))
    status = kpis.submission_status(params, Period.parse("2026-Q3"))
    assert status["status"].tolist() == ["on time"]


def test_the_batch_hashes_a_departments_submissions(store_home, tmp_path):
    from stat_lib.core.manifest import one_pass
    from stat_lib.present.resources import packaged
    from stat_lib.run.batch import _own_inputs
    params = load_params(store_home)
    period, nb = Period.parse("2026-10", LA), packaged("notebooks") / "department.ipynb"
    def inputs():  # one planning pass, as the batch asks (one query for every run)
        with one_pass():
            return {s: _own_inputs(params, period, s, nb, {})
                    for s in ("beautification", "sanitation")}
    before = inputs()
    load_file(params, _csv(tmp_path / "v.csv", "beautification", "2026-10",
                           [("graffiti_sq_ft_removed", 870, "")]))
    after = inputs()
    assert after["beautification"]["submissions"] != before["beautification"]["submissions"]
    assert after["sanitation"] == before["sanitation"]   # another department's packet is kept


@pytest.mark.slow  # a real DepartmentReport
def test_a_kpi_note_with_a_script_shows_literally_and_never_in_the_public_edition(
        store_home, tmp_path):
    from stat_lib.present.reports import DepartmentReport
    params = load_params(store_home)
    note = "<script>window.__pwned=1</script> rain week"
    path = _csv(tmp_path / "sanitation-2026-10.csv", "sanitation", "2026-10",
                [("bulky_items_collected", 2100, note), ("illegal_dumping_tons", 900, ""),
                 ("missed_collections", 380, "")])
    assert load_file(params, path, received_at=pd.Timestamp("2026-11-09", tz=LA)).kpis == 3
    internal = "".join(h.data for h in DepartmentReport(str(store_home), "sanitation",
                                                        "2026-10").kpis())
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; rain week" in internal
    assert "<script>window" not in internal
    public = "".join(h.data for h in DepartmentReport(str(store_home), "sanitation", "2026-10",
                                                      audience="public").kpis())
    assert "rain week" not in public and "2,100" in public  # the figure, not the note
