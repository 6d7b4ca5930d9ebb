"""Permits: the stop-clock, compliance with the standards and the redress ledger, by hand.

Calendar: Los Angeles (US/CA holidays). In Oct-Dec 2026 those are Wed 11 Nov (Veterans Day),
Thu 26 Nov (Thanksgiving), Fri 27 Nov (Day After Thanksgiving, a CA state holiday) and
Fri 25 Dec. Standard for "Plan check": 5 business days, redress 20% of the fee per business
day late, capped at 100%. The clock counts business days in (complete date, issue date],
minus those in each stop (stop start date, stop end date].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.core.periods import Period
from stat_lib.metrics import permits as pm
from stat_lib.metrics.registry import computed
from stat_lib.params.models import Department
from support.html_text import row_text

TZ = "America/Los_Angeles"
CAL = BusinessCalendar(TZ, "US", "CA")
DEPT = Department(slug="building-and-safety", name="Building and Safety", source_codes=["DBS"],
                  permit_standards=[{"type": "Plan check", "within_business_days": 5,
                                     "redress": {"percent_per_day": 20, "cap_percent": 100}}])
NOV, OCT = Period.parse("2026-11", TZ), Period.parse("2026-10", TZ)


def t(day: str, hour: int = 9):
    return pd.Timestamp(f"{day} {hour:02d}:00", tz=TZ) if day else pd.NaT


# id, type, received, complete, issued, fee, redress paid
ROWS = [
    ("A", "Plan check", "2026-11-20", "2026-11-20", "2026-12-02", 300, None),  # holidays + stop
    ("B", "Plan check", "2026-10-05", "2026-10-05", "2026-10-30", 400, None),  # cap reached
    ("C", "Plan check", "2026-10-05", "2026-10-05", "2026-10-13", 250, 50),    # 1 day late
    ("D", "Plan check", "2026-11-02", "2026-11-02", "2026-11-13", 500, None),  # overlapping stops
    ("E", "Plan check", "2026-11-02", "2026-11-02", "2026-11-18", 1000, 300),  # cap, part paid
    ("F", "Plan check", "2026-11-02", "", "2026-11-10", 100, None),            # no complete date
    ("G", "Plan check", "2026-11-20", "2026-11-20", "", 100, None),            # pending
    ("H", "Sign", "2026-11-02", "2026-11-02", "2026-11-30", 80, None),         # no standard
]
STOPS = [("A", "2026-11-23", "2026-11-25"),
         ("D", "2026-11-03", "2026-11-05"), ("D", "2026-11-04", "2026-11-06"),
         ("Z", "2026-11-04", "2026-11-06")]  # a stop of another permit changes nothing here


def frames(rows=ROWS, stops=STOPS):
    permits = pd.DataFrame({
        "permit_id": [r[0] for r in rows], "permit_type": [r[1] for r in rows],
        "department": DEPT.slug, "status": "x",
        "received_at": pd.Series([t(r[2]) for r in rows], dtype=f"datetime64[ns, {TZ}]"),
        "complete_at": pd.Series([t(r[3]) for r in rows], dtype=f"datetime64[ns, {TZ}]"),
        "issued_at": pd.Series([t(r[4], 15) for r in rows], dtype=f"datetime64[ns, {TZ}]"),
        "fee": [float(r[5]) for r in rows],
        "redress_paid": [np.nan if r[6] is None else float(r[6]) for r in rows]})
    stops = pd.DataFrame({
        "permit_id": [s[0] for s in stops],
        "stop_start": pd.Series([t(s[1], 10) for s in stops], dtype=f"datetime64[ns, {TZ}]"),
        "stop_end": pd.Series([t(s[2], 16) for s in stops], dtype=f"datetime64[ns, {TZ}]")})
    return permits, stops


@pytest.fixture(scope="module")
def prep():
    return pm.prepare_permits(*frames(), DEPT, CAL)


def test_stop_clock_across_holidays_and_a_clock_stop(prep):
    tbl = prep.table.set_index("permit_id")
    # A: (Fri 20 Nov, Wed 2 Dec] = Mon 23, Tue 24, Wed 25, [Thu 26, Fri 27 holidays], Mon 30,
    # Tue 1, Wed 2 -> 6 open days; the stop (Mon 23, Wed 25] removes Tue 24 and Wed 25 -> 4
    assert tuple(tbl.loc["A", ["open_days", "stopped_days", "business_days"]]) == (6, 2, 4)
    assert tbl.loc["A", "met"] and not tbl.loc["A", "late"]
    # D: (Mon 2, Fri 13 Nov] = 3, 4, 5, 6, 9, 10, [11 Veterans Day], 12, 13 -> 8; the stops
    # (3, 5] and (4, 6] overlap: 4, 5, 6 stopped once each -> 5 = the standard: met
    assert tuple(tbl.loc["D", ["open_days", "stopped_days", "business_days"]]) == (8, 3, 5)
    assert tbl.loc["D", "met"]
    # F: no complete date, G: not issued -> no clock; H: a type without a standard
    assert tbl.loc[["F", "G"], "business_days"].isna().all()
    assert not tbl.loc[["F", "G", "H"], "measured"].any()
    # H: (2, 30 Nov] has 20 weekdays (3-6, 9-13, 16-20, 23-27, 30) minus 11, 26, 27 Nov = 17
    assert tbl.loc["H", "business_days"] == 17


def test_a_stop_without_an_end_runs_to_the_issue_date():
    permits, stops = frames(ROWS[:1], [("A", "2026-11-30", "")])
    tbl = pm.prepare_permits(permits, stops, DEPT, CAL).table
    # open 6 days (as above); stopped (Mon 30 Nov, Wed 2 Dec] = Tue 1, Wed 2 -> 4
    assert tbl.loc[0, "business_days"] == 4


def test_redress_with_the_cap_reached(prep):
    tbl = prep.table.set_index("permit_id")
    # B: (Mon 5, Fri 30 Oct] has 19 business days (no October holiday): 14 late x 20% = 280%,
    # capped at 100% of the $400 fee
    assert tuple(tbl.loc["B", ["business_days", "days_late", "percent", "owed"]]) == (
        19, 14, 100, 400)
    assert (tbl.loc["B", "delivered"], tbl.loc["B", "outstanding"]) == (0, 400)
    # C: (5, 13 Oct] = 6, 7, 8, 9, 12, 13 -> 6: 1 day late, 20% of $250 = $50, paid $50
    assert tuple(tbl.loc["C", ["business_days", "percent", "owed", "outstanding"]]) == (
        6, 20, 50, 0)
    # E: (2, 18 Nov] = 3, 4, 5, 6, 9, 10, 12, 13, 16, 17, 18 -> 11: 6 late, 120% -> 100% of
    # $1,000; $300 paid -> $700 outstanding
    assert tuple(tbl.loc["E", ["days_late", "owed", "delivered", "outstanding"]]) == (
        6, 1000, 300, 700)


def test_compliance_and_ledger_totals_by_month(prep):
    nov = pm.permit_summary(prep, NOV)
    # issued in November: D (met), E (late), F (no complete date), H (no standard)
    assert (nov["permits_issued"], nov["permits_measured"], nov["permits_met"]) == (4, 2, 1)
    assert nov["permit_compliance"] == 0.5 and nov["permits_no_complete_date"] == 1
    assert nov["median_permit_business_days"] == 8  # median of D 5 and E 11
    # received in November: A, D, E, F, G, H; pending at its end: A (issued 2 Dec) and G
    assert (nov["permits_received"], nov["permits_pending"]) == (6, 2)
    assert (nov["permit_redress_owed"], nov["permit_redress_outstanding"]) == (1000, 700)
    octo = pm.permit_summary(prep, OCT)
    assert octo["permit_compliance"] == 0.0 and octo["permits_late"] == 2
    assert (octo["permit_redress_owed"], octo["permit_redress_delivered"]) == (450, 50)
    ledger = pm.ledger_by_month(prep).set_index("month")
    # October: B $400 + C $50 owed, C's $50 delivered, B's $400 outstanding; November: E
    assert ledger.loc["2026-10", ["late", "owed", "delivered", "outstanding"]].tolist() == [
        2, 450, 50, 400]
    assert ledger.loc["2026-11", ["late", "owed", "delivered", "outstanding"]].tolist() == [
        1, 1000, 300, 700]
    assert list(ledger.index) == ["2026-10", "2026-11"]  # December's A was on time
    assert list(pm.redress_ledger(prep, NOV)["permit_id"]) == ["E"]
    by_type = pm.compliance_by_type(prep, NOV).set_index("permit_type")
    assert by_type.loc["Plan check", ["issued", "measured", "met", "late"]].tolist() == [
        3, 2, 1, 1]


def test_clock_distribution_counts_each_clocked_permit_once(prep):
    dist = pm.clock_distribution(prep, NOV, top=10).set_index("business_days")["permits"]
    # November's clocks: D 5, E 11 (10+), H 17 (10+); F has none
    assert (dist["5"], dist["10+"], int(dist.sum())) == (1, 2, 3)


# ---- invariants ---------------------------------------------------------------------------

BASE = pd.Timestamp("2026-01-05", tz=TZ)


@st.composite
def permit_frames(draw):
    n = draw(st.integers(0, 25))
    rows, stops = [], []
    for i in range(n):
        rec = draw(st.integers(0, 300))
        comp = rec + draw(st.integers(0, 10))
        issued = draw(st.one_of(st.none(), st.integers(comp, comp + 60)))
        day = lambda k: "" if k is None else str((BASE + pd.Timedelta(days=k)).date())
        rows.append((f"P{i}", draw(st.sampled_from(["Plan check", "Sign"])), day(rec),
                     day(comp), day(issued), float(draw(st.integers(0, 900))), None))
        for _ in range(draw(st.integers(0, 2))):
            a = draw(st.integers(comp - 3, comp + 40))
            stops.append((f"P{i}", day(a), day(a + draw(st.integers(0, 15)))))
    return frames(rows, stops)


@pytest.mark.slow  # over ~1.5 s: 40 random permit tables through the stop-clock
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(permit_frames(), st.integers(1, 11))
def test_conservation_and_bounds(data, month):
    prep = pm.prepare_permits(*data, DEPT, CAL)
    tbl = prep.table
    clocked = tbl["business_days"].notna()
    assert (tbl.loc[clocked, "business_days"] >= 0).all()
    assert (tbl.loc[clocked, "stopped_days"] <= tbl.loc[clocked, "open_days"]).all()
    assert (tbl.loc[tbl["late"], "owed"] <= tbl.loc[tbl["late"], "fee"] + 1e-9).all()
    a = Period.parse(f"2026-{month:02d}", TZ)
    s, s2 = pm.permit_summary(prep, a), pm.permit_summary(prep, a.prior())
    # pending conserves: pending at the end = pending at the start + received - issued
    assert s["permits_pending"] == s2["permits_pending"] + s["permits_received"] - \
        s["permits_issued"]
    for m in computed("permits"):
        if m.unit == "rate" and s[m.id] is not None:
            assert 0 <= s[m.id] <= 1
    assert s["permits_met"] + s["permits_late"] == s["permits_measured"] <= s["permits_issued"]
    assert s["permit_redress_outstanding"] <= s["permit_redress_owed"] + 1e-9


# ---- ingest: rows in = stored + rejected ---------------------------------------------------

PERMIT_HEADER = "permit_id,permit_type,department,received_at,complete_at,issued_at,status,fee," \
                "redress_paid"
PERMIT_LINES = [
    "P1,Plan check,DBS,2026-11-02 09:00,2026-11-02 09:00,2026-11-13 15:00,Issued,$500,",  # ok
    ",Plan check,DBS,2026-11-02,2026-11-02,2026-11-13,Issued,500,",         # 2 no id
    "P3,,DBS,2026-11-02,2026-11-02,2026-11-13,Issued,500,",                  # 3 no type
    "P4,Plan check,DBS,,2026-11-02,2026-11-13,Issued,500,",                  # 4 no received
    "P5,Plan check,DBS,31/31/2026,2026-11-02,2026-11-13,Issued,500,",        # 5 bad received
    "P6,Plan check,XYZ,2026-11-02,2026-11-02,2026-11-13,Issued,500,",        # 6 department
    "P7,Plan check,DBS,2026-11-02,soon,2026-11-13,Issued,500,",              # 7 bad complete
    "P8,Plan check,DBS,2026-11-02,2026-11-10,2026-11-02,Issued,500,",        # 8 issued first
    "P9,Plan check,DBS,2026-11-02,2026-11-02,2026-11-13,Issued,ten,",        # 9 bad fee
    "P1,Plan check,DBS,2026-11-02,2026-11-02,,Pending,500,",                 # 10 older P1
    "P2,Plan check,DBS,11/03/2026,,11/20/2026,Issued,1200,100",              # 11 ok, flagged
    "P12,Plan check,DBS,2026-11-02,2026-11-02,2026-11-13,Issued,500,,extra",  # 12 malformed
    "P13,Plan check,DBS,1990-01-02,1990-01-02,2026-11-13,Issued,500,",       # 13 before 1995
    "P14,Plan check,DBS,2026-11-02,2026-11-02,2099-01-02,Issued,500,",       # 14 future issue
]
STOP_LINES = ["P1,2026-11-03,2026-11-05",   # ok
              ",2026-11-03,2026-11-05",     # 2 no id
              "P1,someday,2026-11-05",      # 3 bad start
              "P1,2026-11-09,2026-11-04",   # 4 ends before it starts
              "P9,2026-11-03,2026-11-05",   # 5 P9 was rejected: unknown permit
              "P2,2026-11-16,",             # 6 ok, still stopped at issue
              "P1,1980-01-01,1980-01-03"]   # 7 before the source's earliest_date


def permits_home(base, permit_lines=PERMIT_LINES):
    import yaml
    from support.builders import GRID, GRID_DEPARTMENTS, city_home, myla_row, write_csv
    dbs = {"name": "Building and Safety", "source_codes": ["DBS"],
           "permit_standards": [{"type": "Plan check", "within_business_days": 5,
                                 "redress": {"percent_per_day": 20}}]}
    home = city_home(base, [{"name": "s0", "path": str(write_csv(base / "x.csv", [myla_row()])),
                             "profile": "myla311"}], boundaries=GRID,
                     departments={**GRID_DEPARTMENTS, "dbs": dbs})
    (base / "permits.csv").write_text("\n".join([PERMIT_HEADER, *permit_lines]) + "\n")
    (base / "stops.csv").write_text("\n".join(["permit_id,stop_start,stop_end", *STOP_LINES])
                                    + "\n")
    city_file = home / "params" / "city.yaml"
    city = yaml.safe_load(city_file.read_text())
    city["permits"] = [{"name": "permits", "path": "permits.csv", "profile": "permits",
                        "max_malformed": 0.5}]
    city["permit_stops"] = [{"name": "stops", "path": "stops.csv", "profile": "permit-stops"}]
    city_file.write_text(yaml.safe_dump(city, sort_keys=False))
    return home


def test_permit_rows_in_equal_stored_plus_rejected(tmp_path):
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.store import connect
    from stat_lib.store.permits import load_permits, permit_rejects
    params = load_params(permits_home(tmp_path))
    report = ingest(params).kinds["permits"]
    permits, stops = load_permits(params, "dbs")
    assert sorted(permits["permit_id"]) == ["P1", "P2"]
    assert sorted(zip(stops["permit_id"], stops["stop_end"].isna())) == [("P1", False),
                                                                          ("P2", True)]
    with connect(params) as con:
        rejects = con.execute("SELECT source_file, source_row, reason, detail, raw FROM "
                              "permit_rejects ORDER BY 1, 2").df()
    got = {(f, r): reason for f, r, reason in zip(rejects.source_file, rejects.source_row,
                                                   rejects.reason)}
    assert got == {("permits.csv", 2): "missing_permit_id", ("permits.csv", 3):
                   "missing_permit_type", ("permits.csv", 4): "missing_received_at",
                   ("permits.csv", 5): "bad_received_at", ("permits.csv", 6):
                   "unknown_department", ("permits.csv", 7): "bad_complete_at",
                   ("permits.csv", 8): "issued_before_complete", ("permits.csv", 9): "bad_fee",
                   ("permits.csv", 10): "duplicate", ("permits.csv", 12): "malformed_line",
                   ("permits.csv", 13): "implausible_received_at",
                   ("permits.csv", 14): "implausible_issued_at",
                   ("stops.csv", 7): "implausible_stop_date",
                   ("stops.csv", 2): "missing_permit_id", ("stops.csv", 3): "bad_stop_start",
                   ("stops.csv", 4): "stop_end_before_start", ("stops.csv", 5):
                   "unknown_permit"}
    detail = dict(zip(rejects.source_row[rejects.source_file == "permits.csv"],
                      rejects.detail[rejects.source_file == "permits.csv"]))
    assert detail[6] == "department value XYZ" and detail[9] == "fee ten"
    assert detail[10] == "superseded by permits.csv row 1"
    # rows in = stored + rejected: permits 14 = 2 + 12, stops 7 = 2 + 5
    (p, s) = report.sources
    assert (p.rows_read, p.loaded, p.rows_rejected) == (14, 2, 12)
    assert (s.rows_read, s.loaded, s.rows_rejected) == (7, 2, 5)
    assert p.quality == {"no_complete_date": 1}  # P2
    # the department's own rejects: rows 2-5, 7-10, 13, 14 (row 6's XYZ and the malformed
    # row 12 have no department)
    assert sum(permit_rejects(params, "dbs").values()) == 10
    p1 = permits.set_index("permit_id").loc["P1"]
    assert (p1["fee"], p1["complete_at"].hour) == (500.0, 9)  # "$500" read as 500
    p2 = permits.set_index("permit_id").loc["P2"]
    assert (p2["received_at"].day, p2["redress_paid"], p2["quality"]) == (3, 100.0,
                                                                         "no_complete_date")
    assert "Permits: 21 rows read, 2 permits and 2 clock stops stored, 17 rejected." in \
        ingest(params).summary()


def test_permit_data_changes_the_batch_input_hash(tmp_path):
    from stat_lib.core.manifest import input_hash
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.run.batch import _own_inputs
    from stat_lib.store.permits import permit_fingerprint

    home = permits_home(tmp_path)
    nb = home / "department.ipynb"
    nb.write_text("{}")

    def hashed():
        params = load_params(home)
        ingest(params)
        inputs = _own_inputs(params, NOV, "dbs", nb, {"department": "dbs"})
        return permit_fingerprint(params, "dbs"), input_hash(inputs)

    before = hashed()
    assert hashed() == before  # re-ingested, same rows: same hashes
    lines = [PERMIT_LINES[0].replace("2026-11-13 15:00", "2026-11-16 15:00"), *PERMIT_LINES[1:]]
    (home / "permits.csv").write_text("\n".join([PERMIT_HEADER, *lines]) + "\n")
    after = hashed()
    assert after[0] != before[0] and after[1] != before[1]  # P1 issued later: both change


# ---- packets: a real DepartmentReport and CitywideReport over an ingested store -------------

def test_the_permits_section_of_a_real_department_report(tmp_path):
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.present.reports import CitywideReport, DepartmentReport
    home = permits_home(tmp_path)
    ingest(load_params(home))
    report = DepartmentReport(str(home), "dbs", "2026-11")
    parts = report.permits()
    text = "\n".join(p.data for p in parts if isinstance(getattr(p, "data", None), str))
    assert parts[0].data == "## Permits: service standards and redress"
    # P1: (Mon 2, Fri 13 Nov] = 3, 4, 5, 6, 9, 10, 12, 13 (11th: Veterans Day) = 8 open days,
    # the stop (3, 5 Nov] takes 4 and 5 -> 6 business days: 1 late, 20% of $500 = $100 owed,
    # nothing paid. P2 has no complete date: issued, not measured.
    assert "<strong>0.0%</strong> within the standard (0 of 1 measured)" in text
    rows = " || ".join(row_text(text))
    assert "Plan check | 5 | 2 | 0.0% (0 of 1)" in rows  # by type
    assert "Redress owed on 1 late permits: $100, delivered $0, outstanding <strong>$100" in text
    assert "1 issued permits have no complete-application date" in text
    assert "P1 | Plan check | 6 / 5 | $500 | 20%" in rows
    assert "2026-11 | 1 | $100 | $0 | $100" in rows  # ledger
    assert "less the business days the clock was stopped" in text  # the convention, stated
    assert "10 permit rows of this department were rejected" in text
    # its data is permits only: permit tiles, a one-line note in the 311 sections
    assert 'data-metric="permit_redress_outstanding">$100<' in report.headline().data
    assert "No 311 requests" in report.maps()[0].data
    # P1, P2 stored; P2 has no complete date; rows 2-5, 7-10, 13, 14 are dbs's rejects
    assert report.data_quality().data.startswith(
        '<p class="stat-quality">2 permits for Building and Safety received before the period '
        "ended; 1 without a complete-application date (not measured); 10 permit rows rejected")
    # what moved judges the permits measures (the city's 311 data ends in Jan 2024, so
    # November 2026 is a partial period for every department: shown, not judged)
    moved = report.what_moved().data
    assert "Redress outstanding (partial period: not judged" in moved
    assert "No 311 requests" not in moved
    assert DepartmentReport(str(home), "bos", "2026-11").permits() == []  # no permits
    city = CitywideReport(str(home), "2026-11")
    assert city.permits_only == ["dbs"]
    assert "Building and Safety" not in city.headline_table().data
    # dbs has no request: the map sums bos's districts alone (its Jan 2024 request, square A)
    assert city.by_district("grid").set_index("key")["created"].to_dict() == {"A": 0}
    lede = city.permits()[1].data
    assert "late in November 2026: <strong>$100</strong>, of which <strong>$100</strong>" in lede


def test_the_sample_permits_regenerate_byte_for_byte(tmp_path):
    from support.builders import ROOT

    from stat_lib.ingest.sample_permits import write
    for made in write(tmp_path):
        assert made.read_bytes() == (ROOT / "data" / "sample" / made.name).read_bytes(), made


def test_a_permit_source_without_a_required_column_names_it_and_the_fix(tmp_path):
    from stat_lib.core.errors import SourceError
    from stat_lib.ingest import ingest
    from stat_lib.ingest.validate import validate
    from stat_lib.params import load_params
    home = permits_home(tmp_path)
    (home / "permits.csv").write_text("permit_id,department,received_at\nP1,DBS,2026-11-02\n")
    problems = validate(home)
    assert any("lacks required column(s): permit_type <- permit_type | type | permittype"
               in p and "columns: {rename:" in p for p in problems), problems
    with pytest.raises(SourceError, match="permit_type"):
        ingest(load_params(home))


def test_two_standards_for_one_permit_type_name_the_file_and_the_fix(tmp_path):
    import yaml

    from stat_lib.core.errors import ParamsErrors
    from stat_lib.params import load_params
    home = permits_home(tmp_path)
    dbs = home / "params" / "departments" / "dbs.yaml"
    body = yaml.safe_load(dbs.read_text())
    body["permit_standards"] *= 2
    dbs.write_text(yaml.safe_dump(body))
    with pytest.raises(ParamsErrors) as err:
        load_params(home)
    text = str(err.value)
    assert "dbs.yaml" in text and "'Plan check' have more than one standard" in text


GOOD = "P{i},Plan check,DBS,2026-11-02,2026-11-03,2026-11-10,Issued,100,"
BAD_FIELDS = {1: ["", "P1"], 2: ["", "Sign"], 3: ["DBS", "XYZ"],
              4: ["", "2026-13-40", "1990-01-01"], 5: ["", "soon", "2026-10-01"],
              6: ["", "2026-10-01", "2099-01-01"], 8: ["", "ten", "$1200.50"], 9: ["", "x", "20"]}


@st.composite
def permit_lines(draw):
    lines = []
    for i in range(draw(st.integers(0, 12))):
        fields = GOOD.format(i=draw(st.integers(0, 6))).split(",")
        for col, choices in BAD_FIELDS.items():
            if draw(st.booleans()) and draw(st.booleans()):
                fields[col - 1] = draw(st.sampled_from(choices))
        line = ",".join(fields) + (",extra" if draw(st.integers(0, 9)) == 0 else "")
        lines.append(line)
    return lines


@pytest.mark.slow  # about 8 s: one ingest per example
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(permit_lines())
def test_every_permit_row_is_stored_or_rejected(lines):
    import tempfile
    from pathlib import Path

    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.store import connect
    with tempfile.TemporaryDirectory() as tmp:
        params = load_params(permits_home(Path(tmp), lines))
        params.city.permits[0].max_malformed = 1.0
        report = ingest(params).kinds["permits"]
        with connect(params) as con:
            stored, stops, rejected = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                       for t in ("permits", "permit_stops", "permit_rejects"))
    assert report.rows_read == len(lines) + len(STOP_LINES)
    assert stored + stops + rejected == report.rows_read  # rows in = stored + rejected
    assert report.permits_stored == stored and report.stops_stored == stops
