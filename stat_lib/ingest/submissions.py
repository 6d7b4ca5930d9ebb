"""Load KPI submissions (``stat-lib submissions load FILE...``): strict, and all or nothing.

A file (the workbook of :mod:`stat_lib.ingest.submission_template`, or a CSV with columns
``department, period, kpi, value, note``) is read and checked completely before anything is
stored: unknown department or KPI, a period that is not a KPI period or has not ended,
values that are not numbers or are out of the KPI's valid range, a KPI given twice, a
required KPI missing, and a value more than ``submissions.change_factor`` times the prior
period's (or of the other sign) without a note. Every problem is reported at once, by file,
sheet and cell (``KPIs!C7``) or CSV line; a file with any problem stores nothing
(:class:`~stat_lib.core.errors.SubmissionRejected`, exit code 9). Each file stands alone: one
rejected workbook does not hold back another. A re-submission (same department and period)
replaces the current figures; the earlier ones stay in the records store's history.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import SubmissionRejected, UsageError
from ..core.periods import Period
from ..store import submissions as records
from . import submission_template as tpl

CSV_COLUMNS = ("department", "period", "kpi", "value", "note")


@dataclass
class Row:
    """One submitted figure as read, with where it came from (``KPIs!C7`` or ``line 3``)."""

    kpi: str
    value: object
    note: str | None
    where: str
    id_where: str


@dataclass
class Loaded:
    """A file that was stored (or was already stored, unchanged)."""

    file: str
    department: str
    period: str
    kpis: int
    status: str  # "loaded" | "unchanged"
    replaces: str | None = None
    changed: dict = field(default_factory=dict)

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{self.file}: unchanged (already loaded for {self.department} {self.period})"
        text = f"{self.file}: loaded {self.kpis} KPI(s) for {self.department} {self.period}"
        if self.replaces:
            moved = ", ".join(f"{k} {a:g} -> {b:g}" for k, (a, b) in self.changed.items())
            text += f"; replaces the earlier submission ({moved or 'same figures'})"
        return text


@dataclass
class Parsed:
    department: object
    period: object
    rows: list[Row]
    problems: list[str]
    dept_where: str
    period_where: str


def load_files(params, paths, received_at=None, expect=None
               ) -> tuple[list[Loaded], list[SubmissionRejected]]:
    """Load each file on its own: (stored files, rejected files with their problems)."""
    loaded, rejected = [], []
    for path in paths:
        try:
            loaded.append(load_file(params, path, received_at=received_at, expect=expect))
        except SubmissionRejected as exc:
            rejected.append(exc)
    return loaded, rejected


def load_file(params, path, received_at=None, expect: dict | None = None) -> Loaded:
    """Check one file completely, then store it; ``SubmissionRejected`` lists every problem.

    ``expect``: optional ``{"department": slug, "period": label}`` the file must be for.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionRejected(path.name, [f"{path}: no such file"])
    data = path.read_bytes()
    parsed = _read(path)
    dept, period, problems = _check_header(params, parsed)
    problems += _check_expected(parsed, dept, period, expect or {})
    stored_hash = None
    if dept is not None and period is not None:
        stored_hash, prior = records.current_state(params, dept.slug, period.label,
                                                   period.prior().label)
        problems += _check_rows(params, dept, period, parsed.rows, prior)
    if problems:
        raise SubmissionRejected(path.name, problems)
    digest = hashlib.sha256(data).hexdigest()
    if stored_hash == digest:
        return Loaded(path.name, dept.slug, period.label, len(parsed.rows), "unchanged")
    values = [{"kpi": r.kpi, "value": float(r.value), "note": r.note, "cell": r.where}
              for r in parsed.rows if r.value is not None]
    stored = records.store_submission(params, dept.slug, period.label, path.name, digest,
                                      values, received_at=received_at)
    changed = {v["kpi"]: (stored["previous"][v["kpi"]], v["value"]) for v in values
               if v["kpi"] in stored["previous"] and stored["previous"][v["kpi"]] != v["value"]}
    return Loaded(path.name, dept.slug, period.label, len(values), "loaded",
                  stored["replaces"], changed)


# ---- reading ---------------------------------------------------------------------------------

