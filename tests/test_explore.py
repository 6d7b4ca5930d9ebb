"""The explorer's API (stat_lib.explore) on the hand-worked fixture in a real DuckDB store.

Every expected figure is worked out by hand in support/builders.py (HAND_ROWS) and
tests/test_metrics.py; here the same figures must come out of the notebook API, sliced,
grouped and listed request by request.
"""

import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.errors import MetricError, StatLibError, UsageError
from stat_lib.explore import MISSING, open_home, weeks_of
from stat_lib.metrics.behind import MASKS, supported
from stat_lib.metrics.tidy import tidy_figures
from support.builders import (HAND_CAL, HAND_DEPT, HAND_OCT, HAND_SERVICES, LA_TZ, ROOT,
                              hand_city)

OCT = "2026-10"
DEPT = "sanitation"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    params = hand_city(tmp_path_factory.mktemp("explore-home"))
    return open_home(params.home)


def ids(frame) -> list[str]:
    return sorted(frame["request_id"])


def test_counts_list_exactly_the_requests_they_count(home):
    # every count metric: as many rows behind it as its value
    w = home.window(DEPT, OCT)
    for metric in MASKS:
        assert len(home.behind(metric, DEPT, OCT)) == w.value(metric), metric
    # test_metrics: open at 1 Nov R4 R5 R6 R12 R13 R17; overdue R4 (due 31 Oct) and R12
    assert ids(home.behind("backlog_open", DEPT, OCT)) == ["R12", "R13", "R17", "R4", "R5",
                                                           "R6"]
    overdue = home.behind("overdue_open", DEPT, OCT)
    assert list(overdue["request_id"]) == ["R12", "R4"]  # most overdue first (August's R12)
    # R4 (Sat 24 Oct, 5 business days) is due 31 Oct 00:00: 1 day overdue at 1 Nov 00:00;
    # R12 (Mon 3 Aug) is due 11 Aug 00:00: 20 + 30 + 31 + 1 = 82 days (both PDT, no DST shift)
    assert list(overdue["days_overdue"]) == [82.0, 1.0]
    assert not any(c.startswith("_") for c in overdue.columns) and "due" in overdue.columns


def test_a_rate_lists_its_denominator_and_marks_its_numerator(home):
    # eligible R1 R2 R3 R11; on time R1 R2 (test_metrics.test_on_time) -> 2 / 4
    rows = home.behind("on_time_rate", DEPT, OCT)
    assert ids(rows) == ["R1", "R11", "R2", "R3"]
    assert ids(rows[rows["in_numerator"]]) == ["R1", "R2"]
    assert home.metric("on_time_rate", DEPT, OCT) == 0.5
    # cohort: met R2 R6 R13, late R3 R4 R5 R11 -> 3 / 7; R17 pending
    cohort = home.behind("cohort_on_time_rate", DEPT, OCT)
    assert ids(cohort[cohort["in_numerator"]]) == ["R13", "R2", "R6"]
    assert ids(cohort[~cohort["in_numerator"]]) == ["R11", "R3", "R4", "R5"]
    assert ids(home.behind("cohort_pending", DEPT, OCT)) == ["R17"]
    # durations are computed over the usable closures R1 R2 R3 R7 R11
    assert ids(home.behind("median_days_to_close", DEPT, OCT)) == ["R1", "R11", "R2", "R3",
                                                                   "R7"]
    assert set(supported()) >= {"overdue_share", "created_change_prior", "p90_days_to_close"}
    with pytest.raises(MetricError, match="standards_report"):
        home.behind("standard_compliance", DEPT, OCT)


def test_a_slice_is_the_packets_per_service_figure(home):
    # test_metrics: bulky-items on time 2 / 3 (R1, R2 on time; R3 late); dead 0 / 1 (R11)
    assert home.metric("on_time_rate", DEPT, OCT, service="bulky-items") == pytest.approx(2 / 3)
    assert home.metric("on_time_rate", DEPT, OCT, service="Bulky Items") == pytest.approx(2 / 3)
    assert home.metric("on_time_rate", DEPT, OCT, service=["dead"]) == 0.0
    # R5 and R11 are the dead-animal requests created in October
    assert ids(home.requests(DEPT, OCT, service="dead")) == ["R11", "R5"]
    with pytest.raises(UsageError, match="unknown service 'Potholes'.*Bulky Items"):
        home.metric("created", DEPT, OCT, service="Potholes")
    with pytest.raises(UsageError, match="unknown channel 'Fax'"):
        home.metric("created", DEPT, OCT, channel="Fax")
    with pytest.raises(UsageError, match="unknown slice filter.*colour"):
        home.metric("created", DEPT, OCT, colour="red")


