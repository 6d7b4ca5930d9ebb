"""The ``telephony`` kind's metrics: the 311 contact center's service level, abandonment, waits.

Definitions (registered below, each once; a period holds the intervals that start in it):

- **service level** = answered within the threshold / counted offered, where counted offered
  = offered, less short abandons when ``contact_center.exclude_short_abandons``;
- **answer rate** = answered / (answered + counted abandoned);
- **abandonment rate** = counted abandoned / counted offered, counted abandoned = abandoned,
  less short abandons when excluded;
- **average speed of answer** = total speed-of-answer seconds / answered, over intervals that
  report the total; **average handle time** likewise with handle seconds;
- **calls per agent hour** = answered / agent hours, over intervals that report agent hours.

The phone system counts "answered within" and "short abandons" itself: the threshold and the
cutoff that applied on each interval's local date come from city.yaml ``contact_center:``
(:func:`definitions`), and :func:`definition_text` is the sentence every chart and table that
uses them prints, saying when the definition changed inside the range shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..core.periods import Period
from .registry import Metric, register
from .windows import bounds

SCORECARD = ("service_level", "answer_rate", "abandonment_rate", "average_speed_of_answer",
             "average_handle_time", "calls_per_agent_hour")  # the packet's scorecard rows
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# -- the intervals, with the definitions that applied ----------------------------------------

def definitions(center, days) -> pd.DataFrame:
    """Per local date in ``days``: ``threshold`` and ``short_cutoff`` seconds that applied."""
    days = pd.Series(pd.to_datetime(pd.Series(days)).dt.date.unique())
    return pd.DataFrame({"day": days,
                         "threshold": [center.seconds_on("service_level", d) for d in days],
                         "short_cutoff": [center.seconds_on("short_abandon", d) for d in days]})


def interval_table(rows: pd.DataFrame, center) -> pd.DataFrame:
    """The stored intervals with the counted figures of the definitions: ``counted_offered``,
    ``counted_abandoned``, ``answered_or_abandoned`` and the ``threshold``/``short_cutoff``
    seconds of each interval's local date. Missing short abandons count as none."""
    df = rows.copy()
    df["day"] = df["interval_start"].dt.date
    df = df.merge(definitions(center, df["day"]) if len(df) else
                  pd.DataFrame(columns=["day", "threshold", "short_cutoff"]), on="day",
                  how="left")
    short = pd.to_numeric(df["short_abandoned"], errors="coerce").fillna(0)
    excluded = short if center.exclude_short_abandons else 0 * short
    df["counted_offered"] = df["offered"] - excluded
    df["counted_abandoned"] = df["abandoned"] - excluded
    df["answered_or_abandoned"] = df["answered"] + df["counted_abandoned"]
    df["hour"] = df["interval_start"].dt.hour
    df["weekday"] = df["interval_start"].dt.day_of_week
    return df


@dataclass(frozen=True)
class PreparedTelephony:
    """The contact center's intervals prepared once; windows on it."""

    table: pd.DataFrame
    center: object  # params ContactCenter
    tz: str

    @cached_property
    def starts(self) -> np.ndarray:
        return self.table["interval_start"].dt.tz_convert("UTC").to_numpy(
            dtype="datetime64[ns]").astype("int64")

    def window(self, period: Period) -> TelephonyWindow:
        s, e = (t.value for t in bounds(period, self.tz))
        return TelephonyWindow(self.table[(self.starts >= s) & (self.starts < e)], period)


def prepare_telephony(rows: pd.DataFrame, center, tz: str) -> PreparedTelephony:
    """The stored intervals (``stat_lib.store.telephony.load_telephony``) prepared once."""
    return PreparedTelephony(interval_table(rows, center), center, tz)


class TelephonyWindow:
    """The intervals that start in one period; metrics compute from them (each once)."""

    def __init__(self, rows: pd.DataFrame, period: Period):
        self.rows, self.period = rows, period
        self._values: dict = {}

    def value(self, metric: str):
        from .registry import METRICS
        if metric not in self._values:
            self._values[metric] = METRICS[metric].value(self)
        return self._values[metric]

    def total(self, column: str) -> int:
        return int(pd.to_numeric(self.rows[column], errors="coerce").fillna(0).sum())

    def average(self, column: str, per: str = "answered") -> float | None:
        """sum(column) / sum(per) over the intervals that report ``column``; None when 0."""
        has = self.rows[self.rows[column].notna()]
        den = float(has[per].sum())
        return float(has[column].sum()) / den if den > 0 else None


