"""Page one's commitment items (the ``commitments`` kind), registered as a signal source.

Needs attention: each commitment overdue at the data's as-of day (``PageOneInputs.as_of_day``;
the period's last day when not given), most days overdue first, with a question for the owner.
Going well: each commitment done since the department's last session. Also listed across
departments in the cabinet briefing (``briefing=True``). Counts come from
:mod:`stat_lib.metrics.commitments`, as of a day, never the wall clock.
"""

from __future__ import annotations

import pandas as pd

from . import commitments as c
from .page_one import ATTENTION, GOING_WELL, TIERS, PageOneInputs, Signal, register_source


def _day(inputs: PageOneInputs):
    if inputs.as_of_day is not None:
        return inputs.as_of_day
    return (inputs.period.end - pd.Timedelta(microseconds=1)).date()


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


@register_source("commitments", briefing=True)
def commitment_signals(inputs: PageOneInputs) -> list[Signal]:
    """Overdue commitments (attention) and those delivered since the last session."""
    cur, sessions = c.load(inputs.params)
    day, slug = _day(inputs), inputs.department.slug
    out = []
    def who(r, after=", ") -> str:  # an owner is a person: internal packets only
        return f"{r['owner']}{after}" if inputs.personal and r["owner"] else ""
    for _, r in c.overdue(cur, sessions, day, slug).iterrows():
        n = int(r["days_overdue"])
        owner = f" ({who(r, '')})" if who(r) else ""
        out.append(Signal(
            ATTENTION, "commitments", TIERS["commitment_overdue"], float(n),
            f"Commitment overdue by {_days(n)}: {r['what']} ({who(r)}due {r['due_on']}).",
            f"{r['what']}{owner} was due {r['due_on']} and is {_days(n)} overdue: "
            f"what is the new date, and what stands in the way?"))
    for _, r in c.delivered_since(cur, sessions, slug, day).iterrows():
        on_time = "on time" if r["on_time"] else f"after its due date of {r['due_on']}"
        out.append(Signal(GOING_WELL, "commitments", TIERS["commitment_done"], 0.0,
                          f"Commitment delivered: {r['what']} ({who(r)}done "
                          f"{r['closed_on']}, {on_time})."))
    return out
