"""Sessions and commitments in the records store: append-only, so every change is kept.

A session is recorded once (``session_id``: its date and departments, ``2026-10-14-sanitation``).
A commitment is added as revision 1 (``commitment_id``: its session's id and a number,
``2026-10-14-sanitation-2``); an update or a close appends the next revision with every field,
so the latest revision is the commitment's state and the earlier ones are its history. Like
KPI submissions (:mod:`stat_lib.store.submissions`) the rows live in the records store, which
no ingest, rebuild or ``make clean`` touches; one writer at a time is DuckDB's own file lock,
waited on by :func:`stat_lib.store.connection.connect_file`.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from ..core.errors import UsageError
from ..core.manifest import once
from .records import connect_records, read_records

FIELDS = ["session_id", "department", "what", "owner", "due_on", "status", "closed_on", "notes",
          "metric", "direction", "target"]
CURRENT = """SELECT * FROM commitments QUALIFY row_number() OVER (
    PARTITION BY commitment_id ORDER BY revision DESC) = 1"""
SESSION_COLUMNS = ["session_id", "held_on", "departments", "title", "notes", "recorded_at"]
COMMITMENT_COLUMNS = ["commitment_id", "revision", *FIELDS, "recorded_at", "recorded_by"]


def session_id(held_on, departments) -> str:
    """``2026-10-14-sanitation`` (a group: ``2026-10-14-beautification+sanitation``)."""
    return f"{pd.Timestamp(held_on):%Y-%m-%d}-{'+'.join(sorted(departments))}"


def add_session(params, held_on, departments, title=None, notes=None) -> str:
    """Record a session; the same date and departments twice is refused."""
    with connect_records(params) as con:
        return _add_session(con, held_on, departments, title, notes)


def add_commitment(params, fields: dict, by: str | None = None) -> str:
    """Append a new commitment (revision 1) of an existing session; its id."""
    return apply(params, added=[fields], by=by)["added"][0]


def revise(params, commitment_id: str, fields: dict, by: str | None = None) -> int:
    """Append the next revision of a commitment (every field, as checked by the caller)."""
    return apply(params, revised=[(commitment_id, fields)], by=by)["revised"][0]


def apply(params, sessions=(), added=(), revised=(), by: str | None = None) -> dict:
    """In one transaction: add ``sessions`` (held_on, departments), ``added`` commitments and
    ``revised`` (commitment id, fields); the new ids and revision numbers."""
    with connect_records(params) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            out = {"sessions": [_add_session(con, h, d) for h, d in sessions],
                   "added": [_add_commitment(con, f, by) for f in added],
                   "revised": [_revise(con, cid, f, by) for cid, f in revised]}
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return out


def _add_session(con, held_on, departments, title=None, notes=None) -> str:
    sid = session_id(held_on, departments)
    if con.execute("SELECT 1 FROM sessions WHERE session_id = ?", [sid]).fetchone():
        raise UsageError(f"session {sid} is already recorded; list them with "
                         f"`stat-lib sessions list`")
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                [sid, held_on, sorted(departments), title, notes, _now()])
    return sid


def _add_commitment(con, fields: dict, by) -> str:
    _known_session(con, fields["session_id"])
    n = con.execute("SELECT count(DISTINCT commitment_id) FROM commitments WHERE "
                    "session_id = ?", [fields["session_id"]]).fetchone()[0]
    cid = f"{fields['session_id']}-{n + 1}"
    _insert(con, cid, 1, fields, by)
    return cid


def _revise(con, commitment_id: str, fields: dict, by) -> int:
    last = con.execute("SELECT max(revision) FROM commitments WHERE commitment_id = ?",
                       [commitment_id]).fetchone()[0]
    if last is None:
        raise UsageError(f"no commitment {commitment_id!r}; list them with "
                         f"`stat-lib commitments list`")
    _insert(con, commitment_id, last + 1, fields, by)
    return last + 1


def _insert(con, cid: str, revision: int, fields: dict, by) -> None:
    con.execute(f"INSERT INTO commitments VALUES ({', '.join(['?'] * 15)})",
                [cid, revision, *[fields.get(f) for f in FIELDS], _now(), by])


def _known_session(con, sid: str) -> None:
    if not con.execute("SELECT 1 FROM sessions WHERE session_id = ?", [sid]).fetchone():
        raise UsageError(f"no session {sid!r}; record it first with `stat-lib sessions add "
                         f"DATE DEPARTMENT...` (list them with `stat-lib sessions list`)")


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


def _read(params, sql: str, args=None) -> pd.DataFrame | None:
    return read_records(params, sql, args, ("sessions", "commitments"))


def _dates(frame: pd.DataFrame, columns) -> pd.DataFrame:
    for col in columns:
        frame[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[col]]
    return frame


def sessions(params) -> pd.DataFrame:
    """Every session, oldest first (``departments``: a list of slugs)."""
    out = _read(params, "SELECT * FROM sessions ORDER BY held_on, session_id")
    if out is None:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    out["departments"] = [list(d) for d in out["departments"]]
    return _dates(out, ["held_on"])


def commitments(params) -> pd.DataFrame:
    """Every commitment's current state (its latest revision), by session and number."""
    return _commitments(params, CURRENT)


def history(params, commitment_id: str | None = None) -> pd.DataFrame:
    """Every revision of every commitment (or of one), oldest first."""
    where = "" if commitment_id is None else " WHERE commitment_id = ?"
    return _commitments(params, f"SELECT * FROM commitments{where}",
                        [] if commitment_id is None else [commitment_id])


def _commitments(params, sql: str, args=None) -> pd.DataFrame:
    out = _read(params, f"SELECT * FROM ({sql}) ORDER BY session_id, "
                        f"length(commitment_id), commitment_id, revision", args)
    if out is None:
        return pd.DataFrame(columns=COMMITMENT_COLUMNS)
    out["target"] = out["target"].astype(float)
    return _dates(out, ["due_on", "closed_on"])


def sessions_fingerprint(params, department: str | None = None) -> str:
    """A hash of the sessions and commitment revisions (of one department, or all): a packet
    that shows them re-runs when they change. One query answers every department, kept for a
    planning pass (``stat_lib.core.manifest.one_pass``)."""
    rows = once(("sessions", str(params.records_path)), lambda: _fingerprint_rows(params))
    mine = [r[:3] for r in rows if _concerns(r, department)]
    text = repr(mine) if mine else ""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint_rows(params) -> list:
    """``[kind, id, revision, department, total]``: each commitment's latest revision per
    department and overall (``total`` 1), then each session per department it lists and
    overall; by kind and id."""
    rows = _read(params, """SELECT 'c', commitment_id, max(revision)::VARCHAR, department,
        grouping(department) FROM commitments
        GROUP BY GROUPING SETS ((commitment_id, department), (commitment_id))
        UNION ALL SELECT DISTINCT 's', session_id, '', department, 0
        FROM (SELECT session_id, unnest(departments) AS department FROM sessions)
        UNION ALL SELECT 's', session_id, '', NULL, 1 FROM sessions
        ORDER BY 1, 2""")
    return [] if rows is None else rows.values.tolist()


def _concerns(row, department: str | None) -> bool:
    _, _, _, owner, total = row
    return bool(total) if department is None else not total and owner == department
