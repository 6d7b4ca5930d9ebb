"""A source's ``date_format`` that parses none of a non-empty date column is an error.

Without it every date of the column would be blanked (or every row rejected) quietly.
"""

from __future__ import annotations

from ..core.errors import SourceError

_PARSED = {"requested_at": ("requested_text IS NOT NULL", "requested_at IS NOT NULL")}


def _counts(field: str) -> tuple[str, str]:
    """SQL: (the row has a value, the value parsed) for one date field of ``classified``."""
    return _PARSED.get(field, (f"(bad_{field} OR {field} IS NOT NULL)", f"{field} IS NOT NULL"))


def refuse_unparsed(con, index: int, name: str, profile, raw, found: dict, fields) -> None:
    """Raise ``SourceError`` when a text date column of source ``index`` has values and the
    source's ``date_formats`` parse none of them."""
    for field in fields:
        col = found.get(field)
        if not col or raw.columns.get(col, "").upper().startswith(("TIMESTAMP", "DATE")):
            continue
        has, parsed = _counts(field)
        n, ok = con.execute(f"SELECT count(*) FILTER (WHERE {has}), count(*) FILTER (WHERE "
                            f"{parsed}) FROM classified WHERE source_index = ?",
                            [index]).fetchall()[0]
        if n and not ok:
            example = _example(con, raw, col)
            raise SourceError(
                f"source {name!r}: date_format {list(profile.date_formats)} parses none of the "
                f"{n:,} values of {field} (column {col!r}), e.g. {example!r}. Fix: set "
                f"'columns: {{date_format: ...}}' to the export's format in strptime codes "
                f"(e.g. '%Y-%m-%d %H:%M:%S'), or a list of formats", key="columns.date_format")


def _example(con, raw, col: str):
    q = '"' + col.replace('"', '""') + '"'
    for rf in raw.files:
        if rf.columns and col not in rf.columns:
            continue
        row = con.execute(f"SELECT CAST({q} AS VARCHAR) FROM {rf.table} WHERE "
                          f"NULLIF(trim(CAST({q} AS VARCHAR)), '') IS NOT NULL LIMIT 1").fetchall()
        if row:
            return row[0][0]
    return None
