"""Per-district figures: the one-pass ``report.by_district`` equals ``department_summary`` of
each district's rows (the loop it replaced), on a hand fixture, on random frames and on the
sample city's store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stat_lib import metrics
from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.params import Department
from stat_lib.core.periods import Period
from stat_lib.metrics import by_district

TZ = "America/Los_Angeles"
CAL = BusinessCalendar(TZ, "US", "CA")
OCT = Period.parse("2026-10", TZ)
DEPT = Department.model_validate({
    "slug": "sanitation", "name": "Bureau of Sanitation", "source_codes": ["BOS"],
    "result": "healthy-sustainable-communities",
    "services": [{"name": "Bulky Items", "code": "bulky", "sla": "5 business days"},
                 {"name": "Dead Animal Removal", "code": "dead", "sla": "48 hours"},
                 {"name": "Feedback", "code": "feedback"}]})
FIGURES = ["created", "closed", "on_time_met", "on_time_eligible", "on_time_rate",
           "backlog_open", "overdue_open"]


def frame(rows) -> pd.DataFrame:
    """rows: (district, service, status, requested local, end local or None, raw status)."""
    cols = list(zip(*rows)) if rows else [[]] * 6

    def local(values):
        # generated wall-clock times may fall in a DST gap or the repeated fall-back hour
        return pd.to_datetime(pd.Series(list(values), dtype="object")).dt.tz_localize(
            TZ, ambiguous="NaT", nonexistent="shift_forward")
    req, end = local(cols[3]), local(cols[4])
    return pd.DataFrame({
        "request_id": [f"R{i}" for i in range(len(rows))], "service_code": list(cols[1]),
        "service_name": list(cols[1]), "department": "sanitation", "status": list(cols[2]),
        "status_raw": list(cols[5]), "requested_at": req, "updated_at": end.fillna(req),
        "closed_at": end, "district_council": pd.Series(list(cols[0]), dtype="object")})


def reference(prep, period, column: str = "district_council") -> pd.DataFrame:
    """The loop that ``by_district`` replaced: department_summary per district subset."""
    rows = []
    for key, sub in prep.frame.groupby(column, sort=True):
        part = metrics.Prepared(sub, prep.department, prep.calendar, prep.as_of)
        s = metrics.department_summary(part, prep.department, period, prep.calendar)
        rows.append({"key": key, **{k: s[k] for k in FIGURES}})
    return pd.DataFrame(rows, columns=["key", *FIGURES])


def compare(df: pd.DataFrame, period: Period) -> pd.DataFrame:
    prep = metrics.prepare(df, DEPT, CAL)
    got = by_district(prep, period, "council").rename(columns={"count": "on_time_eligible"})
    want = reference(prep, period)
    assert list(got["key"]) == list(want["key"])
    for col in FIGURES:
        a, b = got[col].tolist(), want[col].tolist()
        assert all((x is None and y is None) or x == y or (pd.isna(x) and pd.isna(y))
                   for x, y in zip(a, b)), (col, a, b)
    return got


def test_by_district_by_hand():
    # October 2026. District "1": R0 bulky Thu 1 Oct 09:00 closed Tue 6 Oct (due end of
    # 8 Oct: on time), R1 bulky Fri 2 Oct closed Mon 19 Oct (due end of 9 Oct: late),
    # R2 dead Sat 3 Oct open (48 h -> due 5 Oct: overdue at 1 Nov).
    # District "2": R3 bulky 20 Sep closed 1 Oct 10:00 (closed in October, late), R4 bulky
    # 5 Oct closed 6 Oct as a duplicate (closed, not eligible), R5 feedback 7 Oct open (no SLA).
    # R6 has no district: no group. "10" sorts before "2" (string keys, as groupby).
    # R7 "10": bulky 30 Oct open, due 6 Nov: open, not overdue.
    rows = [("1", "bulky", "closed", "2026-10-01 09:00", "2026-10-06 09:00", "Closed"),
            ("1", "bulky", "closed", "2026-10-02 09:00", "2026-10-19 09:00", "Closed"),
            ("1", "dead", "open", "2026-10-03 09:00", None, "Open"),
            ("2", "bulky", "closed", "2026-09-20 09:00", "2026-10-01 10:00", "Closed"),
            ("2", "bulky", "closed", "2026-10-05 09:00", "2026-10-06 09:00", "Duplicate"),
            ("2", "feedback", "open", "2026-10-07 09:00", None, "Open"),
            (None, "bulky", "closed", "2026-10-08 09:00", "2026-10-09 09:00", "Closed"),
            ("10", "bulky", "open", "2026-10-30 09:00", None, "Open")]
    got = compare(frame(rows), OCT).set_index("key")
    assert list(got.index) == ["1", "10", "2"]
    # "1": created 3, closed 2, on time 1 of 2 (0.5), open 1, overdue 1
    assert got.loc["1", FIGURES].tolist() == [3, 2, 1, 2, 0.5, 1, 1]
    # "2": created 2 (R4 R5), closed 2 (R3 R4), eligible 1 (R3, late) -> 0.0, open 1 (R5, no
    # due time: not overdue)
    assert got.loc["2", FIGURES].tolist() == [2, 2, 0, 1, 0.0, 1, 0]
    # "10": created 1, nothing closed -> rate n/a, open 1, not overdue
    r = got.loc["10"]
    assert (r["created"], r["closed"], r["on_time_eligible"]) == (1, 0, 0)
    assert pd.isna(r["on_time_rate"]) and (r["backlog_open"], r["overdue_open"]) == (1, 0)


def test_by_district_of_nothing_is_empty():
    assert by_district(metrics.prepare(frame([]), DEPT, CAL), OCT, "council").empty


BASE = pd.Timestamp("2026-08-01")


@st.composite
def district_frames(draw):
    rows = []
    for _ in range(draw(st.integers(1, 40))):
        start = BASE + pd.Timedelta(hours=draw(st.integers(0, 24 * 120)))
        status = draw(st.sampled_from(["open", "closed", "cancelled"]))
        delta = pd.Timedelta(hours=draw(st.integers(-48, 24 * 40)))
        rows.append((draw(st.sampled_from(["a", "b", "c", None])),
                     draw(st.sampled_from(["bulky", "dead", "feedback"])), status,
                     str(start), None if status == "open" else str(start + delta),
                     draw(st.sampled_from(["Closed", "Duplicate"]))))
    return frame(rows)


@pytest.mark.slow  # 60 examples: about 3.5 s
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(district_frames(), st.sampled_from(["2026-09", "2026-10", "2026-W40", "2026-Q4"]))
def test_by_district_equals_department_summary_per_district(df, period):
    got = compare(df, Period.parse(period, TZ))
    # every placed request is created in at most one district: the sum is the whole
    prep = metrics.prepare(df, DEPT, CAL)
    placed = metrics.Prepared(prep.frame[prep.frame["district_council"].notna()], DEPT, CAL,
                              prep.as_of)
    whole = metrics.department_summary(placed, DEPT, Period.parse(period, TZ), CAL)
    assert (int(np.sum(got["created"])) if len(got) else 0) == whole["created"]


@pytest.mark.slow  # ingests the bundled sample city (120,900 rows) once per session
@pytest.mark.parametrize("period", ["2026-10"])
def test_by_district_on_the_sample_store(sample_city, period):
    """The sample city's store, built for the session (conftest.sample_city): every boundary
    layer, for sanitation."""
    from stat_lib.store import load_requests
    params = sample_city
    p = Period.parse(period, params.city.timezone)
    requests = load_requests(params, ["sanitation"], end=p.end)
    prep = metrics.prepare(requests, params.department("sanitation"),
                           BusinessCalendar.from_city(params.city))
    for b in params.city.boundaries:
        got = by_district(prep, p, b.layer)
        want = reference(prep, p, f"district_{b.layer}")
        assert len(got) > 1 and got["key"].tolist() == want["key"].tolist()
        for col in FIGURES:
            g = got["count" if col == "on_time_eligible" else col]
            assert g.fillna(-1).tolist() == want[col].fillna(-1).tolist(), col
