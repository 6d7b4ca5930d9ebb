"""A drill-down list as an Excel workbook for a field crew (openpyxl through pandas).

Text cells go through :func:`stat_lib.core.cells.safe_frame`: an address or a note beginning
with ``=``, ``+``, ``-`` or ``@`` would otherwise be written as a live formula (openpyxl
stores such a string as a formula). Excel has no time zones, so times are written as the
city's local wall times (the header says which zone). The file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.atomic_write import atomic_path
from ..core.cells import safe_frame
from ..core.errors import UsageError

MAX_WIDTH = 60


def excel_frame(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``frame`` ready for Excel: local naive times (columns renamed ``<name> (<tz>)``),
    formula-safe text, prepared ``_`` columns dropped."""
    out = frame[[c for c in frame.columns if not str(c).startswith("_")]].copy()
    renames = {}
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(tz).dt.tz_localize(None)
            renames[col] = f"{col} ({tz})"
    return safe_frame(out.rename(columns=renames))


def to_excel(frame: pd.DataFrame, path, *, sheet: str = "Requests", tz: str = "UTC") -> Path:
    """Write ``frame`` to ``path`` (.xlsx): a header row frozen, columns sized to fit."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"expected an .xlsx path for the workbook, got {str(path)!r}")
    data = excel_frame(frame, tz)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            data.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for i, col in enumerate(data.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in data.iloc[:200, i - 1]])
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(width + 2,
                                                                              MAX_WIDTH)
    return path
