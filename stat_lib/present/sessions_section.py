"""The packets' session parts: "Since last session" (department) and the follow-up rate and
overdue commitments (citywide). Figures come from :mod:`stat_lib.metrics.commitments`; every
data string is escaped with :func:`stat_lib.present.html.esc`.
"""

from __future__ import annotations

import pandas as pd

from ..metrics import commitments as c
from ..metrics.registry import format_value
from .html import esc, table

STATE_ORDER = ("done", "overdue", "dropped", "open")


def blank(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with missing cells as empty text (for display)."""
    out = frame.astype(object)
    return out.where(out.notna(), "")


def state_text(row) -> str:
    """``done 2026-10-20 (on time)``, ``overdue: 12 days``, ``dropped 2026-10-25``, ``open``."""
    if row["state"] == "overdue":
        return f"overdue: {row['days_overdue']} day{'s' if row['days_overdue'] != 1 else ''}"
    if row["state"] == "done":
        return f"done {row['closed_on']} ({'on time' if row['on_time'] else 'late'})"
    if row["state"] == "dropped":
        return f"dropped {row['closed_on']}"
    return f"open (due {row['due_on']})"


def promise_text(row, assess) -> str:
    """For a commitment tied to a metric: moved as promised or not, with the numbers."""
    if not isinstance(row["metric"], str) or not row["metric"]:
        return ""
    target = None if pd.isna(row["target"]) else float(row["target"])
    return c.moved_as_promised(assess(row["metric"]), row["metric"], row["direction"],
                               target)["text"]


def since_last_session(params, department: str, day, assess, columns=None) -> str:
    """The section's HTML: the last session, counts by state, one row per commitment
    (``assess(metric)``: the department's :class:`~stat_lib.metrics.methods.Assessment`)."""
    cur, sess = c.load(params)
    last, rows = c.since_last(cur, sess, department, day)
    lede = (f"Last session: {last['held_on']}" + (f" ({last['title']})" if last['title'] else "")
            if last is not None else "No earlier session is recorded for this department")
    if rows.empty:
        return (f'<p class="stat-lede">{esc(lede)}. No commitment was due, closed or overdue '
                f'since then (as of {esc(day)}).</p>')
    counts = rows["state"].value_counts()
    parts = ", ".join(f"{counts[s]} {s}" for s in STATE_ORDER if counts.get(s))
    lede += (f". As of {day} (the data's as-of day): {parts}; {int(rows['on_time'].sum())} "
             f"done by the due date.")
    shown = rows.assign(state_text=[state_text(r) for _, r in rows.iterrows()],
                        promise=[promise_text(r, assess) for _, r in rows.iterrows()],
                        due=rows["due_on"].astype(str))
    cols = {"what": "Commitment", "owner": "Owner", "due": "Due", "state_text": "Status",
            "promise": "Did its metric move as promised?", "notes": "Notes"}
    cols = columns(cols) if columns else cols  # the public edition: no owners, no notes
    return (f'<p class="stat-lede">{esc(lede)}</p><div class="stat-commitments">'
            + table(blank(shown), cols) + "</div>")


def follow_up(params, day, names: dict[str, str], columns=None) -> str:
    """Citywide: the follow-up rate by department, then every overdue commitment."""
    cur, sess = c.load(params)
    rates = c.follow_up_rate(cur, sess, day, departments=list(names))
    rates = rates.assign(name=rates["department"].map(names),
                         rate_text=[format_value(r, "rate") if r is not None else "n/a"
                                    for r in rates["rate"]],
                         done_text=[f"{d} of {n}" for d, n in zip(rates["done_on_time"],
                                                                 rates["due"])])
    lede = (f"Follow-up rate: commitments done by their due date / commitments due, in the "
            f"{c.FOLLOW_UP_MONTHS} months to {day} (commitments dropped before they fell due "
            f"are not counted).")
    over = c.overdue(cur, sess, day)
    over = over.assign(name=over["department"].map(names), due=over["due_on"].astype(str),
                       days=over["days_overdue"].map("{:,}".format))
    tail = f"<p>No commitment is overdue as of {esc(day)}.</p>"
    if len(over):
        cols = {"name": "Department", "what": "Commitment", "owner": "Owner", "due": "Due",
                "days": "Days overdue"}
        tail = '<div class="stat-commitments">' + table(
            over, columns(cols) if columns else cols,
            caption=f"Overdue commitments as of {day}") + "</div>"
    return (f'<p class="stat-lede">{esc(lede)}</p>'
            + table(rates, {"name": "Department", "done_text": "Done by due date",
                            "rate_text": "Follow-up rate", "overdue": "Overdue now",
                            "dropped": "Dropped before due"}) + tail)
