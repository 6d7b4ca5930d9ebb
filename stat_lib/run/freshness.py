"""Is the data fresh? The nightly's check that the newest request is recent enough.

The newest creation time in the store (``store.requested_span``) against ``now``: older than
``batch.stale_after_hours`` (city.yaml, default 48) means the feed stopped. The nightly then
says so on every cover and index page ("Stale: the data ends ..."), cuts each period at the
data's end so no period the data does not reach is presented as complete, skips a period the
data does not reach at all, and exits with ``StaleData.exit_code`` (12) so operations can
alert on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Freshness:
    """The data's end (newest request, city time), how old it is at ``now``, and the limit."""

    data_end: pd.Timestamp | None
    age_hours: float | None
    limit_hours: int

    @property
    def stale(self) -> bool:
        return self.age_hours is None or self.age_hours > self.limit_hours

    def notice(self) -> str | None:
        """The cover's line when stale, else None."""
        if not self.stale:
            return None
        if self.data_end is None:
            return "Stale: the store holds no requests"
        days = self.age_hours / 24
        age = f"{days:.0f} days" if days >= 2 else f"{self.age_hours:.0f} hours"
        return (f"Stale: the data ends {self.data_end:%Y-%m-%d %H:%M %Z}; no newer request has "
                f"arrived for {age} (limit {self.limit_hours} hours). Figures after that moment "
                f"are missing, not zero.")


def freshness(params, now: dt.datetime) -> Freshness:
    """How fresh the store's requests are at ``now`` (an aware datetime)."""
    from ..store import requested_span
    _, newest = requested_span(params)
    limit = params.city.batch.stale_after_hours
    if newest is None:
        return Freshness(None, None, limit)
    end = newest.tz_convert(params.city.timezone)
    return Freshness(end, (pd.Timestamp(now) - end).total_seconds() / 3600, limit)


# The data covers a period when its newest request lies in the period's last hour or later: a
# quiet last hour (a night, a small city) is not missing data, so no "Partial" banner for it.
COVERED_WITHIN = pd.Timedelta(hours=1)


def covers(period, data_end: pd.Timestamp | None) -> bool:
    """The data reaches ``period``'s end (within :data:`COVERED_WITHIN`)."""
    return data_end is not None and data_end >= period.end - COVERED_WITHIN


def cut_at_data_end(period, data_end: pd.Timestamp):
    """``period`` as the data covers it: unchanged when covered in full (:func:`covers`), cut
    at the data's end (a to-date period, labelled so) when covered in part, None when not
    reached at all."""
    if data_end is None or data_end < period.start:
        return None
    if covers(period, data_end):
        return period
    return period.to_date(data_end + pd.Timedelta(seconds=1))  # the newest request inside


def partial_notice(params, period) -> str | None:
    """The cover's line for a full period the data covers only in part (``stat-lib run
    --period`` of a month the data ends inside, more than :data:`COVERED_WITHIN` before its
    end), else None. A period to date says so already."""
    from ..store import requested_span
    if period.is_to_date:
        return None
    _, newest = requested_span(params)
    if newest is None or covers(period, newest):
        return None
    end = newest.tz_convert(params.city.timezone)
    last = (period.end - pd.Timedelta(seconds=1)).tz_convert(params.city.timezone)
    return (f"Partial: the data ends {end:%Y-%m-%d %H:%M %Z}, before this period does "
            f"({last:%Y-%m-%d}); figures after that moment are missing, not zero.")
