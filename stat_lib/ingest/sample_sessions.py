"""Sessions and commitments of the bundled sample city: a year of minutes, deterministic.

Every sample department meets on the second Tuesday of each month from 2025-11 to 2026-10
(12 sessions each). Each session records two routine commitments due 3 to 5 weeks later whose
fate is drawn from ``random.Random(f"{SEED}-{slug}-{month}")`` (done on time, done late,
dropped, or still open), never the clock; a routine commitment still open after the data ends
(``DATA_END``) stays open. The sessions of September and October 2026 add commitments tied
to metrics, chosen against what the sample's October 2026 charts show:

- Beautification, backlog down: the backlog fell below its lower limit (moved as promised);
- Sanitation, overdue requests down to 300: they rose above the upper limit (not moved, and
  overdue since 2026-10-23);
- Sanitation, on time at 85% or more: common cause, but the target is met (moved as promised);
- Street Lighting, median days to close down to 10: it rose (not moved, and overdue);
- Information Technology, on time higher: common cause and no target (not moved);
- one Street Lighting commitment was dropped at the October session.

The minutes are written as the CSV an analyst keeps (``data/sessions/minutes.csv``) and loaded
with the same import as any analyst's file (``stat_lib.run.minutes.import_minutes``).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

SEED, FIRST, MONTHS = 2026, (2025, 11), 12
DATA_END = dt.date(2026, 11, 10)
MINUTES = "data/sessions/minutes.csv"
COLUMNS = ["session_date", "department", "what", "owner", "due_on", "status", "closed_on",
           "notes", "metric", "direction", "target"]
ROUTINE = ["Walk the {area} routes with the supervisors and report what slows closures",
           "Audit the oldest open requests and close the duplicates",
           "Brief the council offices on the new service levels",
           "Fix the mis-routed request types with the 311 team",
           "Cross-train two crews to cover the weekend peak",
           "Publish the monthly figures on the department's page"]
AREAS = ["Valley", "Harbor", "Westside", "Eastside", "Central"]
# (session month, department, what, owner, due, status, closed_on, notes, metric, dir, target)
TIED = [
    ("2026-09", "beautification", "Cut the open graffiti backlog with a second removal crew",
     "Graffiti abatement manager", "2026-10-20", "done", "2026-10-16", "", "backlog_open",
     "lower", ""),
    ("2026-09", "sanitation", "Bring overdue open requests back under 300",
     "Director of collections", "2026-10-23", "open", "", "crews short after the heat wave",
     "overdue_open", "lower", "300"),
    ("2026-09", "sanitation", "Hold closures on time at 85% or better through the fall",
     "Solid resources superintendent", "2026-10-30", "done", "2026-10-30", "",
     "on_time_rate", "higher", "0.85"),
    ("2026-09", "street-lighting", "Shorten the median time to close streetlight repairs to 10 "
     "days", "Street lighting engineer", "2026-10-27", "open", "", "waiting on a parts order",
     "median_days_to_close", "lower", "10"),
    ("2026-09", "information-technology", "Raise the share of tickets closed on time",
     "Service desk lead", "2026-10-21", "done", "2026-10-19", "", "on_time_rate", "higher",
     ""),
    ("2026-10", "street-lighting", "Survey every dark pole on the Harbor corridor",
     "Street lighting engineer", "2026-10-29", "dropped", "2026-10-20",
     "folded into the citywide pole audit", "", "", ""),
]


def second_tuesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


def months() -> list[tuple[int, int]]:
    y, m = FIRST
    return [(y + (m - 1 + i) // 12, (m - 1 + i) % 12 + 1) for i in range(MONTHS)]


def routine_rows(params) -> list[dict]:
    rows = []
    for year, month in months():
        held = second_tuesday(year, month)
        for slug in sorted(params.departments):
            rng = random.Random(f"{SEED}-{slug}-{year}-{month:02d}")
            for what in rng.sample(ROUTINE, 2):
                rows.append(_routine(rng, held, slug, what.format(area=rng.choice(AREAS))))
    return rows


def _routine(rng, held: dt.date, slug: str, what: str) -> dict:
    due = held + dt.timedelta(days=rng.randint(21, 35))
    fate = rng.choices(["on_time", "late", "dropped", "open"], [68, 17, 10, 5])[0]
    closed = {"on_time": due - dt.timedelta(days=rng.randint(0, 10)),
              "late": due + dt.timedelta(days=rng.randint(3, 20)),
              "dropped": due - dt.timedelta(days=rng.randint(1, 14))}.get(fate)
    if closed is not None and (closed > DATA_END or closed < held):
        closed, fate = None, "open"
    status = "open" if closed is None else "dropped" if fate == "dropped" else "done"
    return {"session_date": held, "department": slug, "what": what,
            "owner": f"{slug.replace('-', ' ').capitalize()} deputy", "due_on": due,
            "status": status, "closed_on": closed or "", "notes": "", "metric": "",
            "direction": "", "target": ""}


def tied_rows(params) -> list[dict]:
    rows = []
    for month, slug, *rest in TIED:
        if slug not in params.departments:
            continue
        y, m = (int(x) for x in month.split("-"))
        rows.append(dict(zip(COLUMNS, [second_tuesday(y, m), slug, *rest])))
    return rows


def write_sample(params) -> Path:
    """Write the sample minutes (sessions by date, then department) and return the path."""
    rows = sorted(routine_rows(params) + tied_rows(params),
                  key=lambda r: (str(r["session_date"]), r["department"]))
    path = params.path(MINUTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    return path
