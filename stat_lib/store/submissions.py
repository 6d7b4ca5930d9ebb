"""KPI submissions in the records store: append-only, so every earlier figure stays readable.

A load appends one ``kpi_submissions`` row (file, content hash, loaded at, the submission it
replaces) and its ``kpi_values``; the current figures of a department and period are those of
its latest submission, and the earlier ones are its history. Reviews (accepted / queried, with
a comment) are appended to ``kpi_reviews``; the latest review of a figure is its state.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from ..core.manifest import once
from .records import connect_records, read_records

LATEST = """SELECT * FROM kpi_submissions QUALIFY row_number() OVER (
    PARTITION BY department, period ORDER BY loaded_at DESC, submission_id DESC) = 1"""


def store_submission(params, department: str, period: str, file: str, content_hash: str,
                     values: list[dict], received_at=None) -> dict:
    """Append one submission (``values``: dicts of kpi, value, note, cell) in one transaction.

    ``received_at``: when the department sent it (default: now), which decides on time or late.
    Returns the stored submission: ``submission_id``, ``replaces`` (the previous submission of
    this department and period, or None) and ``previous`` (kpi -> its value there).
    """
    loaded_at = pd.Timestamp.now(tz="UTC")
    sid = hashlib.sha256(f"{department}|{period}|{content_hash}|{loaded_at}".encode()
                         ).hexdigest()[:16]
    with connect_records(params) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            prev = con.execute(f"SELECT submission_id FROM ({LATEST}) WHERE department = ? "
                               f"AND period = ?", [department, period]).fetchone()
            replaces = prev[0] if prev else None
            previous = dict(con.execute("SELECT kpi, value FROM kpi_values WHERE "
                                        "submission_id = ?", [replaces]).fetchall())
            con.execute("INSERT INTO kpi_submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [sid, department, period, file, content_hash, loaded_at,
                         received_at if received_at is not None else loaded_at,
                         len(values), replaces])
            con.executemany("INSERT INTO kpi_values VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [[sid, department, period, v["kpi"], v["value"], v.get("note"),
                              v.get("cell")] for v in values])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return {"submission_id": sid, "replaces": replaces, "previous": previous}


def add_review(params, department: str, period: str, kpi: str, status: str, comment: str,
               reviewer: str | None = None) -> None:
    """Append an analyst's review of one submitted figure."""
    with connect_records(params) as con:
        con.execute("INSERT INTO kpi_reviews VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [department, period, kpi, status, comment, reviewer,
                     pd.Timestamp.now(tz="UTC")])


def _frame(params, sql: str, args=None) -> pd.DataFrame | None:
    return read_records(params, sql, args, ("kpi_submissions", "kpi_values", "kpi_reviews"))


def current_values(params, departments=None) -> pd.DataFrame:
    """The figures of each department and period's latest submission (with the file and load
    time, and the latest review's status and comment)."""
    sql = f"""SELECT v.department, v.period, v.kpi, v.value, v.note, v.cell, s.file,
        s.loaded_at, s.submission_id, r.status AS review, r.comment AS review_comment
        FROM ({LATEST}) s JOIN kpi_values v USING (submission_id)
        LEFT JOIN (SELECT * FROM kpi_reviews QUALIFY row_number() OVER (
            PARTITION BY department, period, kpi ORDER BY reviewed_at DESC) = 1) r
          ON r.department = v.department AND r.period = v.period AND r.kpi = v.kpi
        ORDER BY v.department, v.period, v.kpi"""
    out = _frame(params, sql)
    if out is None:
        out = pd.DataFrame(columns=["department", "period", "kpi", "value", "note", "cell",
                                    "file", "loaded_at", "submission_id", "review",
                                    "review_comment"])
    return out if departments is None else out[out["department"].isin(list(departments))]


def current_state(params, department: str, period: str, prior: str) -> tuple[str | None, dict]:
    """In one read: the content hash of the current submission of ``department`` and
    ``period`` (None when none), and the current values of the ``prior`` period (kpi -> value)."""
    sql = f"""SELECT s.period, s.content_hash, v.kpi, v.value FROM ({LATEST}) s
        LEFT JOIN kpi_values v USING (submission_id)
        WHERE s.department = ? AND s.period IN (?, ?)"""
    rows = _frame(params, sql, [department, period, prior])
    if rows is None or rows.empty:
        return None, {}
    now = rows.loc[rows["period"] == period, "content_hash"]
    before = rows[(rows["period"] == prior) & rows["kpi"].notna()]
    return (now.iloc[0] if len(now) else None,
            dict(zip(before["kpi"], before["value"].astype(float))))


def latest_submissions(params) -> pd.DataFrame:
    """One row per department and period: its latest submission (file, hash, loaded at)."""
    out = _frame(params, LATEST + " ORDER BY department, period")
    return out if out is not None else pd.DataFrame(
        columns=["submission_id", "department", "period", "file", "content_hash", "loaded_at",
                 "received_at", "kpis", "replaces"])


def history(params) -> pd.DataFrame:
    """Every value ever submitted, with its file, load time and whether it is current."""
    sql = f"""SELECT s.department, s.period, v.kpi, v.value, v.note, v.cell, s.file,
        s.content_hash, s.loaded_at, s.submission_id, s.replaces,
        s.submission_id IN (SELECT submission_id FROM ({LATEST})) AS current
        FROM kpi_submissions s JOIN kpi_values v USING (submission_id)
        ORDER BY s.department, s.period, s.loaded_at, v.kpi"""
    out = _frame(params, sql)
    return out if out is not None else pd.DataFrame()


def reviews(params) -> pd.DataFrame:
    """Every review, oldest first."""
    out = _frame(params, "SELECT * FROM kpi_reviews ORDER BY reviewed_at")
    return out if out is not None else pd.DataFrame()


def submissions_fingerprint(params, department: str | None = None) -> str:
    """A hash of the current submissions and reviews (of one department, or all): a packet
    that shows them re-runs when they change. One query answers every department, kept for a
    planning pass (``stat_lib.core.manifest.one_pass``)."""
    rows = once(("submissions", str(params.records_path)), lambda: _fingerprint_rows(params))
    if rows is None:
        return hashlib.sha256(b"").hexdigest()[:16]
    subs = [[r[2]] for r in rows if r[0] == 0 and department in (None, r[1])]
    rev = next(([int(r[3]), r[4]] for r in rows if r[0] == 1
                and (r[5] if department is None else not r[5] and r[1] == department)),
               [0, None])
    text = "" if not subs and not rev[0] else repr(subs) + repr([rev])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint_rows(params) -> list | None:
    """``[part, department, submission_id, reviews, newest review, total]``: the current
    submissions (part 0, by id), then the reviews' count and newest per department and overall
    (part 1, ``total`` 1); None before anything was entered."""
    rows = _frame(params, f"""SELECT 0, department, submission_id, NULL::BIGINT, NULL::VARCHAR,
        0 FROM ({LATEST}) UNION ALL SELECT 1, department, NULL, count(*),
        max(reviewed_at)::VARCHAR, grouping(department) FROM kpi_reviews
        GROUP BY GROUPING SETS ((department), ()) ORDER BY 1, 3""")
    return None if rows is None else rows.values.tolist()
