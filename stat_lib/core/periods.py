"""Reporting periods: month ``2026-10``, ISO week ``2026-W42``, quarter ``2026-Q3``, year ``2026``,
fiscal year ``FY2027``.

A period is a half-open span ``[start, end)`` of local time in the city's timezone. A *to-date*
period (month-to-date, year-to-date, ...) is cut at ``as_of`` instead of the period's natural end.

A **fiscal year** is named for the calendar year it ends in: with ``fiscal_year_start_month: 7``
(city.yaml), ``FY2027`` runs from 2026-07-01 to 2027-07-01; with 1 it is the calendar year. Its
``number`` is the start month; :meth:`Period.fiscal_to_date` gives ``FY2027-to-date``.

>>> p = Period.parse("2026-10", tz="America/Los_Angeles")
>>> str(p.prior()), str(p.year_ago()), [str(x) for x in p.trailing(3)]
('2026-09', '2025-10', ['2026-08', '2026-09', '2026-10'])
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from .errors import UsageError

Kind = Literal["month", "week", "quarter", "year", "fiscal"]

ACCEPTED = ("YYYY-MM (month, e.g. 2026-10), YYYY-Www (ISO week, e.g. 2026-W42), "
            "YYYY-Qn (quarter, e.g. 2026-Q3) or YYYY (year)")

_PATTERNS = [
    ("fiscal", re.compile(r"FY(\d{4})()", re.I)),
    ("week", re.compile(r"(\d{4})-W(\d{1,2})", re.I)),
    ("quarter", re.compile(r"(\d{4})-Q([1-4])", re.I)),
    ("month", re.compile(r"(\d{4})-(\d{1,2})")),
    ("year", re.compile(r"(\d{4})()")),
]


def _weeks_in(year: int) -> int:
    """52 or 53: the ISO week number of 28 December."""
    return dt.date(year, 12, 28).isocalendar()[1]


MIN_YEAR, MAX_YEAR = 1900, 2199  # pandas timestamps end in 2262; no 311 data precedes 1900


@dataclass(frozen=True)
class Period:
    """A reporting period.

    Parameters
    ----------
    kind : {'month', 'week', 'quarter', 'year'}
    year : int
        Calendar year (ISO year for weeks).
    number : int
        Month 1-12, ISO week 1-53, quarter 1-4; 1 for a year; a fiscal year's start month.
    tz : str, optional
        IANA timezone of the city; needed for :attr:`start` and :attr:`end`.
    as_of : pandas.Timestamp, optional
        Cut-off of a to-date period (exclusive end), inside the period.
    """

    kind: Kind
    year: int
    number: int = 1
    tz: str | None = None
    as_of: pd.Timestamp | None = None

    def __post_init__(self):
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise UsageError(f"year {self.year} is out of range (expected {MIN_YEAR}-{MAX_YEAR}); "
                             f"accepted periods: {ACCEPTED}")
        limits = {"month": 12, "week": _weeks_in(self.year), "quarter": 4, "year": 1,
                  "fiscal": 12}
        if not 1 <= self.number <= limits[self.kind]:
            raise UsageError(f"{self.kind} {self.number} does not exist in {self.year} "
                             f"(expected 1-{limits[self.kind]}); accepted periods: {ACCEPTED}")

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, tz: str | None = None, as_of=None,
              fiscal_start: int = 1) -> Period:
        """Parse ``2026-10``, ``2026-W42``, ``2026-Q3``, ``2026`` or ``FY2027`` (a fiscal year
        starting in month ``fiscal_start``).

        Raises
        ------
        UsageError
            When ``text`` is none of the accepted forms, naming them.
        """
        value = str(text).strip()
        for kind, pattern in _PATTERNS:
            m = pattern.fullmatch(value)
            if m:
                number = fiscal_start if kind == "fiscal" else int(m.group(2) or 1)
                period = cls(kind, int(m.group(1)), number, tz)
                return period.to_date(as_of) if as_of is not None else period
        raise UsageError(f"cannot read period {text!r}; expected {ACCEPTED}")

    @classmethod
    def containing(cls, when, kind: Kind = "month", tz: str | None = None) -> Period:
        """The period of ``kind`` holding the instant (or local date) ``when``."""
        if kind == "fiscal":
            raise UsageError("a fiscal year needs its start month: use Period.fiscal_year("
                             "when, city.fiscal_year_start_month, tz)")
        ts = _local(when, tz)
        if kind == "week":
            iso = ts.date().isocalendar()
            return cls("week", iso[0], iso[1], tz)
        number = {"month": ts.month, "quarter": (ts.month - 1) // 3 + 1, "year": 1}[kind]
        return cls(kind, ts.year, number, tz)

    @classmethod
    def fiscal_year(cls, when, start_month: int, tz: str | None = None) -> Period:
        """The fiscal year (starting in ``start_month``) holding ``when``."""
        ts = _local(when, tz)
        ends_in = ts.year + 1 if start_month > 1 and ts.month >= start_month else ts.year
        return cls("fiscal", ends_in, start_month, tz)

    def fiscal_to_date(self, start_month: int) -> Period:
        """The fiscal year holding this period's last instant, cut at its end
        (``FY2027-to-date``; the whole year when this period ends it)."""
        end = self.end
        fy = Period.fiscal_year(end - pd.Timedelta(microseconds=1), start_month, self.tz)
        return fy.to_date(end)

    @classmethod
    def month_to_date(cls, as_of, tz: str | None = None) -> Period:
        """The month holding ``as_of``, cut at ``as_of``.

        A date (or ``'YYYY-MM-DD'``) means *through that day*: the cut is the next midnight.
        """
        end = _cutoff(as_of, tz)
        tz = tz or str(end.tz)
        return cls.containing(end - pd.Timedelta(microseconds=1), "month", tz).to_date(end)

    def to_date(self, as_of) -> Period:
        """This period cut at ``as_of`` (a timestamp, or a date meaning through that day)."""
        end = _cutoff(as_of, self.tz)
        if not (self._start < end <= self._natural_end):
            raise UsageError(f"as_of {end} is not inside period {self} "
                             f"({self._start.date()} to {self._natural_end.date()})")
        return replace(self, as_of=None if end == self._natural_end else end)

    def with_tz(self, tz: str) -> Period:
        """The same period in timezone ``tz`` (a to-date cut keeps its local wall time)."""
        as_of = None if self.as_of is None else self.as_of.tz_localize(None).tz_localize(
            tz, nonexistent="shift_forward", ambiguous=False)
        return replace(self, tz=tz, as_of=as_of)

    # ---- span ------------------------------------------------------------------------------

    @property
    def first_day(self) -> dt.date:
        if self.kind == "week":
            return dt.date.fromisocalendar(self.year, self.number, 1)
        if self.kind == "fiscal":
            return dt.date(self.year - (self.number > 1), self.number, 1)
        month = {"month": self.number, "quarter": 3 * self.number - 2, "year": 1}[self.kind]
        return dt.date(self.year, month, 1)

    @property
    def start(self) -> pd.Timestamp:
        """Local midnight opening the period (tz-aware)."""
        return self._start

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end: the next period's start, or ``as_of`` for a to-date period."""
        return self.as_of if self.as_of is not None else self._natural_end

    @property
    def _start(self) -> pd.Timestamp:
        return _midnight(self.first_day, self._tz())

    @property
    def _natural_end(self) -> pd.Timestamp:
        return self.next().without_cut()._start

    def _tz(self) -> str:
        if self.tz is None:
            raise UsageError(f"period {self} has no timezone; use Period.parse(text, tz=...) or "
                             f"period.with_tz(city.timezone)")
        return self.tz

    def without_cut(self) -> Period:
        """The whole period (drops ``as_of``)."""
        return replace(self, as_of=None)

    @property
    def is_to_date(self) -> bool:
        return self.as_of is not None

    def contains(self, when) -> bool:
        ts = pd.Timestamp(when)
        return bool(self.start <= ts < self.end)

    # ---- arithmetic ------------------------------------------------------------------------

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier), same kind; keeps a to-date cut's
        offset into the period, clamped to the shorter period (31 March -> 28/29 February)."""
        if self.kind == "week":
            day = self.first_day + dt.timedelta(weeks=n)
            iso = day.isocalendar()
            moved = replace(self, year=iso[0], number=iso[1], as_of=None)
        elif self.kind == "fiscal":
            moved = replace(self, year=self.year + n, as_of=None)
        else:
            per_year = {"month": 12, "quarter": 4, "year": 1}[self.kind]
            index = self.year * per_year + (self.number - 1) + n
            moved = replace(self, year=index // per_year, number=index % per_year + 1, as_of=None)
        return moved._cut_like(self)

    def next(self) -> Period:
        return self.shift(1)

    def prior(self) -> Period:
        """The period just before (month-to-date: the same days of the prior month)."""
        return self.shift(-1)

    def year_ago(self) -> Period:
        """The same period a year earlier (week 53 -> week 52 when that year has none)."""
        if self.kind == "week":
            year = self.year - 1
            moved = replace(self, year=year, number=min(self.number, _weeks_in(year)), as_of=None)
            return moved._cut_like(self)
        return self.shift(-{"month": 12, "quarter": 4, "year": 1, "fiscal": 1}[self.kind])

    def trailing(self, n: int) -> list[Period]:
        """``n`` periods ending with this one, oldest first (to-date cuts keep their offset)."""
        if n < 1:
            raise UsageError(f"trailing(n) needs n >= 1, got {n}")
        return [self.shift(-k) for k in range(n - 1, -1, -1)]

    def windows(self) -> dict[str, Period]:
        """CityScore windows: this period ("month"), and the quarter and year holding its last
        instant, cut at its end (quarter-to-date, year-to-date)."""
        end = self.end
        last = end - pd.Timedelta(microseconds=1)
        return {"month": self,
                "quarter": Period.containing(last, "quarter", self.tz).to_date(end),
                "year": Period.containing(last, "year", self.tz).to_date(end)}

    def _cut_like(self, other: Period) -> Period:
        if other.as_of is None:
            return self
        offset = other.as_of.tz_localize(None) - pd.Timestamp(other.first_day)
        natural = pd.Timestamp(self.next().first_day) - pd.Timestamp(self.first_day)
        if offset >= natural:
            return self
        local = pd.Timestamp(self.first_day) + offset
        return replace(self, as_of=local.tz_localize(self._tz(), nonexistent="shift_forward",
                                                      ambiguous=False))

    # ---- labels ----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """``2026-10``, ``2026-W42``, ``2026-Q3``, ``2026`` (same for a to-date cut); ``FY2027``,
        ``FY2027-to-date`` for a fiscal year cut before its end."""
        if self.kind == "fiscal":
            return f"FY{self.year}" + ("-to-date" if self.as_of is not None else "")
        return {"month": f"{self.year}-{self.number:02d}",
                "week": f"{self.year}-W{self.number:02d}",
                "quarter": f"{self.year}-Q{self.number}", "year": f"{self.year}"}[self.kind]

    def describe(self) -> str:
        """Human label: ``'October 2026'``, ``'November 2026 to date (through 15 Nov)'``."""
        names = {"month": self.first_day.strftime("%B %Y"),
                 "week": f"week {self.number} of {self.year} (from {self.first_day:%d %b})",
                 "quarter": f"Q{self.number} {self.year}", "year": str(self.year),
                 "fiscal": f"fiscal year {self.year} (from {self.first_day:%d %b %Y})"}
        text = names[self.kind]
        if self.as_of is not None:
            last = self.as_of - pd.Timedelta(microseconds=1)
            text += f" to date (through {last:%d %b %Y})"
        return text

    def __str__(self) -> str:
        return self.label

    def __lt__(self, other: Period) -> bool:
        return (self.first_day, self.kind) < (other.first_day, other.kind)


def _midnight(day: dt.date, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)


def _local(when, tz: str | None) -> pd.Timestamp:
    ts = pd.Timestamp(when)
    if ts.tzinfo is not None and tz is not None:
        ts = ts.tz_convert(tz)
    return ts


def _cutoff(as_of, tz: str | None) -> pd.Timestamp:
    """A tz-aware exclusive cut-off: a date (no time part) means through the end of that day."""
    is_day = isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime)
    if isinstance(as_of, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of.strip()):
        is_day = True
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise UsageError(f"cannot read as_of {as_of!r}; expected a date YYYY-MM-DD or a "
                         f"timestamp") from None
    if is_day:
        ts = ts.normalize() + pd.Timedelta(days=1)
    if ts.tzinfo is None:
        if tz is None:
            raise UsageError(f"as_of {as_of!r} has no timezone and the period has none; pass "
                             f"tz=city.timezone")
        return ts.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    return ts.tz_convert(tz) if tz else ts