@pytest.mark.parametrize("by", ["service", "channel", "district"])
def test_groups_add_up_to_the_department(home, by):
    counts = ["created", "closed", "on_time_met", "on_time_eligible", "backlog_open",
              "overdue_open", "backlog_start", "cancelled"]
    table = home.figures(DEPT, OCT, metrics=counts, by=by)
    whole = home.figures(DEPT, OCT, metrics=counts).iloc[0]
    for metric in counts:
        assert table[metric].sum() == whole[metric], (by, metric)
    # the fixture has no channel: every request is in the "(missing)" group, none dropped
    if by == "channel":
        assert list(table["group"]) == [MISSING] and table["created"].iloc[0] == 12


def test_services_show_their_names_and_params_services_without_requests(home):
    table = home.figures(DEPT, OCT, metrics=["created"], by="service").set_index("group")
    # created in October: bulky R2 R3 R4 R8 R9 R10 R13 R17 = 8, dead R5 R11, camp R6, feedback R7
    assert table["created"].to_dict() == {"bulky-items": 8, "camp": 1, "dead": 2, "feedback": 1}
    assert table.loc["camp", "name"] == "Homeless Encampment"


def test_weeks_are_the_iso_weeks_overlapping_the_period(home):
    weeks = home.metric("created", DEPT, OCT, by="week")
    # 1 Oct 2026 is a Thursday: W40 = Mon 28 Sep - Sun 4 Oct ... W44 = 26 Oct - 1 Nov.
    # W40 R1 (29 Sep) R3; W41 R7 R8 R2; W42 R9 R11; W43 R10 R4; W44 R5 R6 R13 R17
    assert dict(zip(weeks["group"], weeks["value"])) == {
        "2026-W40": 2, "2026-W41": 3, "2026-W42": 2, "2026-W43": 2, "2026-W44": 4}
    assert [w.label for w in weeks_of(home.period("2026-W42"))] == ["2026-W42"]


def test_two_periods_compared(home):
    table = home.compare(DEPT, "2026-09", OCT, metrics=["created", "on_time_rate"])
    row = table.set_index("metric").loc["created"]
    # September created R1 R15 R16 = 3, October 12: relative change 12 / 3 - 1 = 3.0
    assert (row["a"], row["b"], row["change"]) == (3, 12, pytest.approx(3.0))
    assert "on_time_met" in set(table["metric"])  # a rate brings its parts


def test_headline_and_scorecard_equal_the_tidy_figures(home):
    tidy = tidy_figures(home.params, OCT, [DEPT]).set_index("metric")
    for row in home.headline(DEPT, OCT).itertuples():
        assert row.display == tidy.loc[row.metric, "display"], row.metric
    card = home.scorecard(DEPT, OCT)
    assert {"on_time_rate", "backlog_open"} <= set(card["metric"])
    for row in card.itertuples():
        assert (row.display, row.status) == tuple(tidy.loc[row.metric, ["display", "status"]])


def test_excel_export_is_formula_safe_and_local(home, tmp_path):
    rows = home.behind("overdue_open", DEPT, OCT)
    rows["address"] = ["=HYPERLINK(\"http://x\",\"click\")", "@SUM(A1)"]
    path = home.to_excel(rows, tmp_path / "crew.xlsx")
    ws = openpyxl.load_workbook(path)["Requests"]
    header = [c.value for c in ws[1]]
    address = header.index("address") + 1
    cells = [ws.cell(r, address) for r in (2, 3)]
    assert [c.value for c in cells] == ["'=HYPERLINK(\"http://x\",\"click\")", "'@SUM(A1)"]
    assert all(c.data_type == "s" for c in cells)
    # R12 requested 3 Aug 09:00 local (PDT) -> written as that wall time, zone in the header
    when = ws.cell(2, header.index("requested_at (America/Los_Angeles)") + 1).value
    assert when == pd.Timestamp("2026-08-03 09:00").to_pydatetime()
    # the same text written without safe_frame would be a live formula
    raw = tmp_path / "raw.xlsx"
    rows[["address"]].to_excel(raw, index=False)
    assert openpyxl.load_workbook(raw).active.cell(2, 1).data_type == "f"
    with pytest.raises(UsageError, match=r"\.xlsx"):
        home.to_excel(rows, tmp_path / "crew.csv")


