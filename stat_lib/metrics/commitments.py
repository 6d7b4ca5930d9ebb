"""Commitments from session to session (the ``sessions`` and ``commitments`` kinds).

Everything is counted **as of a date** ``D``, the data's as-of day (the packet's period end, or
the day of its newest record when the data ends sooner), never the wall clock, so a packet
rebuilt later says the same thing:

- a commitment is *made* when its session was held on or before ``D``;
- its *state at D* is ``done`` or ``dropped`` when it was closed on or before ``D``, else
  ``overdue`` when its due date is before ``D`` (``days_overdue = D - due_on``), else ``open``;
- *done on time*: done, closed on or before its due date;
- **follow-up rate** of a department: commitments done on time / commitments due, where
  *due* means due on or before ``D`` within the 12 months to ``D`` (``FOLLOW_UP_MONTHS``), less
  those dropped on or before their due date (withdrawn before they fell due); None when none
  is due;
- **since the last session**: the department's latest session held before ``D``; listed are
  the commitments due since then (after it, up to ``D``), those closed since then, and every
  one still overdue;
- **moved as promised** (a commitment tied to a metric): the metric's latest
  :class:`~stat_lib.metrics.methods.Assessment` shows a special-cause signal in the promised
  direction (the latest value beyond the mean on that side, a rule firing), or the latest value
  meets the commitment's target. No other statistical judge is used.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from ..store import sessions as records
from .methods import NO_VERDICT, NOT_JUDGED, Assessment
from .registry import Metric, format_value, metric_def, register

FOLLOW_UP_MONTHS = 12

register(Metric("follow_up_rate", "Commitments done by their due date", "rate", "higher",
                "commitments done on or before their due date / commitments due (due on or "
                "before the data's as-of day, in the 12 months to it; excludes commitments "
                "dropped on or before their due date)", kind="commitments", method=None))
register(Metric("sessions_held", "Stat sessions held", "count", None,
                "sessions of the department (alone or in a group) held on the period's days "
                "(:func:`sessions_held`)", kind="sessions", method=None))


def as_of_day(as_of, tz: str, end=None) -> dt.date:
    """The local calendar day of the data's as-of instant, cut at the period's (exclusive)
    ``end``: the day before ``end`` when that is earlier, or when there is no data."""
    known = [pd.Timestamp(t) for t in (as_of, end) if t is not None and not pd.isna(t)]
    ts = min(known)
    ts = (ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz))
    return (ts - pd.Timedelta(microseconds=1)).date() if end is not None and ts >= \
        pd.Timestamp(end).tz_convert(tz) else ts.date()


def made_by(commitments: pd.DataFrame, sessions: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The commitments made at sessions held on or before ``day``, with the session's date
    (``held_on``) and their state at ``day`` (``state``, ``days_overdue``, ``on_time``)."""
    held = dict(zip(sessions["session_id"], sessions["held_on"]))
    out = commitments.assign(held_on=commitments["session_id"].map(held))
    out = out[out["held_on"].notna() & (out["held_on"] <= day)].copy()
    closed = out["status"].isin(["done", "dropped"]) & out["closed_on"].map(
        lambda d: d is not None and d <= day)
    overdue = ~closed & (out["due_on"] < day)
    out["state"] = out["status"].where(closed, "open").where(~overdue, "overdue")
    out["days_overdue"] = [(day - d).days if o else 0 for d, o in zip(out["due_on"], overdue)]
    out["on_time"] = (out["state"] == "done") & np.array(
        [c is not None and c <= d for c, d in zip(out["closed_on"], out["due_on"])], dtype=bool)
    return out


def sessions_held(sessions: pd.DataFrame, department: str, first: dt.date,
                  last: dt.date) -> int:
    """How many sessions of ``department`` were held from ``first`` to ``last`` (inclusive)."""
    return int(sum(department in d and first <= h <= last
                   for d, h in zip(sessions["departments"], sessions["held_on"])))


def last_session(sessions: pd.DataFrame, department: str, day: dt.date):
    """The department's latest session held before ``day`` (a row), or None."""
    there = np.array([department in d for d in sessions["departments"]], dtype=bool)
    mine = sessions[there & (sessions["held_on"] < day).to_numpy(dtype=bool)]
    return None if mine.empty else mine.sort_values("held_on").iloc[-1]