def _read(path: Path) -> Parsed:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path)
    if suffix == ".csv":
        return _read_csv(path)
    return Parsed(None, None, [], [f"{path.name}: unknown file type {suffix!r}; expected the "
                                   f"submission workbook (.xlsx) or a .csv with columns "
                                   f"{', '.join(CSV_COLUMNS)}"], "", "")


def _read_workbook(path: Path) -> Parsed:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # zip or XML errors: not a readable workbook
        return Parsed(None, None, [], [f"{path.name}: not a readable Excel workbook ({exc}); "
                                       f"save it as .xlsx from the template"], "", "")
    if tpl.SHEET not in wb.sheetnames:
        return Parsed(None, None, [], [f"{path.name}: no sheet named {tpl.SHEET!r} (found "
                                       f"{', '.join(wb.sheetnames)}); use the workbook from "
                                       f"`stat-lib submissions template`"], "", "")
    ws, s = wb[tpl.SHEET], tpl.SHEET
    rows = []
    for r in range(tpl.FIRST_ROW, ws.max_row + 1):
        kpi = ws[f"A{r}"].value
        value = ws[f"{tpl.VALUE_COL}{r}"].value
        note = ws[f"{tpl.NOTE_COL}{r}"].value
        if kpi is None and value is None:
            continue
        rows.append(Row(str(kpi).strip() if kpi is not None else "", value,
                        str(note).strip() if note not in (None, "") else None,
                        f"{s}!{tpl.VALUE_COL}{r}", f"{s}!A{r}"))
    return Parsed(ws[tpl.DEPT_CELL].value, ws[tpl.PERIOD_CELL].value, rows, [],
                  f"{s}!{tpl.DEPT_CELL}", f"{s}!{tpl.PERIOD_CELL}")


def _read_csv(path: Path) -> Parsed:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return Parsed(None, None, [], [f"{path.name}: not UTF-8 text ({exc})"], "", "")
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        return Parsed(None, None, [], [f"{path.name}: missing column(s) {', '.join(missing)}; "
                                       f"expected {', '.join(CSV_COLUMNS)} (found "
                                       f"{', '.join(reader.fieldnames or []) or 'none'})"],
                      "", "")
    rows, depts, periods, problems = [], {}, {}, []
    for line, rec in enumerate(reader, start=2):
        depts.setdefault((rec["department"] or "").strip(), line)
        periods.setdefault((rec["period"] or "").strip(), line)
        value = (rec["value"] or "").strip()
        note = (rec.get("note") or "").strip() or None
        rows.append(Row((rec["kpi"] or "").strip(), value or None, note,
                        f"{path.name}:line {line} (value)", f"{path.name}:line {line} (kpi)"))
    for what, seen in (("department", depts), ("period", periods)):
        if len(seen) > 1:
            problems.append(f"{path.name}: one file holds one {what}; found "
                            f"{', '.join(repr(k) for k in seen)}; split the file")
    dept = next(iter(depts), None)
    period = next(iter(periods), None)
    where = f"{path.name}:line 2"
    return Parsed(dept, period, rows, problems, f"{where} (department)", f"{where} (period)")


# ---- checking --------------------------------------------------------------------------------

def _check_header(params, parsed: Parsed):
    problems = list(parsed.problems)
    if problems and not parsed.rows:
        return None, None, problems
    dept = params.departments.get(str(parsed.department or "").strip())
    if dept is None:
        problems.append(f"{parsed.dept_where}: department {parsed.department!r} is not a "
                        f"department of params/departments/; expected one of "
                        f"{', '.join(sorted(params.departments))}")
    elif not dept.kpis:
        problems.append(f"{parsed.dept_where}: {dept.slug} has no `kpis:` in "
                        f"params/departments/{dept.slug}.yaml; add them or check the department")
        dept = None
    period = _check_period(params, parsed, problems)
    return dept, period, problems


def _check_expected(parsed: Parsed, dept, period, expect: dict) -> list[str]:
    out = []
    if dept is not None and expect.get("department") not in (None, dept.slug):
        out.append(f"{parsed.dept_where}: department {dept.slug!r}, but this load is for "
                   f"{expect['department']!r}; send the file of the right department")
    if period is not None and expect.get("period") not in (None, period.label):
        out.append(f"{parsed.period_where}: period {period.label}, but this load is for "
                   f"{expect['period']}; send the figures of that period")
    return out


