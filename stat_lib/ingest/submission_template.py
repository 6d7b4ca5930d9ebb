"""The KPI submission workbook a liaison fills in (``stat-lib submissions template``).

Sheet ``Instructions`` says what to do; sheet ``KPIs`` holds the department and period (cells
B2, B3) and one row per KPI from row 6: id, measure, value, unit, prior period's value, valid
range, notes. The sheet is protected: only the value and notes cells can be edited, and Excel
refuses a value that is not a number in the KPI's valid range (data validation). The loader
(:mod:`stat_lib.ingest.submissions`) checks everything again, so a workbook edited elsewhere
is held to the same rules.
"""

from __future__ import annotations

from pathlib import Path

from ..core.cells import safe_text
from ..core.periods import Period

SHEET = "KPIs"
DEPT_CELL, PERIOD_CELL = "B2", "B3"
HEADER_ROW, FIRST_ROW = 5, 6
COLUMNS = ("KPI id", "Measure", "Value", "Unit", "Prior period", "Valid range", "Notes")
VALUE_COL, NOTE_COL = "C", "G"


def kpis_for(department, period: Period) -> list:
    """The department's KPIs due for ``period`` (monthly KPIs for a month, quarterly for a
    quarter)."""
    return [k for k in department.kpis if k.period_kind() == period.kind]


def instructions(department, period: Period, due: str, factor: float) -> list[str]:
    return [
        f"KPI submission: {department.name}, {period.label}",
        "",
        f"1. On the sheet '{SHEET}', type each figure for {period.label} in the Value column "
        f"(column C). Only Value and Notes can be edited.",
        "2. Enter plain numbers (no units, no text); each must be within its Valid range.",
        f"3. A figure more than {factor:g} times the prior period's (or a change of sign) needs "
        f"a note in the Notes column explaining it.",
        "4. Do not change the department, the period or the KPI ids: the file is checked "
        "against them.",
        f"5. Send the saved workbook to the performance team by {due}. If any figure is "
        f"refused, nothing is stored; the reply lists every cell to fix.",
    ]


def write_template(department, period: Period, prior: dict, due: str, factor: float,
                   path: str | Path) -> Path:
    """Write the workbook for ``department`` and ``period`` to ``path``.

    ``prior``: KPI id -> the prior period's submitted value (shown for context).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    info = wb.active
    info.title = "Instructions"
    for i, line in enumerate(instructions(department, period, due, factor), start=1):
        info.cell(row=i, column=1, value=safe_text(line))
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 110
    info.protection.sheet = True
    ws = wb.create_sheet(SHEET)
    ws["A1"], ws["A1"].font = "KPI submission", Font(bold=True, size=14)
    ws["A2"], ws[DEPT_CELL], ws["C2"] = "Department", department.slug, safe_text(department.name)
    ws["A3"], ws[PERIOD_CELL] = "Period", period.label
    for col, title in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=title)
        cell.font = Font(bold=True)
    editable = PatternFill("solid", fgColor="FFF8DC")
    for row, kpi in enumerate(kpis_for(department, period), start=FIRST_ROW):
        values = (kpi.id, safe_text(kpi.label), None, kpi.unit, prior.get(kpi.id),
                  kpi.valid.text() or "any number", None)
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        for col in (VALUE_COL, NOTE_COL):
            ws[f"{col}{row}"].protection = Protection(locked=False)
            ws[f"{col}{row}"].fill = editable
        ws.add_data_validation(_validation(kpi, f"{VALUE_COL}{row}", DataValidation))
    for col, width in zip("ABCDEFG", (22, 44, 14, 12, 14, 22, 50)):
        ws.column_dimensions[col].width = width
    ws.protection.sheet = True
    wb.active = 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _validation(kpi, ref: str, DataValidation):
    lo, hi = kpi.valid.min, kpi.valid.max
    if lo is not None and hi is not None:
        dv = DataValidation(type="decimal", operator="between", formula1=str(lo),
                            formula2=str(hi))
    elif lo is not None or hi is not None:
        op = "greaterThanOrEqual" if lo is not None else "lessThanOrEqual"
        dv = DataValidation(type="decimal", operator=op, formula1=str(lo if hi is None else hi))
    else:
        dv = DataValidation(type="decimal", operator="between", formula1="-1E+307",
                            formula2="1E+307")
    dv.error = f"Enter a number {kpi.valid.text() or ''}".strip()
    dv.errorTitle = "Not a valid figure"
    dv.showErrorMessage = True
    dv.add(ref)
    return dv
