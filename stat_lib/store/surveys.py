"""Reading survey responses from the store: responses as a frame, rejects, a fingerprint.

A store written before the ``surveys`` kind existed has no survey tables: it reads as none.
"""

from __future__ import annotations

from ..core.manifest import once
from .connection import connect
from .requests import ALL, by_department

RESPONSE_COLUMNS = ["response_id", "responded_at", "department", "service", "district",
                    "answer", "comment", "weight", "source_file", "source_row"]


def _has_tables(con) -> bool:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_name LIKE 'survey%'").fetchall()}
    return {"survey_responses", "survey_rejects"} <= names


def _where(department):
    return ("WHERE department = ?", [department]) if department else ("", [])


def load_responses(params, department: str | None = None):
    """The stored responses of one department (all when None), :data:`RESPONSE_COLUMNS`,
    ``responded_at`` in the city's zone."""
    import pandas as pd
    where, args = _where(department)
    with connect(params) as con:
        if not _has_tables(con):
            return pd.DataFrame(columns=RESPONSE_COLUMNS)
        df = con.execute(f"SELECT {', '.join(RESPONSE_COLUMNS)} FROM survey_responses {where} "
                         f"ORDER BY responded_at, source_file, source_row", args).df()
    df["responded_at"] = pd.to_datetime(df["responded_at"], utc=True).dt.tz_convert(
        params.city.timezone)
    return df


def survey_rejects(params, department: str | None = None) -> dict[str, int]:
    """Rejected survey rows by reason (those of ``department`` when given)."""
    where, args = _where(department)
    with connect(params) as con:
        if not _has_tables(con):
            return {}
        return dict(con.execute(f"SELECT reason, count(*) FROM survey_rejects {where} "
                                f"GROUP BY 1 ORDER BY 1", args).fetchall())


def survey_fingerprint(params, department: str | None = None) -> str:
    """A content hash of a department's responses (all when None): any change re-runs its
    packet. Every department's comes from one query, kept for a planning pass."""
    import hashlib
    figures = once(("surveys", str(params.store_path)), lambda: _survey_figures(params))
    if figures is None:
        return "none"
    values = figures.get(department or ALL, (0, None))
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def _survey_figures(params) -> dict | None:
    with connect(params) as con:
        if not _has_tables(con):
            return None
        return by_department(con, "survey_responses", "count(*), sum(hash(responded_at, "
                             "district, answer, comment, weight)::HUGEINT)::VARCHAR")
