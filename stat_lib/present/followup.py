"""The follow-up memo of a session (CitiStat's one page after the meeting): the commitments
made, their owners and due dates. A standalone, printable HTML page; every data string
escaped (:func:`stat_lib.present.html.esc`)."""

from __future__ import annotations

import pandas as pd

from .html import esc, table
from .sessions_section import blank

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:46rem;
margin:2rem auto;color:#222;font-size:11pt}h1{font-size:1.4rem;margin:0 0 .2rem}
.meta{color:#555;margin:0 0 1rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ccc;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}@page{size:letter;margin:.6in}
@media print{body{margin:0;max-width:none}}"""


def followup_html(params, session: pd.Series, made: pd.DataFrame) -> str:
    """The memo for ``session`` (a row of ``store.sessions.sessions``) and the commitments
    made at it (their current state)."""
    names = [params.departments[s].name if s in params.departments else s
             for s in session["departments"]]
    title = f"Follow-up: {' and '.join(names)} Stat, {session['held_on']}"
    made = made.sort_values(["due_on", "commitment_id"])
    rows = made.assign(due=made["due_on"].astype(str),
                       tied=[_tie(r) for _, r in made.iterrows()])
    cols = {"what": "Commitment", "owner": "Owner", "due": "Due",
            "tied": "Should move (metric)"}
    if not any(rows["tied"]):
        cols.pop("tied")
    body = table(blank(rows), cols) if len(made) else \
        "<p>No commitment was recorded at this session.</p>"
    notes = f"<p>{esc(session['notes'])}</p>" if isinstance(session["notes"], str) else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}'
            f'</title><style>{STYLE}</style></head><body><h1>{esc(title)}</h1>'
            f'<p class="meta">{esc(params.city.name)} · {len(made)} commitment(s) made · '
            f'session {esc(session["session_id"])}</p>{notes}{body}'
            f'<p class="meta">Each commitment is checked at the next session ("Since last '
            f'session" in the department packet).</p></body></html>')


def _tie(row) -> str:
    if not isinstance(row["metric"], str) or not row["metric"]:
        return ""
    from ..metrics.registry import format_value, metric_def
    d = metric_def(row["metric"])
    goal = f" to {format_value(row['target'], d.unit)}" if not pd.isna(row["target"]) else ""
    return f"{d.label}: {row['direction']}{goal}"
