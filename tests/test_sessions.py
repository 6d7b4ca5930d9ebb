"""Sessions and commitments: CLI, records store, minutes (CSV/Excel), packet, memo, sample.

Figures are worked out by hand in the comments. The 311 fixture has Beautification (OCB)
requests up to 2026-10-21 09:00, so its October packet is as of 2026-10-21: days overdue count
to that day, not to the wall clock.
"""

from __future__ import annotations

import datetime as dt
import re
import stat

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from stat_lib.cli import main
from stat_lib.core.errors import MinutesRejected
from stat_lib.ingest import ingest
from stat_lib.metrics import commitments as c
from stat_lib.metrics.methods import COMMON, CONCERNING, IMPROVING, NO_VERDICT, Assessment
from stat_lib.params import load_params
from stat_lib.run.minutes import import_minutes
from stat_lib.store import sessions as records
from support.builders import csv_store_home
from support.html_text import text as visible_text

CSV_311 = ("SRNumber,CreatedDate,UpdatedDate,ClosedDate,RequestType,Owner,Status,Address\n"
           "1-1,10/01/2026 09:00:00 AM,,10/02/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,1 A St\n"
           "1-2,10/05/2026 09:00:00 AM,,10/06/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,2 A St\n"
           "1-3,10/20/2026 09:00:00 AM,,10/21/2026 09:00:00 AM,Graffiti Removal,OCB,Closed,3 A St\n"
           "1-5,10/03/2026 09:00:00 AM,,10/04/2026 09:00:00 AM,Bulky Items,BOS,Closed,5 A St\n")
SCRIPT = "Clear <script>alert('x')</script> backlog"


@pytest.fixture
def store_home(home):
    return csv_store_home(home, CSV_311)


def cli(home, *args, code=0):
    out = CliRunner().invoke(main, ["--home", str(home), *args])
    assert out.exit_code == code, out.output
    return out.output


# ---- round trip: CLI -> store -> CSV -> Excel -> packet -----------------------------------------

@pytest.mark.slow  # over ~1.5 s: a real DepartmentReport and memo
def test_round_trip_cli_store_csv_excel_packet_and_memo(store_home, tmp_path):
    from stat_lib.present.reports import DepartmentReport
    h = store_home
    assert cli(h, "sessions", "add", "2026-09-08", "beautification").strip() == \
        "session 2026-09-08-beautification"
    sid = "2026-09-08-beautification"
    cli(h, "commitments", "add", sid, "--what", SCRIPT, "--owner", "=HYPERLINK(\"x\")",
        "--due", "2026-10-11", "--metric", "backlog_open", "--direction", "lower")
    cli(h, "commitments", "add", sid, "--what", "Brief the council", "--owner", "Deputy",
        "--due", "2026-10-15")
    cli(h, "commitments", "close", f"{sid}-2", "--done", "--on", "2026-10-14")
    csv_path = tmp_path / "minutes.csv"
    cli(h, "sessions", "export", "--out", str(csv_path))
    text = csv_path.read_text()
    assert "'=HYPERLINK" in text                       # formula-safe
    # the same file back: nothing changes
    assert "0 added, 0 updated, 2 unchanged" in cli(h, "sessions", "import", str(csv_path))
    # an analyst edits the due date of the first one in the CSV: a new revision
    csv_path.write_text(text.replace("2026-10-11", "2026-10-12"))
    assert "1 updated, 1 unchanged" in cli(h, "sessions", "import", str(csv_path))
    xlsx = tmp_path / "minutes.xlsx"
    cli(h, "sessions", "export", "--format", "xlsx", "--out", str(xlsx))
    ws = load_workbook(xlsx)["Commitments"]
    assert ws["G2"].value == "'=HYPERLINK(\"x\")" and ws["G2"].data_type == "s"  # not a formula
    assert "0 added, 0 updated, 2 unchanged" in cli(h, "sessions", "import", str(xlsx))
    params = load_params(h)
    hist = records.history(params, f"{sid}-1")
    assert hist["due_on"].tolist() == [dt.date(2026, 10, 11), dt.date(2026, 10, 12)]
    assert records.commitments(params)["owner"].iloc[0] == '=HYPERLINK("x")'  # read back as is

    report = DepartmentReport(str(h), "beautification", "2026-10")
    assert report.as_of_day == dt.date(2026, 10, 21)   # the newest record: 10-21 09:00
    html = report.since_last_session().data
    # due 10-12, open at 10-21: 9 days overdue; the other done 10-14 <= due 10-15: on time
    assert "overdue: 9 days" in html and "done 2026-10-14 (on time)" in visible_text(html)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and "<script>" not in html
    assert "Last session: 2026-09-08. As of 2026-10-21" in html
    assert report.overdue_commitments()["commitment_id"].tolist() == [f"{sid}-1"]
    assert report.delivered_commitments()["commitment_id"].tolist() == [f"{sid}-2"]

    memo = cli(h, "sessions", "followup", sid).split("wrote ")[1].strip()
    page = open(memo).read()
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "2026-10-12" in page and "Deputy" in page and "Open at period end: lower" in page


