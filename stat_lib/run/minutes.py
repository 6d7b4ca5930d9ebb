"""Minutes: commitments read from and written to CSV and Excel, as analysts keep them.

One row per commitment: ``session_date``, ``department`` (the session's departments in
``session_departments`` when it was a group, joined by ``+``), ``what``, ``owner``, ``due_on``,
``status``, ``closed_on``, ``notes``, ``metric``, ``direction``, ``target``; an export adds
``commitment_id`` and ``revision``. Dates are strict: ISO ``2026-10-14`` unless the analyst
names their own format (``--date-format %d/%m/%Y``); a cell that does not match names its row
and column. A file with any problem stores nothing (``MinutesRejected``, every problem listed).
A row with a ``commitment_id`` (or the same session and ``what``) updates that commitment when
a field changed (a new revision) and is left alone when none did.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd

from ..core.cells import FORMULA_START, safe_frame
from ..core.errors import MinutesRejected, UsageError
from ..store import sessions as records
from .commitment_fields import check_fields

COLUMNS = ["commitment_id", "revision", "session_date", "session_departments", "department",
           "what", "owner", "due_on", "status", "closed_on", "notes", "metric", "direction",
           "target"]
DATES = ("session_date", "due_on", "closed_on")


def parse_day(value, fmt: str | None = None) -> dt.date | None:
    """A cell as a date: empty -> None; a spreadsheet date as it is; text in ``fmt`` (default
    ISO ``%Y-%m-%d``) exactly, else ``ValueError`` saying what was expected."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text, form = str(value).strip(), fmt or "%Y-%m-%d"
    try:
        return dt.datetime.strptime(text, form).date()
    except ValueError:
        example = dt.date(2026, 10, 14).strftime(form)
        raise ValueError(f"{text!r} is not a date in the format {form} (e.g. {example}); fix "
                         f"the cell" + ("" if fmt else ", or give --date-format for your own "
                                        "format")) from None