def test_any_dataset_kind_loads(home):
    everything = home.load("requests")
    assert len(everything) == 17  # R1..R17, including ocb's R14
    assert len(home.load("requests", table="rejects")) == 0
    assert len(home.load("requests", department=DEPT, period=OCT)) == 12
    assert len(home.load("telephony")) == 0  # a registered kind with no sources here
    with pytest.raises(StatLibError, match="unknown dataset kind 'weather'"):
        home.load("weather")


def test_unknown_names_say_what_is_known(home):
    with pytest.raises(UsageError, match="unknown department 'parks'"):
        home.metric("created", "parks", OCT)
    with pytest.raises(MetricError, match="unknown metric 'speed'.*on_time_rate"):
        home.metric("speed", DEPT, OCT)
    with pytest.raises(UsageError, match="cannot group by 'month'"):
        home.figures(DEPT, OCT, by="month")
    with pytest.raises(UsageError, match="unknown boundary layer 'ward'"):
        home.metric("created", DEPT, OCT, by="district", layer="ward")


def test_the_home_is_found_from_a_notebook_folder(home, monkeypatch):
    (home.params.home / "notebooks").mkdir(exist_ok=True)
    monkeypatch.delenv("STAT_LIB_HOME", raising=False)
    monkeypatch.chdir(home.params.home / "notebooks")
    assert open_home().params.home == home.params.home
    monkeypatch.chdir(home.params.home.parent)
    with pytest.raises(UsageError, match="no home found"):
        open_home()