def test_bad_values_name_the_field_and_the_fix(store_home):
    h = store_home
    out = cli(h, "sessions", "add", "14/10/2026", "sanitation", code=2)
    assert "'14/10/2026' is not a date; write it as 2026-10-14" in out
    assert "unknown department 'parks'" in cli(h, "sessions", "add", "2026-10-14", "parks",
                                               code=2)
    cli(h, "sessions", "add", "2026-10-14", "sanitation")
    out = cli(h, "commitments", "add", "2026-10-14-sanitation", "--what", "x", "--owner", "y",
              "--due", "2026-11-01", "--metric", "backlog_open", code=2)
    assert "say which way backlog_open should move: direction higher or lower" in out
    out = cli(h, "commitments", "add", "2026-10-14-nobody", "--what", "x", "--owner", "y",
              "--due", "2026-11-01", code=2)
    assert "no session '2026-10-14-nobody'" in out


def test_a_minutes_file_with_bad_dates_stores_nothing_and_names_each_row(store_home, tmp_path):
    params = load_params(store_home)
    path = tmp_path / "m.csv"
    path.write_text("session_date,department,what,owner,due_on,status,closed_on\n"
                    "14/10/2026,sanitation,Fix routes,Ops,30/10/2026,open,\n"
                    "14/10/2026,sanitation,Audit,Ops,31/10/2026,done,\n"
                    "14/10/2026,sanitation,Brief,Ops,2026-10-31,open,\n")
    with pytest.raises(MinutesRejected) as exc:
        import_minutes(params, path, "%d/%m/%Y")
    problems = exc.value.problems
    # row 3: done without a date; row 4: an ISO date is not the analyst's %d/%m/%Y
    assert problems == [
        "row 3, a done commitment needs the date it was done (closed_on)",
        "row 4, column 'due_on': '2026-10-31' is not a date in the format %d/%m/%Y "
        "(e.g. 14/10/2026); fix the cell"]
    assert records.commitments(params).empty and records.sessions(params).empty
    path.write_text(path.read_text().replace("done,", "done,28/10/2026").replace(
        "2026-10-31", "31/10/2026"))
    assert import_minutes(params, path, "%d/%m/%Y") == {
        "sessions added": 1, "added": 3, "updated": 0, "unchanged": 0}


def test_a_group_session_needs_each_commitments_department(store_home):
    h = store_home
    cli(h, "sessions", "add", "2026-10-13", "sanitation", "beautification")
    sid = "2026-10-13-beautification+sanitation"
    out = cli(h, "commitments", "add", sid, "--what", "x", "--owner", "y", "--due",
              "2026-11-01", code=2)
    assert "--department: empty; it is required" in out
    cli(h, "commitments", "add", sid, "--what", "x", "--owner", "y", "--due", "2026-11-01",
        "--department", "sanitation")
    assert "nothing to change" in cli(h, "commitments", "update", f"{sid}-1", "--owner", "y",
                                      code=2)
    params = load_params(h)
    cur, sess = c.load(params)
    # as of 11-05 both departments' last session is the group's; only sanitation's is overdue
    assert c.last_session(sess, "beautification", D(2026, 11, 5))["session_id"] == sid
    assert c.overdue(cur, sess, D(2026, 11, 5), "sanitation")["days_overdue"].tolist() == [4]
    assert c.overdue(cur, sess, D(2026, 11, 5), "beautification").empty