def unsafe_text(value):
    """Undo :func:`stat_lib.core.cells.safe_text` on a cell read back (``'=x`` -> ``=x``)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


# ---- reading ---------------------------------------------------------------------------------

def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number as the analyst sees it, cells by lower-case header) of a CSV or Excel file."""
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _excel_rows(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise UsageError(f"{path}: a minutes file is .csv or .xlsx, not {path.suffix!r}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return [(i + 2, row) for i, row in enumerate(frame.to_dict("records"))]


def _excel_rows(path: Path) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb["Commitments"] if "Commitments" in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(c).strip().lower() if c is not None else "" for c in next(rows, ())]
    out = [(n, dict(zip(header, r))) for n, r in enumerate(rows, start=2)
           if any(v not in (None, "") for v in r)]
    wb.close()
    return out


def parse_row(params, cells: dict, fmt: str | None, known: dict) -> tuple[dict, list[str]]:
    """One row as commitment fields plus its session; the row's problems (column: what)."""
    problems, row = [], {k: unsafe_text(v) for k, v in cells.items()}
    for col in DATES:
        try:
            row[col] = parse_day(row.get(col), fmt)
        except ValueError as exc:
            problems.append(f"column '{col}': {exc}")
    text = {k: (None if v is None or str(v).strip() == "" else str(v).strip())
            for k, v in row.items() if k not in DATES}
    dept = text.get("department")
    group = (text.get("session_departments") or dept or "").split("+")
    if row.get("session_date") is None and not any("session_date" in p for p in problems):
        problems.append("column 'session_date': empty; give the date of the session")
    fields = {**{k: text.get(k) for k in ("department", "what", "owner", "status", "notes",
                                          "metric", "direction", "target")},
              "due_on": row.get("due_on"), "closed_on": row.get("closed_on")}
    fields["status"] = fields["status"] or "open"
    if row.get("session_date") is not None:
        fields["session_id"] = records.session_id(row["session_date"], group)
    if not problems:
        fields, more = check_fields(params, fields, group)
        problems += more
    return {"fields": fields, "held_on": row.get("session_date"), "group": group,
            "commitment_id": text.get("commitment_id")}, problems


# ---- importing -------------------------------------------------------------------------------

def import_minutes(params, path: Path, fmt: str | None = None, by: str | None = None) -> dict:
    """Store a minutes file whole or not at all; counts of sessions and commitments added,
    updated and unchanged."""
    rows, problems = _checked(params, read_rows(path), fmt)
    if problems:
        raise MinutesRejected(path, problems)
    sessions = set(records.sessions(params)["session_id"])
    current = records.commitments(params)
    new_sessions, added, revised, unchanged, seen = [], [], [], 0, {}
    for item in rows:
        f = item["fields"]
        if f["session_id"] not in sessions:
            new_sessions.append((item["held_on"], item["group"]))
            sessions.add(f["session_id"])
        cid = item["commitment_id"] or _same(current, f)
        if cid is None and (f["session_id"], f["what"]) in seen:
            raise MinutesRejected(path, [f"row {item['row']}: the same commitment as row "
                                         f"{seen[f['session_id'], f['what']]} (same session "
                                         f"and what); keep one of them"])
        seen[f["session_id"], f["what"]] = item["row"]
        if cid is None:
            added.append(f)
        elif _changed(current, cid, f):
            revised.append((cid, f))
        else:
            unchanged += 1
    records.apply(params, new_sessions, added, revised, by)
    return {"sessions added": len(new_sessions), "added": len(added),
            "updated": len(revised), "unchanged": unchanged}


def _checked(params, rows, fmt) -> tuple[list[dict], list[str]]:
    current = set(records.commitments(params)["commitment_id"])
    out, problems = [], []
    for n, cells in rows:
        item, more = parse_row(params, cells, fmt, {})
        item["row"] = n
        if item["commitment_id"] and item["commitment_id"] not in current:
            more.append(f"column 'commitment_id': no commitment {item['commitment_id']!r} "
                        f"in the records; leave it empty to add a new one")
        problems += [f"row {n}, {p}" for p in more]
        out.append(item)
    if not rows:
        problems.append("no rows under the header; one row per commitment, columns: "
                        + ", ".join(COLUMNS[2:]))
    return out, problems


def _same(current: pd.DataFrame, f: dict) -> str | None:
    hit = current[(current["session_id"] == f["session_id"]) & (current["what"] == f["what"])]
    return None if hit.empty else hit["commitment_id"].iloc[0]


def _changed(current: pd.DataFrame, cid: str, f: dict) -> bool:
    row = current[current["commitment_id"] == cid].iloc[0]
    return any(not _equal(row[k], v) for k, v in f.items())


def _equal(a, b) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    return all(missing) if any(missing) else a == b


# ---- exporting -------------------------------------------------------------------------------

def minutes_frame(params) -> pd.DataFrame:
    """The current commitments as minutes rows (:data:`COLUMNS`)."""
    cur, sess = records.commitments(params), records.sessions(params)
    held = dict(zip(sess["session_id"], sess["held_on"]))
    groups = dict(zip(sess["session_id"], ["+".join(d) for d in sess["departments"]]))
    out = cur.assign(session_date=cur["session_id"].map(held),
                     session_departments=[g if g != d else None for g, d in zip(
                         cur["session_id"].map(groups), cur["department"])])
    return out[COLUMNS].reset_index(drop=True)


def export_minutes(params, out: Path, fmt: str = "csv") -> Path:
    """Write the current commitments (CSV, or an Excel workbook with their history and the
    sessions on further sheets); text cells formula-safe (:mod:`stat_lib.core.cells`)."""
    from ..core.atomic_write import atomic_path, write_text
    frame = safe_frame(minutes_frame(params))
    if fmt == "csv":
        write_text(out, frame.to_csv(index=False, lineterminator="\n"))
        return out
    sheets = {"Commitments": frame, "History": safe_frame(records.history(params).assign(
        recorded_at=lambda d: d["recorded_at"].astype(str))),
        "Sessions": safe_frame(records.sessions(params).assign(
            departments=lambda d: ["+".join(x) for x in d["departments"]],
            recorded_at=lambda d: d["recorded_at"].astype(str)))}
    with atomic_path(out) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, sheet in sheets.items():
            sheet.to_excel(xl, sheet_name=name, index=False)
    return out
