"""Reading permits from the store: permits and their clock stops as frames, a fingerprint.

A store written before the ``permits`` kind existed has no permit tables: it reads as none.
"""

from __future__ import annotations

from ..core.manifest import once
from .connection import connect
from .requests import ALL, by_department

PERMIT_COLUMNS = ["permit_id", "permit_type", "department", "status", "received_at",
                  "complete_at", "issued_at", "fee", "redress_paid", "quality", "source_file",
                  "source_row"]
PERMIT_TIMES = ["received_at", "complete_at", "issued_at"]
STOP_COLUMNS = ["permit_id", "stop_start", "stop_end"]


def _has_tables(con) -> bool:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_name LIKE 'permit%'").fetchall()}
    return {"permits", "permit_stops", "permit_rejects"} <= names


def _frame(con, sql: str, args: list, columns: list, times: list, tz: str):
    import pandas as pd
    df = con.execute(sql, args).df() if _has_tables(con) else pd.DataFrame(columns=columns)
    for col in times:
        df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(tz)
    return df


def load_permits(params, department: str | None = None):
    """``(permits, stops)`` frames of one department (all when None), times in the city's zone.

    ``permits`` has :data:`PERMIT_COLUMNS`; ``stops`` the clock-stop intervals
    (:data:`STOP_COLUMNS`) of those permits.
    """
    where, args = ("WHERE department = ?", [department]) if department else ("", [])
    tz = params.city.timezone
    with connect(params) as con:
        permits = _frame(con, f"SELECT {', '.join(PERMIT_COLUMNS)} FROM permits {where} "
                              f"ORDER BY permit_id", args, PERMIT_COLUMNS, PERMIT_TIMES, tz)
        joined = where.replace("department", "p.department")
        stops = _frame(con, f"SELECT s.permit_id, s.stop_start, s.stop_end FROM permit_stops s "
                            f"JOIN permits p USING (permit_id) {joined} ORDER BY 1, 2", args,
                       STOP_COLUMNS, ["stop_start", "stop_end"], tz)
    return permits, stops


def permit_rejects(params, department: str | None = None) -> dict[str, int]:
    """Rejected permit rows by reason (those of ``department`` when given: permits only)."""
    where, args = ("WHERE department = ?", [department]) if department else ("", [])
    with connect(params) as con:
        if not _has_tables(con):
            return {}
        return dict(con.execute(f"SELECT reason, count(*) FROM permit_rejects {where} "
                                f"GROUP BY 1 ORDER BY 1", args).fetchall())


def permit_fingerprint(params, department: str | None = None) -> str:
    """A content hash of a department's permits and stops (all when None): a change in any
    stored permit or stop changes it, so the batch re-runs that department's packet. Every
    department's comes from one query, kept for a planning pass (``core.manifest.one_pass``).
    """
    import hashlib
    figures = once(("permits", str(params.store_path)), lambda: _permit_figures(params))
    if figures is None:
        return "none"
    values, stops = (f.get(department or ALL, (0, None)) for f in figures)
    return hashlib.sha256(repr((values, stops)).encode()).hexdigest()[:16]


def _permit_figures(params):
    """(permits, stops): department (or ``ALL``) -> (count, hash sum); None without tables."""
    with connect(params) as con:
        if not _has_tables(con):
            return None
        return (by_department(con, "permits", "count(*), sum(hash(permit_id, permit_type, "
                              "status, received_at, complete_at, issued_at, fee, redress_paid)"
                              "::HUGEINT)::VARCHAR"),
                by_department(con, "permit_stops s JOIN permits p USING (permit_id)",
                              "count(*), sum(hash(s.permit_id, s.stop_start, s.stop_end)"
                              "::HUGEINT)::VARCHAR", column="p.department"))
