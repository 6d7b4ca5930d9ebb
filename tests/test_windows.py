"""The period window and "open" rules are defined once, and every caller agrees with them.

Bug found by the restructuring (named in its closing note): ``metrics.trend`` compared a
period's created count with the period 12 steps back for ``created_change_year``, which is a
year only for months; for quarters it was three years back and for weeks twelve weeks, while
``department_summary`` used the same period a year earlier. Both now use ``Period.year_ago``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from stat_lib import metrics
from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.core.periods import Period
from stat_lib.params import Department

TZ = "America/Los_Angeles"
CAL = BusinessCalendar(TZ)
DEPT = Department(slug="d", name="D", source_codes=["D"],
                  services=[{"name": "Pothole", "sla": "3 business days"}])


def _local(text: str) -> pd.Timestamp:
    """Local wall time; the fall-back hour takes standard time, as ingest does."""
    return pd.Timestamp(text).tz_localize(TZ, ambiguous=False, nonexistent="shift_forward")


def frame(created: list[str], closed: list[str | None]) -> pd.DataFrame:
    local = [_local(c) for c in created]
    ends = [_local(c) if c else pd.NaT for c in closed]
    return pd.DataFrame({
        "request_id": [f"r{i}" for i in range(len(created))], "service_code": "pothole",
        "service_name": "Pothole", "department": "d",
        "status": ["closed" if c else "open" for c in closed],
        "requested_at": pd.Series(local, dtype=f"datetime64[ns, {TZ}]"),
        "updated_at": pd.Series(ends, dtype=f"datetime64[ns, {TZ}]"),
        "closed_at": pd.Series(ends, dtype=f"datetime64[ns, {TZ}]")})


def quarterly() -> pd.DataFrame:
    """Created per quarter: 2023-Q3: 1, 2025-Q3: 2, 2026-Q2: 3, 2026-Q3: 4."""
    created = (["2023-08-01 09:00"] + ["2025-08-01 09:00"] * 2 + ["2026-05-01 09:00"] * 3
               + ["2026-08-01 09:00"] * 4)
    return frame(created, [None] * len(created))


def test_trend_and_summary_agree_on_the_year_ago_change_for_quarters():
    q3 = Period.parse("2026-Q3", TZ)
    summary = metrics.department_summary(quarterly(), DEPT, q3, CAL)
    assert summary["created"] == 4
    assert summary["created_change_prior"] == pytest.approx(4 / 3 - 1)
    assert summary["created_change_year"] == pytest.approx(4 / 2 - 1)  # vs 2025-Q3, by hand
    tr = metrics.trend(quarterly(), DEPT, q3, CAL, n=5)
    last = tr[tr["period"] == "2026-Q3"].set_index("metric")["value"]
    assert last["created_change_year"] == pytest.approx(1.0)  # was 4/1 - 1 = 3.0 (2023-Q3)
    assert last["created_change_prior"] == pytest.approx(1 / 3)


def test_trend_and_summary_agree_on_the_year_ago_change_for_weeks():
    created = ["2025-10-14 09:00"] * 2 + ["2026-07-22 09:00"] * 5 + ["2026-10-13 09:00"] * 3
    df = frame(created, [None] * len(created))
    week = Period.parse("2026-W42", TZ)
    summary = metrics.department_summary(df, DEPT, week, CAL)
    assert summary["created_change_year"] == pytest.approx(3 / 2 - 1)  # 2025-W42 had 2
    tr = metrics.trend(df, DEPT, week, CAL, n=13)
    row = tr[(tr["period"] == "2026-W42") & (tr["metric"] == "created_change_year")]
    assert row["value"].iloc[0] == pytest.approx(0.5)  # was 3/5 - 1 (2026-W30)


def test_every_trend_period_equals_its_summary():
    oct_ = Period.parse("2026-10", TZ)
    df = frame(["2025-10-03 09:00", "2026-09-01 10:00", "2026-10-02 08:00", "2026-10-30 12:00"],
               ["2025-10-06 09:00", None, "2026-10-03 08:00", None])
    tr = metrics.trend(df, DEPT, oct_, CAL, n=13)
    for p in oct_.trailing(13):
        s = metrics.department_summary(df, DEPT, p, CAL, as_of=None)
        got = tr[tr["period"] == p.label].set_index("metric")["value"]
        for k, v in s.items():
            if k in ("department", "period"):
                continue
            want = np.nan if v is None else float(v)
            assert got[k] == pytest.approx(want, nan_ok=True), (p.label, k)


instants = st.datetimes(min_value=pd.Timestamp("2026-09-25").to_pydatetime(),
                        max_value=pd.Timestamp("2026-11-05").to_pydatetime())


@pytest.mark.slow  # 100 examples: 2-4 s
@given(st.lists(st.tuples(instants, st.one_of(st.none(), st.timedeltas(
    min_value=pd.Timedelta(days=-2), max_value=pd.Timedelta(days=20)))), min_size=1,
    max_size=40))
@example([(pd.Timestamp("2026-11-01 01:30").to_pydatetime(), pd.Timedelta(hours=1)),
          (pd.Timestamp("2026-10-31 23:59").to_pydatetime(), None)])  # the fall-back hour
def test_frame_rules_equal_the_window_masks(rows):
    created = [str(c) for c, _ in rows]
    closed = [None if d is None else str(pd.Timestamp(c) + d) for c, d in rows]
    prep = metrics.prepare(frame(created, closed), DEPT, CAL)
    period = Period.parse("2026-10", TZ)
    w = prep.window(period)
    df = prep.frame
    s, e = period.start, period.end
    assert (metrics.created_in(df, s, e).to_numpy() == w.created).all()
    assert (metrics.ended_in(df, s, e).to_numpy() == w.ended).all()
    assert (metrics.closed_in(df, s, e).to_numpy() == w.closed).all()
    assert (metrics.open_at(df, e).to_numpy() == w.open_end).all()
    assert (metrics.open_at(df, s).to_numpy() == w.open_start).all()
    # backlog conservation holds on the window's own counts
    summary = metrics.summary(prep, period)
    assert summary["backlog_open"] == (summary["backlog_start"] + summary["created"]
                                       - summary["closed"] - summary["cancelled"])
