"""Spreadsheet-safe cells: text a spreadsheet would run as a formula is neutralised.

Excel, LibreOffice and Google Sheets read a cell that begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (OWASP "CSV injection"), so a department name such as
``=HYPERLINK(...)`` in params would become a live link in ``metrics.csv``. Every CSV or Excel
file stat_lib writes passes its text through :func:`safe_text`: such text gets a leading
apostrophe, which spreadsheets show as plain text. Numbers stay numbers (only ``str`` values
change).
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) passed through safe_text."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_text)
    out.columns = [safe_text(c) for c in out.columns]
    return out
