"""KPI submissions of the bundled sample city: deterministic CSVs and one rejected workbook.

For the months 2025-10 to 2026-10 every department with ``kpis:`` submits a CSV
(``data/submissions/<slug>-<period>.csv``), received a few days before its due date, except
in October 2026: Information Technology's arrives late (2026-11-20, after the 2026-11-16 due
day) and Street Lighting's never arrives. Sanitation's bulky item pickups are the sample's
311 figure (closed Bulky Items requests of the month) rounded to the nearest 50, so they
agree with 311; its illegal dumping tonnage of 2026-07 is more than 3x June's and carries the
note that explains it. ``examples/sanitation-2026-10-bad-cell.xlsx`` is the template filled in
with ``12a`` in cell C7: the loader rejects it whole. Everything comes from
``numpy.random.default_rng(seed)``; today's date plays no part.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.due_dates import due_day
from ..core.periods import Period
from . import submission_template as tpl

FIRST, LAST, SEED = "2025-10", "2026-10", 2026
LATE = {("information-technology", "2026-10"): "2026-11-20"}
MISSING = {("street-lighting", "2026-10")}
BAD_WORKBOOK = "examples/sanitation-2026-10-bad-cell.xlsx"
# KPI id -> (typical value, month-to-month spread)
LEVELS = {"illegal_dumping_tons": (950, 60), "missed_collections": (380, 30),
          "graffiti_sq_ft_removed": (860, 50), "lights_repaired": (1450, 90),
          "water_waste_inspections": (620, 40), "service_desk_resolved": (3100, 150)}
SPECIAL = {("illegal_dumping_tons", "2026-07"): (3150, "Clean Streets week: three extra crews "
                                                 "cleared the Sepulveda Basin encampment"),
           ("illegal_dumping_tons", "2026-08"): (None, "back to the usual crews after Clean "
                                                 "Streets week"),
           ("missed_collections", "2026-10"): (540, None)}


def months() -> list[Period]:
    first, last = Period.parse(FIRST), Period.parse(LAST)
    out, p = [], first
    while not last < p:
        out.append(p)
        p = p.next()
    return out


def bulky_closed(params) -> dict[str, int]:
    """Closed Bulky Items requests of Sanitation per month, from the sample's 311 source."""
    source = params.path(params.city.sources[0].path)
    d = pd.read_parquet(source, columns=["Owner", "RequestType", "Status", "ClosedDate"])
    d = d[(d["Owner"] == "BOS") & (d["RequestType"] == "Bulky Items") & (d["Status"] == "Closed")]
    closed = pd.to_datetime(d["ClosedDate"])
    return {str(k): int(v) for k, v in closed.dt.to_period("M").value_counts().items()}


def write_sample(params, folder: str | Path | None = None) -> list[tuple[Path, pd.Timestamp]]:
    """Write the sample's submission CSVs (and the rejected workbook, when missing) into
    ``folder`` (default ``city.submissions.folder``); return (CSV path, received at) in load
    order."""
    folder = params.path(folder or params.city.submissions.folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    calendar = BusinessCalendar.from_city(params.city)
    bulky = bulky_closed(params)
    written = []
    for period in months():
        due = due_day(period, calendar, params.city.submissions.due_business_days)
        for slug, dept in sorted(params.departments.items()):
            rows = [_row(kpi, period, rng, bulky) for kpi in dept.kpis]
            offset = int(rng.integers(1, 7))
            if not rows or (slug, period.label) in MISSING:
                continue
            day = LATE.get((slug, period.label)) or str(pd.Timestamp(due) -
                                                         pd.Timedelta(days=offset))[:10]
            path = folder / f"{slug}-{period.label}.csv"
            _write_csv(path, slug, period.label, rows)
            written.append((path, pd.Timestamp(f"{day} 10:00").tz_localize(params.city.timezone)))
    if not (folder / BAD_WORKBOOK).exists():  # kept as committed (a rewrite changes its zip)
        write_bad_workbook(params, folder / BAD_WORKBOOK)
    return written


def _row(kpi, period: Period, rng, bulky: dict) -> tuple:
    noise = float(rng.normal())
    if kpi.id == "bulky_items_collected":
        return kpi.id, int(round(bulky.get(period.label, 0) / 50) * 50), None
    level, spread = LEVELS.get(kpi.id, (100, 10))
    value, note = SPECIAL.get((kpi.id, period.label), (None, None))
    return kpi.id, int(round(level + spread * noise)) if value is None else value, note


def _write_csv(path: Path, slug: str, period: str, rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["department", "period", "kpi", "value", "note"])
        for kpi, value, note in rows:
            out.writerow([slug, period, kpi, value, note or ""])


def write_bad_workbook(params, path: Path) -> Path:
    """The template of Sanitation for 2026-10 filled in, with ``12a`` in C7 (tons)."""
    from openpyxl import load_workbook
    dept, period = params.department("sanitation"), Period.parse("2026-10")
    tpl.write_template(dept, period, {}, "2026-11-16", params.city.submissions.change_factor,
                       path)
    wb = load_workbook(path)
    ws = wb[tpl.SHEET]
    for row, value in zip(range(tpl.FIRST_ROW, tpl.FIRST_ROW + 3), (2300, "12a", 540)):
        ws[f"{tpl.VALUE_COL}{row}"] = value
    _fixed_times(wb)
    wb.save(path)
    return path


def _fixed_times(wb) -> None:
    import datetime as dt
    stamp = dt.datetime(2026, 11, 9, 9, 0)
    wb.properties.created = wb.properties.modified = stamp


def main() -> int:
    """``python -m stat_lib.ingest.sample_submissions [HOME]``: rewrite the sample's files."""
    import sys

    from ..params import load_params
    params = load_params(sys.argv[1] if len(sys.argv) > 1 else PROJECT_HOME)
    written = write_sample(params)
    print(f"wrote {len(written)} submission files into {params.city.submissions.folder}")
    return 0


PROJECT_HOME = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    raise SystemExit(main())