def test_an_excel_minutes_file_with_a_text_date_names_its_cell(store_home, tmp_path):
    from openpyxl import Workbook
    params = load_params(store_home)
    wb = Workbook()
    ws = wb.active
    ws.title = "Commitments"
    ws.append(["Session_Date", "Department", "What", "Owner", "Due_On"])
    ws.append([dt.datetime(2026, 10, 13), "sanitation", "Fix routes", "Ops",
               dt.datetime(2026, 10, 30)])          # real spreadsheet dates: fine
    ws.append([dt.datetime(2026, 10, 13), "sanitation", "Audit", "Ops", "2026/10/31"])
    wb.save(tmp_path / "m.xlsx")
    with pytest.raises(MinutesRejected) as exc:
        import_minutes(params, tmp_path / "m.xlsx")
    assert exc.value.problems == [
        "row 3, column 'due_on': '2026/10/31' is not a date in the format %Y-%m-%d "
        "(e.g. 2026-10-14); fix the cell, or give --date-format for your own format"]
    ws["E3"] = dt.datetime(2026, 10, 31)
    wb.save(tmp_path / "m.xlsx")
    assert import_minutes(params, tmp_path / "m.xlsx")["added"] == 2


# ---- history, survival ----------------------------------------------------------------------

def test_history_is_kept_and_survives_reingest_and_a_deleted_store(store_home):
    h = store_home
    cli(h, "sessions", "add", "2026-10-14", "sanitation")
    cli(h, "commitments", "add", "2026-10-14-sanitation", "--what", "a", "--owner", "b",
        "--due", "2026-11-01")
    cli(h, "commitments", "update", "2026-10-14-sanitation-1", "--owner", "c")
    cli(h, "commitments", "close", "2026-10-14-sanitation-1", "--dropped", "--on", "2026-10-20")
    params = load_params(h)
    ingest(params)
    params.store_path.unlink()               # what `make clean` removes
    ingest(params)
    hist = records.history(params)
    assert hist["revision"].tolist() == [1, 2, 3]
    assert hist["owner"].tolist() == ["b", "c", "c"]
    assert hist["status"].tolist() == ["open", "open", "dropped"]
    assert records.commitments(params)["status"].tolist() == ["dropped"]
    out = cli(h, "commitments", "close", "2026-10-14-sanitation-1", "--done", "--on",
              "2026-10-21", code=2)
    assert "already dropped" in out


# ---- follow-up rate, states, by hand -------------------------------------------------------

def _frames(rows):
    sess = pd.DataFrame({"session_id": ["s1", "s2"], "held_on": [dt.date(2026, 9, 8),
                                                                  dt.date(2026, 10, 13)],
                         "departments": [["a", "b"], ["a"]]})
    cols = ["commitment_id", "session_id", "department", "due_on", "status", "closed_on"]
    return pd.DataFrame(rows, columns=cols), sess


D = dt.date


def test_follow_up_rate_and_states_by_hand():
    cur, sess = _frames([
        ("1", "s1", "a", D(2026, 10, 1), "done", D(2026, 9, 30)),    # on time
        ("2", "s1", "a", D(2026, 10, 1), "done", D(2026, 10, 5)),    # late
        ("3", "s1", "a", D(2026, 10, 10), "open", None),              # overdue 21 days
        ("4", "s1", "a", D(2026, 10, 20), "dropped", D(2026, 10, 2)),  # withdrawn before due
        ("5", "s1", "a", D(2026, 10, 20), "done", D(2026, 11, 5)),   # after D: open at D
        ("6", "s2", "a", D(2026, 11, 30), "open", None),             # not yet due
        ("7", "s1", "b", D(2026, 10, 15), "dropped", D(2026, 10, 20)),  # dropped after due
        ("8", "s3", "b", D(2026, 10, 1), "open", None)])             # session not recorded
    day = D(2026, 10, 31)
    made = c.made_by(cur, sess, day).set_index("commitment_id")
    assert made["state"].to_dict() == {"1": "done", "2": "done", "3": "overdue",
                                       "4": "dropped", "5": "overdue", "6": "open",
                                       "7": "dropped"}
    assert made.loc["3", "days_overdue"] == 21 and made.loc["5", "days_overdue"] == 11
    rate = c.follow_up_rate(cur, sess, day, ["a", "b"]).set_index("department")
    # a: due 1, 2, 3, 5 (4 withdrawn, 6 not due): done on time 1 of 4 = 0.25
    # b: 7 dropped after its due date counts as due, not done: 0 of 1
    assert rate.loc["a", ["due", "done_on_time", "overdue", "dropped"]].tolist() == [4, 1, 2, 1]
    assert rate.loc["a", "rate"] == 0.25 and rate.loc["b", "rate"] == 0.0
    # s1 (a, b) on 09-08 and s2 (a) on 10-13
    assert c.sessions_held(sess, "a", D(2026, 9, 1), D(2026, 10, 31)) == 2
    assert c.sessions_held(sess, "b", D(2026, 10, 1), D(2026, 10, 31)) == 0
    last, rows = c.since_last(cur, sess, "a", day)
    assert last["session_id"] == "s2"
    # due in (10-13, 10-31]: 4, 5; closed since 10-13: none by D; overdue: 3, 5
    assert sorted(rows["commitment_id"]) == ["3", "4", "5"]
    # rebuilt as of an earlier day, the same records say something else (no wall clock)
    assert c.made_by(cur, sess, D(2026, 10, 12)).set_index("commitment_id").loc[
        "3", "days_overdue"] == 2


