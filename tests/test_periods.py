"""Periods: parsing, spans in the city's timezone, prior / year-ago / trailing arithmetic."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.errors import UsageError
from stat_lib.core.periods import Period

TZ = "America/Los_Angeles"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.mark.parametrize("text, start, end", [
    ("2026-10", "2026-10-01", "2026-11-01"),
    ("2026-W42", "2026-10-12", "2026-10-19"),   # ISO week 42 of 2026 starts Monday 12 Oct
    ("2026-Q3", "2026-07-01", "2026-10-01"),
    ("2026-12", "2026-12-01", "2027-01-01"),
    ("2026-W53", "2026-12-28", "2027-01-04"),   # 2026 has 53 ISO weeks (1 Jan is a Thursday)
    ("2021-W01", "2021-01-04", "2021-01-11"),   # week 1 of 2021 starts in January
    ("2026", "2026-01-01", "2027-01-01"),
])
def test_spans(text, start, end):
    p = Period.parse(text, TZ)
    assert (p.start, p.end) == (ts(start), ts(end))
    assert p.label == text and str(p) == text


def test_dst_offsets_of_boundaries():
    nov = Period.parse("2026-11", TZ)
    # 1 Nov 00:00 is still PDT (DST ends at 02:00); 1 Dec is PST
    assert nov.start.utcoffset() == dt.timedelta(hours=-7)
    assert nov.end.utcoffset() == dt.timedelta(hours=-8)
    # the month is 30 days and one hour long in elapsed time
    assert nov.end - nov.start == pd.Timedelta(days=30, hours=1)


def test_prior_year_ago_trailing():
    p = Period.parse("2026-01", TZ)
    assert str(p.prior()) == "2025-12" and str(p.year_ago()) == "2025-01"
    assert [str(x) for x in p.trailing(3)] == ["2025-11", "2025-12", "2026-01"]
    q = Period.parse("2026-Q1", TZ)
    assert str(q.prior()) == "2025-Q4" and str(q.year_ago()) == "2025-Q1"
    w = Period.parse("2026-W01", TZ)
    assert str(w.prior()) == "2025-W52" and str(w.year_ago()) == "2025-W01"
    # week 53 a year later has no week 53: the year-ago week is 52
    assert str(Period.parse("2026-W53", TZ).year_ago()) == "2025-W52"
    assert len(p.trailing(13)) == 13 and p.trailing(13)[0] == p.year_ago()


def test_month_to_date():
    mtd = Period.month_to_date("2026-11-15", TZ)
    assert mtd.label == "2026-11" and mtd.is_to_date
    # through 15 Nov: ends at local midnight opening the 16th
    assert (mtd.start, mtd.end) == (ts("2026-11-01"), ts("2026-11-16"))
    # prior: the same fifteen days of October; a year ago: 1-15 Nov 2025
    assert (mtd.prior().start, mtd.prior().end) == (ts("2026-10-01"), ts("2026-10-16"))
    assert mtd.year_ago().end == ts("2025-11-16")
    assert "to date" in mtd.describe()
    # a timestamp cut is kept to the minute
    cut = Period.month_to_date(ts("2026-11-15 13:30"))
    assert cut.end == ts("2026-11-15 13:30") and cut.tz == TZ


def test_month_to_date_clamps_short_months():
    # 1-30 March (leap year) -> February (29 days) whole; 1-28 March -> 1-28 February
    assert not Period.month_to_date("2024-03-30", TZ).prior().is_to_date
    short = Period.month_to_date("2024-03-28", TZ).prior()
    assert short.end == ts("2024-02-29")
    # a cut at the natural end is the whole month
    assert not Period.month_to_date("2026-10-31", TZ).is_to_date


def test_leap_day():
    feb = Period.parse("2024-02", TZ)
    assert feb.end - feb.start == pd.Timedelta(days=29)
    assert feb.contains(ts("2024-02-29 23:59"))
    assert Period.containing(ts("2024-02-29 12:00"), "month", TZ) == feb
    assert str(Period.containing(ts("2024-02-29"), "week", TZ)) == "2024-W09"


def test_windows_for_cityscore():
    w = Period.parse("2026-05", TZ).windows()
    assert [str(p) for p in w.values()] == ["2026-05", "2026-Q2", "2026"]
    assert w["quarter"].start == ts("2026-04-01") and w["quarter"].end == ts("2026-06-01")
    assert w["year"].start == ts("2026-01-01") and w["year"].end == ts("2026-06-01")


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "October", "2026-W54",
                                  "2025-W53", "2026-Q5", "", "2026-10-01"])
def test_parse_errors_name_the_accepted_forms(text):
    with pytest.raises(UsageError, match=r"YYYY-MM .*YYYY-Www .*YYYY-Qn"):
        Period.parse(text, TZ)


def test_period_without_timezone_says_how_to_fix():
    p = Period.parse("2026-10")
    assert str(p) == "2026-10"
    with pytest.raises(UsageError, match="with_tz"):
        p.start
    assert p.with_tz(TZ).start == ts("2026-10-01")


def test_as_of_outside_period():
    with pytest.raises(UsageError, match="not inside"):
        Period.parse("2026-10", TZ, as_of="2026-12-01")


kinds = st.sampled_from(["month", "week", "quarter", "year"])
days = st.dates(dt.date(2001, 1, 1), dt.date(2098, 12, 31))


@given(kinds, days, st.integers(-60, 60))
def test_shift_round_trips(kind, day, n):
    p = Period.containing(day, kind, TZ)
    assert p.shift(n).shift(-n) == p
    assert Period.parse(p.label, TZ) == p
    assert p.prior().end == p.start  # periods tile time with no gap or overlap
    assert p.start <= pd.Timestamp(day).tz_localize(TZ) < p.end


@given(st.sampled_from(["month", "quarter", "year"]), days)
def test_year_ago_is_twelve_months_back(kind, day):
    p = Period.containing(day, kind, TZ)
    back = p.year_ago()
    assert back.first_day == p.first_day.replace(year=p.year - 1)
    assert back.trailing(1) == [back]


def test_windows_of_a_week_across_a_quarter_boundary():
    # 2026-W40 runs Mon 28 Sep - Sun 4 Oct: its windows are Q4 and 2026 to date (1-4 Oct)
    w = Period.parse("2026-W40", TZ).windows()
    assert str(w["quarter"]) == "2026-Q4" and w["quarter"].end == ts("2026-10-05")
    assert w["year"].start == ts("2026-01-01")