def _count(id_, label, column, description, direction=None):
    register(Metric(id_, label, "count", direction, description, kind="telephony",
                    compute=lambda w: w.total(column), method=None))


_count("calls_offered", "Calls offered", "offered", "calls that entered a queue in the period")
_count("calls_answered", "Calls answered", "answered", "calls answered by an agent")
_count("calls_abandoned", "Calls abandoned", "abandoned",
       "calls abandoned before an answer, short abandons included")
_count("calls_short_abandoned", "Short abandons", "short_abandoned",
       "calls abandoned within the short-abandon cutoff of contact_center.short_abandon")
_count("calls_answered_within", "Calls answered within the threshold", "answered_within",
       "calls answered within the service-level threshold of contact_center.service_level")
_count("calls_offered_counted", "Calls offered (counted)", "counted_offered",
       "calls offered, less short abandons when contact_center.exclude_short_abandons")
_count("calls_abandoned_counted", "Calls abandoned (counted)", "counted_abandoned",
       "calls abandoned, less short abandons when contact_center.exclude_short_abandons")
_count("calls_answered_or_abandoned", "Calls answered or abandoned (counted)",
       "answered_or_abandoned", "calls answered + counted abandoned")
register(Metric("service_level", "Service level", "rate", "higher",
                "calls_answered_within / calls_offered_counted: answered within the threshold "
                "the phone system counts with, over calls offered (short abandons excluded "
                "when configured)", kind="telephony", numerator="calls_answered_within",
                denominator="calls_offered_counted"))
register(Metric("answer_rate", "Answer rate", "rate", "higher",
                "calls_answered / calls_answered_or_abandoned (short abandons excluded when "
                "configured)", kind="telephony", numerator="calls_answered",
                denominator="calls_answered_or_abandoned"))
register(Metric("abandonment_rate", "Abandonment rate", "rate", "lower",
                "calls_abandoned_counted / calls_offered_counted (short abandons excluded from "
                "both when configured)", kind="telephony", numerator="calls_abandoned_counted",
                denominator="calls_offered_counted"))
register(Metric("average_speed_of_answer", "Average speed of answer", "seconds", "lower",
                "total speed-of-answer seconds / calls answered, over intervals that report "
                "the total", kind="telephony",
                compute=lambda w: w.average("speed_of_answer_seconds")))
register(Metric("average_handle_time", "Average handle time", "seconds", None,
                "total handle seconds / calls answered, over intervals that report handle "
                "seconds", kind="telephony",
                compute=lambda w: w.average("handle_seconds")))
register(Metric("agent_hours", "Agent hours staffed", "hours", None,
                "sum of agent hours over intervals that report them", kind="telephony",
                method=None, compute=lambda w: (float(w.rows["agent_hours"].sum())
                                                if w.rows["agent_hours"].notna().any()
                                                else None)))
register(Metric("calls_per_agent_hour", "Calls answered per agent hour", "per_hour", None,
                "calls answered / agent hours, over intervals that report agent hours; None "
                "without staffing data", kind="telephony",
                compute=lambda w: _per_hour(w.rows)))


def _per_hour(rows: pd.DataFrame) -> float | None:
    has = rows[rows["agent_hours"].notna()]
    hours = float(has["agent_hours"].sum())
    return float(has["answered"].sum()) / hours if hours > 0 else None


# -- views -----------------------------------------------------------------------------------

def telephony_summary(prep: PreparedTelephony, period: Period) -> dict:
    """Every telephony metric of ``period`` (ids of the registry, kind ``telephony``)."""
    from .registry import computed
    w = prep.window(period)
    return {"period": period.label, **{m.id: w.value(m.id) for m in computed("telephony")}}


def telephony_trend(prep: PreparedTelephony, period: Period, n: int = 25) -> pd.DataFrame:
    """Every telephony metric over the ``n`` periods to ``period``, long form (``period,
    period_start, metric, value, numerator, denominator``) as :func:`methods.assess` reads."""
    from .registry import rate_parts
    parts, rows = rate_parts(), []
    for p in period.trailing(n):
        s = telephony_summary(prep, p)
        start = bounds(p, prep.tz)[0]
        for k, v in s.items():
            if k == "period":
                continue
            num, den = (s[x] for x in parts[k]) if k in parts else (np.nan, np.nan)
            rows.append({"period": p.label, "period_start": start, "metric": k,
                         "value": np.nan if v is None else float(v),
                         "numerator": num, "denominator": den})
    return pd.DataFrame(rows, columns=["period", "period_start", "metric", "value",
                                       "numerator", "denominator"])