# ---- moved as promised: only when the signal or the target says so ---------------------------

def _a(variation, value, mean, lower=80.0, upper=120.0, signals=()):
    return Assessment(method="spc", chart="xmr", variation=variation, value=value, mean=mean,
                      lower=lower, upper=upper, signals=signals)


def test_moved_as_promised_only_on_a_signal_in_the_promised_direction_or_the_target():
    down = _a(IMPROVING, 70.0, 100.0, signals=("below the lower limit",))
    assert c.moved_as_promised(down, "backlog_open", "lower")["moved"] is True
    # the same signal, but the promise was up: not moved
    assert c.moved_as_promised(down, "backlog_open", "higher")["moved"] is False
    # 95 is lower than the mean 100 but inside 80-120: common cause, no target -> not moved
    inside = _a(COMMON, 95.0, 100.0)
    out = c.moved_as_promised(inside, "backlog_open", "lower")
    assert out == {"moved": False, "text": "Not moved as promised (down): Open at period end "
                   "95: within its limits 80–120, common cause variation."}
    # with a target of 96, 95 meets it: moved as promised by the target
    assert c.moved_as_promised(inside, "backlog_open", "lower", 96.0)["moved"] is True
    up = _a(CONCERNING, 130.0, 100.0, signals=("above the upper limit",))
    assert c.moved_as_promised(up, "backlog_open", "lower", 96.0)["moved"] is False
    none = Assessment(method="spc", chart="xmr", variation=NO_VERDICT, value=95.0,
                      reason="11 points; 12 needed")
    assert c.moved_as_promised(none, "backlog_open", "lower")["moved"] is None


# ---- archive, batch hash -------------------------------------------------------------------------

def test_packets_are_archived_read_only_under_the_session(store_home):
    h = store_home
    params = load_params(h)
    (params.outputs / "2026-09").mkdir(parents=True)
    (params.outputs / "2026-09" / "beautification.html").write_text("<p>packet</p>")
    cli(h, "sessions", "add", "2026-10-13", "beautification")
    out = cli(h, "sessions", "archive", "2026-10-13-beautification")  # default: September
    path = h / "sessions" / "2026-10-13-beautification" / "packets" / "2026-09" / \
        "beautification.html"
    assert f"archived {path}" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o444 and path.read_text() == "<p>packet</p>"
    (params.outputs / "2026-09" / "beautification.html").write_text("<p>changed</p>")
    assert "is already archived and differs" in cli(
        h, "sessions", "archive", "2026-10-13-beautification", code=2)


def test_the_batch_hashes_a_departments_sessions_and_commitments(store_home):
    from stat_lib.core.manifest import one_pass
    from stat_lib.core.periods import Period
    from stat_lib.present.resources import packaged
    from stat_lib.run.batch import _own_inputs
    params = load_params(store_home)
    period = Period.parse("2026-10", "America/Los_Angeles")
    nb = packaged("notebooks") / "department.ipynb"

    def hashes():  # one planning pass, as the batch asks (one query for every run)
        with one_pass():
            return {s: _own_inputs(params, period, s, nb, {})["sessions"]
                    for s in ("beautification", "sanitation", "citywide")}
    before = hashes()
    records.add_session(params, dt.date(2026, 10, 13), ["sanitation"])
    mid = hashes()
    records.add_commitment(params, {"session_id": "2026-10-13-sanitation", "department":
                                    "sanitation", "what": "a", "owner": "b",
                                    "due_on": dt.date(2026, 11, 1), "status": "open"})
    after = hashes()
    assert mid["sanitation"] != before["sanitation"] != after["sanitation"] != mid["sanitation"]
    assert before["citywide"] != mid["citywide"] != after["citywide"]
    assert before["beautification"] == after["beautification"]  # another department's kept


# ---- the sample ---------------------------------------------------------------------------------

