"""Reading contact-center intervals from the store: a frame, rejects, a fingerprint.

A store written before the ``telephony`` kind existed has no telephony tables: it reads as none.
"""

from __future__ import annotations

from ..core.manifest import once
from .connection import connect

TELEPHONY_COLUMNS = ["queue", "interval_start", "interval_minutes", "offered", "answered",
                     "abandoned", "short_abandoned", "answered_within",
                     "speed_of_answer_seconds", "handle_seconds", "agent_hours", "source_file",
                     "source_row"]


def _has_tables(con) -> bool:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_name LIKE 'telephony%'").fetchall()}
    return {"telephony", "telephony_rejects"} <= names


def load_telephony(params, end=None):
    """Every stored interval (starting before ``end`` when given), times in the city's zone,
    oldest first; columns :data:`TELEPHONY_COLUMNS`."""
    import pandas as pd
    where, args = ("WHERE interval_start < ?", [end]) if end is not None else ("", [])
    with connect(params) as con:
        if not _has_tables(con):
            return pd.DataFrame(columns=TELEPHONY_COLUMNS)
        df = con.execute(f"SELECT {', '.join(TELEPHONY_COLUMNS)} FROM telephony {where} "
                         f"ORDER BY interval_start, queue", args).df()
    df["interval_start"] = pd.to_datetime(df["interval_start"], utc=True).dt.tz_convert(
        params.city.timezone)
    return df


def telephony_rejects(params) -> dict[str, int]:
    """Rejected telephony rows by reason."""
    with connect(params) as con:
        if not _has_tables(con):
            return {}
        return dict(con.execute("SELECT reason, count(*) FROM telephony_rejects GROUP BY 1 "
                                "ORDER BY 1").fetchall())


def telephony_fingerprint(params) -> str:
    """A content hash of the stored intervals: a change in any of them changes it (asked once
    per planning pass, ``stat_lib.core.manifest.one_pass``)."""
    return once(("telephony", str(params.store_path)), lambda: _telephony_hash(params))


def _telephony_hash(params) -> str:
    import hashlib
    with connect(params) as con:
        if not _has_tables(con):
            return "none"
        values = con.execute(
            "SELECT count(*), sum(hash(queue, interval_start, interval_minutes, offered, "
            "answered, abandoned, short_abandoned, answered_within, speed_of_answer_seconds, "
            "handle_seconds, agent_hours)::HUGEINT)::VARCHAR FROM telephony").fetchall()[0]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]
