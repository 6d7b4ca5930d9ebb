"""Business days, holidays and due times (hand-checked against a printed calendar).

    October 2026            November 2026
    Mo Tu We Th Fr Sa Su    Mo Tu We Th Fr Sa Su
              1  2  3  4                       1   <- DST ends 02:00
     5  6  7  8  9 10 11     2  3  4  5  6  7  8
    12 13 14 15 16 17 18     9 10 11 12 13 14 15   <- 11 Nov Veterans Day
    19 20 21 22 23 24 25    16 17 18 19 20 21 22
    26 27 28 29 30 31       23 24 25 26 27 28 29   <- 26-27 Nov Thanksgiving (CA: both)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.params import City
from stat_lib.core.errors import ParamsError

TZ = "America/Los_Angeles"
CAL = BusinessCalendar(TZ, "US", "CA", ("2026-10-12",))


def local(*values) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values))).dt.tz_localize(TZ)


def test_holidays_from_package_and_params():
    days = set(CAL.holidays(2026, 2026).astype(str))
    assert {"2026-11-11", "2026-11-26", "2026-11-27", "2026-12-25"} <= days  # package (US-CA)
    assert "2026-10-12" in days  # extra_holidays from params
    assert "2026-03-31" in days  # Cesar Chavez Day: a California (subdivision) holiday
    assert not CAL.is_business_day("2026-10-12") and CAL.is_business_day("2026-10-13")
    assert not CAL.is_business_day("2026-10-31")  # Saturday


def test_from_city():
    city = City.model_validate({"name": "X", "slug": "x", "timezone": TZ, "subdivision": "CA",
                                "extra_holidays": ["2026-10-12"], "sources": [
                                    {"path": "a.csv", "profile": "myla311"}]})
    assert BusinessCalendar.from_city(city) == CAL


def test_unknown_country_is_a_params_error():
    with pytest.raises(ParamsError, match="city.country"):
        BusinessCalendar(TZ, "XX").holidays(2026, 2026)


@pytest.mark.parametrize("requested, n, due", [
    ("2026-10-07 10:00", 1, "2026-10-09 00:00"),   # Wed + 1: end of Thu
    ("2026-10-09 16:00", 1, "2026-10-14 00:00"),   # Fri + 1: Mon 12 is a holiday -> end of Tue 13
    ("2026-10-10 11:00", 5, "2026-10-20 00:00"),   # Sat: (12 holiday) 13 14 15 16 19 -> end Mon 19
    ("2026-11-10 09:00", 2, "2026-11-14 00:00"),   # Tue + 2: 11 Veterans Day -> 12, 13
    ("2026-11-25 09:00", 1, "2026-12-01 00:00"),   # Wed before Thanksgiving: 26, 27 off -> Mon 30
    ("2026-10-30 12:00", 1, "2026-11-03 00:00"),   # across DST: Fri + 1 -> end of Mon 2 Nov (PST)
    ("2026-10-07 10:00", 0.5, "2026-10-09 00:00"),  # a fraction rounds up to a whole day
])
def test_add_business_days(requested, n, due):
    got = CAL.add_business_days(local(requested), n)
    assert got.iloc[0] == pd.Timestamp(due, tz=TZ)


def test_calendar_days_keep_wall_time_across_dst():
    got = CAL.add_calendar_days(local("2026-10-31 10:00", "2024-02-28 09:00"), 3)
    # 31 Oct 10:00 PDT + 3 days = 3 Nov 10:00 PST, which is 72 + 1 = 73 elapsed hours
    assert got.iloc[0] == pd.Timestamp("2026-11-03 10:00", tz=TZ)
    assert got.iloc[0] - local("2026-10-31 10:00").iloc[0] == pd.Timedelta(hours=73)
    # leap year: 28 Feb + 3 days = 2 March (29 Feb exists)
    assert got.iloc[1] == pd.Timestamp("2024-03-02 09:00", tz=TZ)


def test_calendar_days_landing_in_the_spring_gap():
    # 5 March 2026 02:30 + 3 days -> 8 March 02:30 does not exist (clocks jump 02:00 -> 03:00)
    got = CAL.add_calendar_days(local("2026-03-05 02:30"), 3).iloc[0]
    assert got == pd.Timestamp("2026-03-08 03:00", tz=TZ)


def test_business_days_between():
    start = local("2026-10-02 08:00", "2026-10-09 17:00", "2026-10-10 09:00", "2026-10-05 09:00")
    end = local("2026-10-14 12:00", "2026-10-13 08:00", "2026-10-11 09:00", "2026-10-05 18:00")
    got = CAL.business_days_between(start, end).tolist()
    # (2 Oct, 14 Oct]: 5 6 7 8 9 13 14 = 7; (9, 13]: 13 only = 1; (Sat, Sun]: 0; same day: 0
    assert got == [7, 1, 0, 0]


def test_missing_values_stay_missing():
    s = pd.Series([pd.Timestamp("2026-10-07 10:00", tz=TZ), pd.NaT], dtype=f"datetime64[ns, {TZ}]")
    assert CAL.add_business_days(s, 1).isna().tolist() == [False, True]
    assert np.isnan(CAL.business_days_between(s, s).iloc[1])


def test_naive_timestamps_rejected():
    with pytest.raises(TypeError, match="tz-aware"):
        CAL.add_business_days(pd.Series(pd.to_datetime(["2026-10-07"])), 1)


@settings(max_examples=50, deadline=None)
@given(st.datetimes(pd.Timestamp("2024-01-01"), pd.Timestamp("2027-12-01")), st.integers(1, 30))
def test_business_due_is_consistent_with_business_days_taken(moment, n):
    # closing exactly at the due time took n business days (on time: taken <= n) and the day
    # before the due day is a business day
    req = pd.Series([pd.Timestamp(moment)]).dt.tz_localize(TZ, nonexistent="shift_forward",
                                                           ambiguous=False)
    due = CAL.add_business_days(req, n)
    last_day = due - pd.Timedelta(hours=12)
    assert CAL.business_days_between(req, last_day).iloc[0] == n
    assert CAL.is_business_day(last_day.iloc[0])


def _midnight(day) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(TZ, ambiguous=False, nonexistent="shift_forward")


def _rows(n: int, seed: int) -> pd.Series:
    """``n`` instants over 2025-2027 (both DST changes of each year), some missing."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz=TZ)
    got = pd.Series(start + pd.to_timedelta(rng.integers(0, 3 * 365 * 86400, n), unit="s"))
    got[rng.random(n) < 0.05] = pd.NaT
    return got