def _check_period(params, parsed: Parsed, problems: list[str]):
    try:
        period = Period.parse(str(parsed.period or "").strip(), params.city.timezone)
    except UsageError:
        problems.append(f"{parsed.period_where}: period {parsed.period!r} is not a month "
                        f"(2026-10) or quarter (2026-Q3); enter the period the figures cover")
        return None
    if period.kind not in ("month", "quarter"):
        problems.append(f"{parsed.period_where}: period {period.label} is a {period.kind}; KPIs "
                        f"are submitted per month or quarter")
        return None
    import pandas as pd
    if period.end > pd.Timestamp.now(tz=params.city.timezone):
        problems.append(f"{parsed.period_where}: period {period.label} has not ended; submit "
                        f"figures after the period closes")
        return None
    return period


def _check_rows(params, dept, period: Period, rows: list[Row], prior: dict) -> list[str]:
    """Every row's problems; ``prior``: the prior period's current values (kpi -> value)."""
    expected = {k.id: k for k in tpl.kpis_for(dept, period)}
    factor = params.city.submissions.change_factor
    problems, seen = [], {}
    for r in rows:
        kpi = expected.get(r.kpi)
        if kpi is None:
            problems.append(f"{r.id_where}: KPI {r.kpi!r} is not a {period.kind}ly KPI of "
                            f"{dept.slug}; expected one of {', '.join(expected) or 'none'}")
            continue
        if r.kpi in seen:
            problems.append(f"{r.id_where}: KPI {r.kpi!r} is given twice (first at "
                            f"{seen[r.kpi]}); keep one row per KPI")
            continue
        seen[r.kpi] = r.id_where
        problems += _check_value(r, kpi, prior.get(r.kpi), factor)
    for kid, kpi in expected.items():
        if kpi.required and kid not in seen:
            problems.append(f"KPI {kid!r} ({kpi.label}) is missing; add its row with a value")
    return problems


def _check_value(r: Row, kpi, prior, factor: float) -> list[str]:
    need = kpi.valid.text()
    fix = f"enter a number {need}" if need else "enter a number"
    if r.value is None or (isinstance(r.value, str) and not r.value.strip()):
        return [f"{r.where}: no value for {kpi.id!r}; {fix}"] if kpi.required else []
    number = _number(r.value)
    if number is None:
        return [f'{r.where}: value "{r.value}" is not a number; {fix}']
    r.value = number
    lo, hi = kpi.valid.min, kpi.valid.max
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return [f"{r.where}: value {number:g} is out of range for {kpi.id!r}; {fix}"]
    if prior is not None and not r.note and _big_change(number, prior, factor):
        return [f"{r.where}: value {number:g} is more than {factor:g}x away from the prior "
                f"period's {prior:g} (or changes sign); explain it in the Notes column"]
    return []


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _big_change(value: float, prior: float, factor: float) -> bool:
    """More than ``factor`` times larger or smaller than ``prior``, or of the other sign."""
    if value * prior < 0:
        return True
    a, b = abs(value), abs(prior)
    return a > factor * b or b > factor * a


def _prior_values(params, department: str, period: Period) -> dict:
    cur = records.current_values(params, [department])
    cur = cur[cur["period"] == period.prior().label]
    return dict(zip(cur["kpi"], cur["value"].astype(float)))


def template(params, department: str, period: str, out=None) -> Path:
    """Write the submission workbook of ``department`` for ``period`` (default
    ``<department>-<period>.xlsx`` in the current folder), with the prior period's figures."""
    from ..core.business_calendar import BusinessCalendar
    from ..core.due_dates import due_day
    dept = params.department(department)
    p = Period.parse(period, params.city.timezone)
    if p.kind not in ("month", "quarter"):
        raise UsageError(f"KPIs are submitted per month (2026-10) or quarter (2026-Q3), "
                         f"not per {p.kind} ({p.label})")
    if not tpl.kpis_for(dept, p):
        raise UsageError(f"{dept.slug} has no {'monthly' if p.kind == 'month' else 'quarterly'}"
                         f" KPIs; add `kpis:` to params/departments/{dept.slug}.yaml")
    settings = params.city.submissions
    due = due_day(p, BusinessCalendar.from_city(params.city), settings.due_business_days)
    out = Path(out) if out else Path(f"{dept.slug}-{p.label}.xlsx")
    return tpl.write_template(dept, p, _prior_values(params, dept.slug, p), due,
                              settings.change_factor, out)