@pytest.mark.slow  # a fresh interpreter: about 3.5 s here
def test_loading_data_imports_no_plotting_or_export_library(home):
    code = f"""
import sys
from stat_lib.explore import open_home
home = open_home({str(home.params.home)!r})
assert len(home.behind("overdue_open", "sanitation", "2026-10")) == 2
home.figures("sanitation", "2026-10", by="district")
heavy = ("folium", "altair", "branca", "nbconvert", "papermill", "vl_convert")
print([m for m in sys.modules if m.split(".")[0] in heavy])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_the_explorer_notebook_is_committed_without_outputs():
    nb = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert "parameters" in code[0]["metadata"]["tags"]


def test_explore_command_checks_its_arguments_first(tmp_path):
    from click.testing import CliRunner

    from stat_lib.cli import main
    from support.builders import params_home
    params_home(tmp_path)
    run = CliRunner().invoke
    result = run(main, ["--home", str(tmp_path), "explore", "parks", "--period", OCT])
    assert result.exit_code == 2 and "unknown department 'parks'" in result.output
    result = run(main, ["--home", str(tmp_path), "explore", DEPT, "--period", "Oct"])
    assert result.exit_code == 2 and "cannot read period 'Oct'" in result.output
    result = run(main, ["--home", str(tmp_path), "explore", DEPT, "--period", OCT,
                        "--out", "x.html"])
    assert result.exit_code == 2 and "--out must name an .ipynb file" in result.output
    # a fresh clone has no store yet: the command names the fix before starting a kernel
    result = run(main, ["--home", str(tmp_path), "explore", DEPT, "--period", OCT])
    assert result.exit_code == 5 and "run `stat-lib ingest` first" in result.output


def test_groups_come_in_natural_order_and_missing_values_last():
    from stat_lib.explore.slices import group_codes
    frame = pd.DataFrame({"d": ["10", "2", None, "1", "2", "CD 10", "CD 9"]})
    codes, groups = group_codes(frame, "d")
    assert groups == ["1", "2", "10", "CD 9", "CD 10", MISSING]
    assert [groups[c] for c in codes] == ["10", "2", MISSING, "1", "2", "CD 10", "CD 9"]


def test_readable_writes_figures_as_the_packet_does(home):
    from stat_lib.explore import readable
    figures = readable(home.figures(DEPT, OCT, metrics=["on_time_rate", "created"]))
    # on time 2 / 4 -> "50.0%"; created 12
    assert (figures["on_time_rate"].iloc[0], figures["created"].iloc[0]) == ("50.0%", "12")
    overdue = readable(home.behind("overdue_open", DEPT, OCT))
    assert list(overdue["days_overdue"]) == ["82.0 days", "1.0 days"]
    assert overdue["requested_at"].iloc[0] == "2026-08-03 09:00"  # local wall time of R12


def test_all_of_a_departments_requests_load_with_no_period(home):
    rows = home.requests(DEPT)
    assert len(rows) == 16 and "R14" not in set(rows["request_id"])  # R14 is ocb's
    assert ids(home.requests(DEPT, service="dead")) == ["R11", "R5"]


instants = st.datetimes(min_value=pd.Timestamp("2026-09-20").to_pydatetime(),
                        max_value=pd.Timestamp("2026-11-05").to_pydatetime())
rows_strategy = st.lists(st.tuples(
    instants,
    st.one_of(st.none(), st.timedeltas(min_value=pd.Timedelta(days=-1),
                                       max_value=pd.Timedelta(days=15))),
    st.sampled_from(["closed", "cancelled"]),
    st.sampled_from([None, "Call", "Mobile App"]),
    st.sampled_from(["bulky", "dead", "camp", "feedback"])), min_size=1, max_size=30)


def random_requests(rows) -> pd.DataFrame:
    def local(values):
        return pd.Series([pd.Timestamp(v).tz_localize(LA_TZ, ambiguous=False,
                                                      nonexistent="shift_forward")
                          if v is not None else pd.NaT for v in values],
                         dtype=f"datetime64[ns, {LA_TZ}]")
    created = local([c for c, *_ in rows])
    ended = local([None if d is None else pd.Timestamp(c) + d for c, d, *_ in rows])
    status = ["open" if d is None else s for _, d, s, _, _ in rows]
    return pd.DataFrame({
        "request_id": [f"r{i}" for i in range(len(rows))],
        "service_code": [HAND_SERVICES[r[4]][0] for r in rows],
        "service_name": [HAND_SERVICES[r[4]][1] for r in rows], "department": DEPT,
        "status": status, "status_raw": status, "requested_at": created,
        "updated_at": ended.fillna(created), "closed_at": ended,
        "due_at": local([None] * len(rows)), "channel": [r[3] for r in rows]})


@pytest.mark.slow  # 100 examples: about 9 s here
@given(rows_strategy)
def test_behind_and_groups_agree_with_the_metrics_on_any_requests(rows):
    from stat_lib.explore.slices import group_codes
    from stat_lib.metrics import prepare
    from stat_lib.metrics.behind import masks
    prep = prepare(random_requests(rows), HAND_DEPT, HAND_CAL)
    w = prep.window(HAND_OCT)
    for metric in MASKS:  # a count lists exactly the rows it counts
        assert int(masks(w, metric)[0].sum()) == w.value(metric), metric
    codes, groups = group_codes(prep.frame, "channel")
    parts = [prep.window(HAND_OCT, {k: v[codes == i] for k, v in prep.arrays.items()})
             for i in range(len(groups))]
    for metric in MASKS:  # the channels' counts add up to the department's, none dropped
        assert sum(p.value(metric) for p in parts) == w.value(metric), metric


def test_each_standards_figure_is_a_metric_too(home):
    # test_metrics: bulky-5-days closed R1 R2 R3, met 2 -> 2/3; R3 late owes $50 x 0.2 x 2 = $20
    assert home.metric("standard_compliance.bulky-5-days", DEPT, OCT) == pytest.approx(2 / 3)
    assert home.metric("redress_count.bulky-5-days", DEPT, OCT) == 1
    assert home.metric("redress_dollars.bulky-5-days", DEPT, OCT) == pytest.approx(20.0)
    # the dead-animal slice holds none of the standard's bulky items: n/a, not 0%
    assert home.metric("standard_compliance.bulky-5-days", DEPT, OCT, service="dead") is None
    assert list(home.standards(DEPT, OCT)["standard"]) == ["bulky-5-days"]
    with pytest.raises(UsageError, match="unknown standard 'fast'.*bulky-5-days"):
        home.metric("standard_compliance.fast", DEPT, OCT)
    with pytest.raises(MetricError, match="standard_compliance.<standard id>"):
        home.metric("speed.fast", DEPT, OCT)