def since_last(commitments, sessions, department: str, day: dt.date):
    """(the last session or None, the department's commitments to report since it)."""
    last = last_session(sessions, department, day)
    made = made_by(commitments, sessions, day)
    made = made[made["department"] == department]
    after = last["held_on"] if last is not None else dt.date.min
    closed_since = made["closed_on"].map(lambda d: d is not None and after < d <= day)
    due_since = made["due_on"].map(lambda d: after < d <= day)
    rows = made[due_since | closed_since | (made["state"] == "overdue")]
    order = {"overdue": 0, "open": 1, "done": 2, "dropped": 3}
    rows = rows.assign(_o=rows["state"].map(order)).sort_values(
        ["_o", "days_overdue", "due_on"], ascending=[True, False, True])
    return last, rows.drop(columns="_o").reset_index(drop=True)


def overdue(commitments, sessions, day: dt.date, department: str | None = None):
    """Commitments overdue at ``day`` (of one department, or all), most overdue first."""
    made = made_by(commitments, sessions, day)
    made = made[made["state"] == "overdue"]
    if department is not None:
        made = made[made["department"] == department]
    return made.sort_values(["days_overdue", "commitment_id"], ascending=[False, True])


def delivered_since(commitments, sessions, department: str, day: dt.date):
    """The department's commitments done since its last session (up to ``day``)."""
    _, rows = since_last(commitments, sessions, department, day)
    last = last_session(sessions, department, day)
    after = last["held_on"] if last is not None else dt.date.min
    return rows[(rows["state"] == "done") & rows["closed_on"].map(
        lambda d: d is not None and d > after)]


def follow_up_rate(commitments, sessions, day: dt.date, departments=None) -> pd.DataFrame:
    """One row per department: ``due``, ``done_on_time``, ``rate`` (None when none due),
    ``overdue`` (open past due at ``day``), ``dropped`` (before falling due)."""
    made = made_by(commitments, sessions, day)
    start = (pd.Timestamp(day) - pd.DateOffset(months=FOLLOW_UP_MONTHS)).date()
    window = made[(made["due_on"] <= day) & (made["due_on"] > start)]
    withdrawn = (window["state"] == "dropped") & np.array(
        [c is not None and c <= d for c, d in zip(window["closed_on"], window["due_on"])],
        dtype=bool)
    slugs = list(departments) if departments is not None else sorted(made["department"].unique())
    rows = []
    for slug in slugs:
        mine, gone = window[window["department"] == slug], withdrawn[window["department"] == slug]
        due = mine[~gone]
        done = int(due["on_time"].sum())
        rows.append({"department": slug, "due": len(due), "done_on_time": done,
                     "rate": done / len(due) if len(due) else None,
                     "overdue": int((mine["state"] == "overdue").sum()),
                     "dropped": int(gone.sum())})
    return pd.DataFrame(rows, columns=["department", "due", "done_on_time", "rate", "overdue",
                                       "dropped"])


# ---- moved as promised -------------------------------------------------------------------------

def moved_as_promised(a: Assessment, metric: str, direction: str,
                      target: float | None = None) -> dict:
    """Did the metric move as promised? ``{"moved": True | False | None, "text": ...}``.

    True: a special-cause signal with the latest value on the promised side of the mean, or the
    latest value meets ``target``; None: neither is known (no verdict and no target to check).
    """
    label, unit = metric_def(metric).label, metric_def(metric).unit
    value = format_value(a.value, unit)
    side = (a.value > a.mean) if direction == "higher" else (a.value < a.mean)
    signal = a.special and bool(side)
    has_value = a.value is not None and not math.isnan(a.value)
    met = target is not None and has_value and (
        a.value >= target if direction == "higher" else a.value <= target)
    way = "up" if direction == "higher" else "down"
    parts = []
    if a.special:
        first = f"{a.signals[0]}, " if a.signals else ""
        parts.append(f"a special-cause signal {'up' if a.value > a.mean else 'down'} "
                     f"({first}limits {format_value(a.lower, unit)}–"
                     f"{format_value(a.upper, unit)})")
    elif a.variation in (NO_VERDICT, NOT_JUDGED):
        parts.append(f"no SPC verdict ({a.reason or 'partial period'})")
    else:
        parts.append(f"within its limits {format_value(a.lower, unit)}–"
                     f"{format_value(a.upper, unit)}, common cause variation")
    if target is not None:
        parts.append(f"target {format_value(target, unit)} {'met' if met else 'not met'}")
    detail = f"{label} {value}: {'; '.join(parts)}"
    if signal or met:
        return {"moved": True, "text": f"Moved as promised ({way}): {detail}."}
    if a.variation in (NO_VERDICT, NOT_JUDGED) and target is None:
        return {"moved": None, "text": f"Cannot say yet whether it moved {way}: {detail}."}
    return {"moved": False, "text": f"Not moved as promised ({way}): {detail}."}


# ---- from the records store --------------------------------------------------------------------

def load(params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(current commitments, sessions) from the records store."""
    return records.commitments(params), records.sessions(params)