def test_business_due_of_many_rows_equals_a_row_by_row_reference():
    # the per-(date, days) computation equals numpy's busday_offset taken row by row
    req = _rows(3000, 1)
    days = np.random.default_rng(2).choice([0.5, 1, 2, 3, 5, 10, np.nan], len(req))
    got = CAL.add_business_days(req, days)
    hol = CAL.holidays(2024, 2029)
    for r, n, g in zip(req, days, got):
        if pd.isna(r) or np.isnan(n):
            assert pd.isna(g)
            continue
        day = np.busday_offset(np.datetime64(r.date()), int(np.ceil(n)), roll="backward",
                               holidays=hol) + np.timedelta64(1, "D")
        assert g == _midnight(day)
    assert str(got.dtype) == f"datetime64[s, {TZ}]" and got.index.equals(req.index)


def test_business_days_between_many_rows_equals_a_row_by_row_reference():
    start, end = _rows(3000, 3), _rows(3000, 4)
    got = CAL.business_days_between(start, end)
    hol = CAL.holidays(2024, 2029)
    one = np.timedelta64(1, "D")
    for a, b, g in zip(start, end, got):
        if pd.isna(a) or pd.isna(b):
            assert np.isnan(g)
            continue
        want = np.busday_count(np.datetime64(a.date()) + one, np.datetime64(b.date()) + one,
                               holidays=hol)
        assert g == want
