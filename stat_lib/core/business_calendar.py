"""Business days and due times in the city's timezone.

Business days are Monday-Friday minus the city's holidays: the ``holidays`` package for
``city.country`` / ``city.subdivision`` plus ``city.extra_holidays``. Every function here is
vectorized over pandas Series of tz-aware timestamps (NaT stays NaT).

Conventions (one each, used by every metric):

- ``N calendar days``: the same local wall-clock time N days later (a DST change does not move it).
- ``N hours``: N elapsed hours.
- ``N business days``: the end (next local midnight) of the N-th business day after the request's
  local date; fractional amounts round up to whole days. A request on Saturday with 5 business days
  is due at the end of Friday; one on Wednesday with 1 business day is due at the end of Thursday.
- Business days taken between two instants: business days in ``(start date, end date]`` (local
  dates), so a request is on time against an N-business-day SLA exactly when it took <= N.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ParamsError


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekends and holidays of one city.

    Parameters
    ----------
    tz : str
        IANA timezone; timestamps are converted to it before taking their local date.
    country, subdivision : str
        Passed to ``holidays.country_holidays``.
    extra_holidays : tuple of str
        City-only closures, ``YYYY-MM-DD``.
    """

    tz: str
    country: str = "US"
    subdivision: str | None = None
    extra_holidays: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_city(cls, city) -> BusinessCalendar:
        """The calendar of a ``params.City``."""
        return cls(city.timezone, city.country, city.subdivision, tuple(city.extra_holidays))

    def holidays(self, first_year: int, last_year: int) -> np.ndarray:
        """Holiday dates (``datetime64[D]``, sorted) of the years ``first_year..last_year``."""
        key = (first_year, last_year)
        if key not in self._cache:
            self._cache[key] = self._holidays(first_year, last_year)
        return self._cache[key]

    def _holidays(self, first_year: int, last_year: int) -> np.ndarray:
        import holidays as hol
        years = range(first_year, last_year + 1)
        try:
            days = set(hol.country_holidays(self.country, subdiv=self.subdivision, years=years))
        except NotImplementedError as exc:
            raise ParamsError(f"the holidays package does not know country/subdivision "
                              f"{self.country}/{self.subdivision} ({exc}); fix city.country and "
                              f"city.subdivision", key="country") from None
        days |= {dt.date.fromisoformat(d) for d in self.extra_holidays}
        return np.array(sorted(days), dtype="datetime64[D]")

    def is_business_day(self, day) -> bool:
        """True when the local date ``day`` is a weekday and not a holiday."""
        d = np.datetime64(pd.Timestamp(day).date(), "D")
        return bool(np.is_busday(d, holidays=self.holidays_for(np.array([d]))))

    # ---- vectorized --------------------------------------------------------------------------

    def local_dates(self, ts: pd.Series) -> np.ndarray:
        """Local calendar dates (``datetime64[D]``, NaT kept) of tz-aware timestamps."""
        local = _aware(ts).dt.tz_convert(self.tz).dt.tz_localize(None)
        return local.dt.floor("D").to_numpy(dtype="datetime64[D]")

    def add_business_days(self, ts: pd.Series, days: np.ndarray | float) -> pd.Series:
        """Due time: the end of the ``days``-th business day after each local date of ``ts``.

        Computed once per distinct (local date, days) pair: a department's requests share a
        few hundred dates and a handful of SLAs.
        """
        dates = self.local_dates(ts)
        n = np.ceil(np.broadcast_to(np.asarray(days, dtype=float), dates.shape))
        ok = ~np.isnat(dates) & ~np.isnan(n)
        day, k = dates[ok].astype(np.int64), n[ok].astype(np.int64)
        index, first = _pairs(day, k)
        start = day[first].astype("datetime64[D]")
        ends = np.busday_offset(start, k[first], roll="backward",
                                holidays=self.holidays_for(start)) + np.timedelta64(1, "D")
        due = self._midnights(ends, None).array
        codes = np.full(dates.shape, -1, dtype=np.int64)
        codes[ok] = index
        return pd.Series(due.take(codes, allow_fill=True), index=ts.index)

    def add_calendar_days(self, ts: pd.Series, days: np.ndarray | float) -> pd.Series:
        """Same local wall-clock time ``days`` later (fractions: elapsed part of a day)."""
        local = _aware(ts).dt.tz_convert(self.tz).dt.tz_localize(None)
        moved = local + pd.to_timedelta(np.asarray(days, dtype=float) * 86400, unit="s")
        return _localize(moved, self.tz)

    def business_days_between(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Business days in ``(local date of start, local date of end]``; negative when end is
        before start; NaN when either is missing."""
        a, b = self.local_dates(start), self.local_dates(end)
        ok = ~np.isnat(a) & ~np.isnat(b)
        out = np.full(a.shape, np.nan)
        a, b = a[ok], b[ok]
        index, first = _pairs(a.astype(np.int64), b.astype(np.int64))  # once per date pair
        a, b = a[first] + np.timedelta64(1, "D"), b[first] + np.timedelta64(1, "D")
        hol = self.holidays_for(np.concatenate([a, b]))
        out[ok] = np.busday_count(a, b, holidays=hol)[index]
        return pd.Series(out, index=start.index)

    def holidays_for(self, dates: np.ndarray) -> np.ndarray:
        """Holidays covering ``dates`` plus a year of slack for offsets."""
        if len(dates) == 0:
            return np.array([], dtype="datetime64[D]")
        years = dates.astype("datetime64[Y]").astype(int) + 1970
        return self.holidays(int(years.min()) - 1, int(years.max()) + 2)

    def _midnights(self, days: np.ndarray, index) -> pd.Series:
        return _localize(pd.Series(pd.to_datetime(days), index=index), self.tz)


def _pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index into the distinct ``(x, y)`` pairs, and a row holding each pair."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = y.min()
    index, distinct = pd.factorize((x - x.min()) * (y.max() - low + 1) + (y - low))
    first = np.empty(len(distinct), dtype=np.int64)
    first[index] = np.arange(len(index))  # any row of a pair will do: they are equal
    return index, first


def _aware(ts: pd.Series) -> pd.Series:
    ts = pd.Series(ts)
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"expected tz-aware timestamps, got dtype {ts.dtype}; convert with "
                        f".dt.tz_localize(city timezone)")
    return ts


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Local wall time -> tz-aware: a skipped hour moves forward, a repeated hour takes the
    later (standard-time) instant."""
    ambiguous = np.zeros(len(naive), dtype=bool)
    return naive.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")
