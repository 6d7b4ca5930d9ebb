"""When a period's submissions are due: N business days after the period ends.

The deadline is the end (next local midnight) of the N-th business day after the period's last
day, with the city's calendar (:mod:`stat_lib.core.business_calendar`): for October 2026 and
10 business days in Los Angeles, Nov 2-6, 9, 10, 12, 13 and 16 (Nov 11 is Veterans Day), so a
submission received before Tuesday Nov 17 00:00 is on time.
"""

from __future__ import annotations

import pandas as pd

from .business_calendar import BusinessCalendar
from .periods import Period


def due_deadline(period: Period, calendar: BusinessCalendar, business_days: int
                 ) -> pd.Timestamp:
    """The instant (city time) from which a submission for ``period`` is late."""
    last_day = pd.Timestamp(period.next().first_day) - pd.Timedelta(hours=12)
    last_day = last_day.tz_localize(calendar.tz)  # noon of the period's last day
    return calendar.add_business_days(pd.Series([last_day]), business_days).iloc[0]


def due_day(period: Period, calendar: BusinessCalendar, business_days: int) -> str:
    """The last day a submission is on time, ``2026-11-16``."""
    deadline = due_deadline(period, calendar, business_days)
    return (deadline - pd.Timedelta(hours=12)).date().isoformat()