@pytest.mark.slow  # over ~1.5 s: the sample's minutes built and imported twice
def test_the_sample_is_deterministic_and_has_every_case(home):
    from stat_lib.run.sessions_cli import load_sample
    params = load_params(home)
    lines = []
    load_sample(params, echo=lines.append)
    first = (params.home / "data" / "sessions" / "minutes.csv").read_text()
    load_sample(params, echo=lines.append)
    assert (params.home / "data" / "sessions" / "minutes.csv").read_text() == first
    # 6 departments x 12 months; 2 routine each plus 6 tied/dropped = 150
    assert lines == ["Sessions and commitments: 72 sessions added, 150 added, 0 updated, "
                     "0 unchanged.",
                     "Sessions and commitments: 0 sessions added, 0 added, 0 updated, "
                     "150 unchanged."]
    cur, sess = c.load(params)
    made = c.made_by(cur, sess, D(2026, 10, 31))
    assert {"done", "overdue", "dropped", "open"} <= set(made["state"])
    assert (made["state"] == "done").sum() > (~made["on_time"] & (made["state"] == "done")).sum()
    tied = made[made["metric"].notna() & (made["metric"] != "")]
    assert set(tied["metric"]) == {"backlog_open", "overdue_open", "on_time_rate",
                                   "median_days_to_close"}
    assert np.isclose(tied.loc[tied["metric"] == "overdue_open", "target"].iloc[0], 300)


# ---- the real packets (papermill + nbconvert) -------------------------------------------------

@pytest.mark.slow  # ingests the sample city, executes two real notebooks
def test_the_sample_packets_open_with_since_last_session_and_the_follow_up_rate(tmp_path):
    from support.builders import sample_home

    from stat_lib.core.periods import Period
    from stat_lib.run.batch import run_period
    from stat_lib.run.sessions_cli import load_sample
    params = load_params(sample_home(tmp_path))
    ingest(params)
    load_sample(params, echo=lambda _: None)
    records.add_commitment(params, {"session_id": "2026-10-13-sanitation", "department":
                                    "sanitation", "what": SCRIPT, "owner": "<b>Ops</b>",
                                    "due_on": dt.date(2026, 10, 20), "status": "open"})
    result = run_period(params, Period.parse("2026-10"), ["sanitation", "citywide"],
                        workers=1, force=True)
    assert result.ok, result.summary()
    page = (params.outputs / "2026-10" / "sanitation.html").read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="[^"]*">(.*?)<', page)
    assert headings[:2] == ["Since last session", "Scorecard"]
    # the sample's sanitation commitments of 2026-09-08 (see sample_sessions.TIED), as of
    # 2026-10-31: overdue since 10-23 (8 days), the other done 10-30 with 91.4% >= 85%
    assert "overdue: 8 days" in page and "Not moved as promised (down)" in page
    assert "Moved as promised (up): Closed on time 91.4%" in page
    # the injected commitment, due 10-20: 11 days overdue, shown as text
    assert "overdue: 11 days" in page
    assert re.search(r"&lt;script&gt;alert\((&#x27;|')x(&#x27;|')\)&lt;/script&gt;", page)
    assert "<script>alert(" not in page and "&lt;b&gt;Ops&lt;/b&gt;" in page
    city = (params.outputs / "2026-10" / "citywide.html").read_text(encoding="utf-8")
    assert "Follow-up on commitments" in city and "Follow-up rate" in city
    assert "Overdue commitments as of 2026-10-31" in city


@pytest.mark.slow  # over ~1.5 s: real reports of both editions
def test_the_public_edition_names_no_commitment_owner_or_note(store_home):
    from stat_lib.present.reports import CitywideReport, DepartmentReport
    h = store_home
    sid = "2026-09-08-beautification"
    cli(h, "sessions", "add", "2026-09-08", "beautification")
    cli(h, "commitments", "add", sid, "--what", "Clear the backlog", "--owner", "Deputy Ortiz",
        "--due", "2026-10-11", "--notes", "call Maria at home")
    internal = DepartmentReport(str(h), "beautification", "2026-10")
    public = DepartmentReport(str(h), "beautification", "2026-10", audience="public")
    assert "Deputy Ortiz" in internal.since_last_session().data
    assert "Deputy Ortiz" in internal.page_one().data  # the owner is asked, internally
    for html in (public.since_last_session().data, public.page_one().data,
                 CitywideReport(str(h), "2026-10", audience="public").follow_up().data):
        assert "Deputy Ortiz" not in html and "call Maria" not in html
    assert "Clear the backlog" in public.since_last_session().data  # the commitment itself