def by_hour_and_day(prep: PreparedTelephony, period: Period) -> pd.DataFrame:
    """Offered calls and service level per hour of day x day of week in ``period``:
    ``weekday, day, hour, offered, answered_within, counted_offered, service_level``."""
    rows = prep.window(period).rows
    g = rows.groupby(["weekday", "hour"], as_index=False)[
        ["offered", "answered_within", "counted_offered"]].sum()
    g["service_level"] = np.where(g["counted_offered"] > 0, g["answered_within"]
                                  / g["counted_offered"].where(g["counted_offered"] > 0), np.nan)
    g["day"] = [DAYS[d] for d in g["weekday"]]
    return g


def worst_intervals(prep: PreparedTelephony, period: Period, top: int = 10,
                    min_calls: int = 20) -> pd.DataFrame:
    """The ``top`` intervals of ``period`` with the lowest service level (ties: more calls
    offered first), among intervals with at least ``min_calls`` counted calls offered."""
    rows = prep.window(period).rows
    rows = rows[rows["counted_offered"] >= min_calls].copy()
    rows["service_level"] = rows["answered_within"] / rows["counted_offered"]
    rows["abandonment_rate"] = rows["counted_abandoned"] / rows["counted_offered"]
    rows["average_speed_of_answer"] = (rows["speed_of_answer_seconds"]
                                       / rows["answered"].where(rows["answered"] > 0))
    return rows.sort_values(["service_level", "offered", "interval_start"],
                            ascending=[True, False, True]).head(top).reset_index(drop=True)


def staffing_by_hour(prep: PreparedTelephony, period: Period) -> pd.DataFrame:
    """Per hour of day in ``period``: calls offered and agent hours per day open (the mean
    over the days with intervals in that hour), service level and calls offered per agent
    hour: ``hour, days, offered_per_day, agent_hours_per_day, offered_per_agent_hour,
    service_level``."""
    rows = prep.window(period).rows
    g = rows.groupby("hour").agg(days=("day", "nunique"), offered=("offered", "sum"),
                                 agent_hours=("agent_hours", "sum"),
                                 within=("answered_within", "sum"),
                                 counted=("counted_offered", "sum")).reset_index()
    g["offered_per_day"] = g["offered"] / g["days"]
    g["agent_hours_per_day"] = g["agent_hours"] / g["days"]
    g["offered_per_agent_hour"] = g["offered"] / g["agent_hours"].where(g["agent_hours"] > 0)
    g["service_level"] = g["within"] / g["counted"].where(g["counted"] > 0)
    return g[["hour", "days", "offered_per_day", "agent_hours_per_day",
              "offered_per_agent_hour", "service_level"]]


# -- the definitions in words ----------------------------------------------------------------

def _one(threshold, cutoff, excluded: bool) -> str:
    out = (f"answered within {threshold} s" if threshold is not None
           else "no service-level threshold stated")
    if cutoff is None:
        return out + "; no short-abandon cutoff stated"
    return out + (f"; short abandons under {cutoff} s excluded" if excluded
                  else f"; short abandons (under {cutoff} s) counted")


def definition_text(center, start: dt.date, end: dt.date) -> str:
    """The definitions that applied from ``start`` to ``end`` (inclusive), in words, e.g.
    ``'answered within 30 s; short abandons under 5 s excluded'``; a change inside the range
    is said with its date (``'...; from 2026-07-01: answered within 30 s; short abandons
    under 10 s excluded'``)."""
    changes = sorted({v.from_ for v in (*center.service_level, *center.short_abandon)
                      if start < v.from_ <= end})
    days = [start, *changes]
    parts = [_one(center.seconds_on("service_level", d), center.seconds_on("short_abandon", d),
                  center.exclude_short_abandons) for d in days]
    if len(parts) == 1:
        return parts[0]
    text = f"until {changes[0] - dt.timedelta(days=1)}: {parts[0]}"
    for day, part in zip(changes, parts[1:]):
        text += f"; from {day}: {part}"
    return "definition changed inside this range: " + text
