"""Fiscal years: named for the year they end in, bounds by the city's start month, to date."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.errors import UsageError
from stat_lib.core.periods import Period

TZ = "America/Los_Angeles"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.mark.parametrize("text, start_month, start, end", [
    ("FY2027", 7, "2026-07-01", "2027-07-01"),   # US cities: July to June, named for June
    ("FY2027", 10, "2026-10-01", "2027-10-01"),  # the federal year
    ("FY2027", 1, "2027-01-01", "2028-01-01"),   # start month 1: the calendar year
    ("fy2025", 4, "2024-04-01", "2025-04-01"),
])
def test_fiscal_year_bounds_by_hand(text, start_month, start, end):
    p = Period.parse(text, TZ, fiscal_start=start_month)
    assert (p.start, p.end) == (ts(start), ts(end))
    assert p.label == text.upper()


def test_fiscal_year_holding_a_date():
    # start month 7: 30 June 2026 closes FY2026, 1 July 2026 opens FY2027
    assert Period.fiscal_year(ts("2026-06-30 23:59"), 7, TZ).label == "FY2026"
    assert Period.fiscal_year(ts("2026-07-01"), 7, TZ).label == "FY2027"
    assert Period.fiscal_year(ts("2026-12-31"), 1, TZ).label == "FY2026"


def test_fiscal_year_to_date_of_a_month():
    # October 2026 with start month 7: FY2027 from 1 July 2026, cut at 1 November 2026
    fytd = Period.parse("2026-10", TZ).fiscal_to_date(7)
    assert fytd.label == "FY2027-to-date"
    assert (fytd.start, fytd.end) == (ts("2026-07-01"), ts("2026-11-01"))
    assert fytd.describe() == "fiscal year 2027 (from 01 Jul 2026) to date (through 31 Oct 2026)"
    # June 2027 ends FY2027: the whole year, no "to date"
    whole = Period.parse("2027-06", TZ).fiscal_to_date(7)
    assert whole.label == "FY2027" and whole.end == ts("2027-07-01")


def test_prior_and_year_ago_of_a_fiscal_year_to_date():
    fytd = Period.parse("2026-10", TZ).fiscal_to_date(7)
    # a year earlier: FY2026 from 1 July 2025 to 1 November 2025, the same four months
    before = fytd.year_ago()
    assert before.label == "FY2026-to-date"
    assert (before.start, before.end) == (ts("2025-07-01"), ts("2025-11-01"))
    assert fytd.prior() == before


def test_containing_refuses_a_fiscal_year_without_its_start_month():
    with pytest.raises(UsageError, match="fiscal_year_start_month"):
        Period.containing(ts("2026-10-05"), "fiscal", TZ)


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_fiscal_years_tile_time(year, start_month):
    # each fiscal year ends where the next begins, twelve months after its start
    p = Period.parse(f"FY{year}", TZ, fiscal_start=start_month)
    assert p.next().start == p.end
    assert p.end == p.start + pd.DateOffset(years=1)
    assert Period.fiscal_year(p.start, start_month, TZ) == p
    assert Period.fiscal_year(p.end - pd.Timedelta(seconds=1), start_month, TZ) == p
