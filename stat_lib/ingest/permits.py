"""The ``permits`` kind's ingest: permit applications and their clock stops, checked and stored.

Same shape as :mod:`stat_lib.ingest.requests`: ``prepare`` reads every ``permits:`` and
``permit_stops:`` source of city.yaml into temp tables (through a profile of
:mod:`stat_lib.ingest.permit_profiles` and the source's ``columns:``), gives each row a reject
reason or none, and keeps one version per permit id; ``commit`` replaces the ``permits``,
``permit_stops`` and ``permit_rejects`` tables inside the pipeline's one transaction (the
permit exports are the whole truth: each ingest re-derives them). Every row read is stored or
rejected with its reason, file and row: rows read = stored + rejected (+ filtered out by a
source's ``columns.filter``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import readers
from .permit_profiles import resolve_permits, resolve_stops
from .report import KindReport, SourceReport
from .requests import _earliest, _lit, _q, _text, _timestamp, _typed_date

PERMIT_REASONS = {
    "missing_permit_id": "no permit id",
    "missing_permit_type": "no permit type",
    "missing_received_at": "no received date",
    "bad_received_at": "received date not readable",
    "unknown_department": "department value not in any department's source_codes",
    "bad_complete_at": "complete-application date not readable",
    "bad_issued_at": "issued date not readable",
    "complete_before_received": "application complete before it was received",
    "issued_before_complete": "issued before the application was complete",
    "implausible_received_at": "received date before the source's earliest_date or after the "
                               "ingest time",
    "implausible_complete_at": "complete date before earliest_date or after the ingest time",
    "implausible_issued_at": "issued date before earliest_date or after the ingest time",
    "bad_fee": "fee not a number",
    "bad_redress_paid": "redress paid not a number",
    "duplicate": "an older version of a permit id that appears again",
    "missing_stop_start": "clock stop without a start date",
    "bad_stop_start": "clock stop start not readable",
    "bad_stop_end": "clock stop end not readable",
    "stop_end_before_start": "clock stop ends before it starts",
    "implausible_stop_date": "clock stop date before earliest_date or after the ingest time",
    "unknown_permit": "clock stop of a permit id that is not stored",
    "malformed_line": "CSV line with the wrong number of fields (raw: the line's text)",
}
PERMIT_DATES = ("received_at", "complete_at", "issued_at")
STOP_DATES = ("stop_start", "stop_end")
MONEY = ("fee", "redress_paid")


@dataclass
class PermitReport(KindReport):
    """What the permits ingest did: per source counts, and what the store holds after it."""

    permits_stored: int = 0
    stops_stored: int = 0

    def summary(self) -> str:
        out = [f"Permits: {self.rows_read:,} rows read, {self.permits_stored:,} permits and "
               f"{self.stops_stored:,} clock stops stored, {self.rows_rejected:,} rejected."]
        return "\n".join(out + self.source_lines(PERMIT_REASONS))


# -- prepare: temp tables only ---------------------------------------------------------------

def prepare(con, params, layers) -> tuple[list, list]:
    """Read and classify every permits and stops source; mark duplicates and unknown permits."""
    _dept_map(con, params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE permit_classified ({_PERMIT_COLS}, "
                f"reason VARCHAR)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE stop_classified ({_STOP_COLS}, reason VARCHAR)")
    reports, raws = [], []
    inputs = [(s, resolve_permits(s), "permit") for s in params.city.permits]
    inputs += [(s, resolve_stops(s), "stop") for s in params.city.permit_stops]
    for i, (source, profile, what) in enumerate(inputs):
        raw = readers.read(con, source, params, f"{what}_raw{i}", _wanted(profile, source))
        stage = _stage_permits if what == "permit" else _stage_stops
        reports.append(_stage(con, params, i, source, profile, raw, stage, what))
        raws.append((raw, what))
    _mark_duplicates(con)
    con.execute("""UPDATE stop_classified SET reason = 'unknown_permit'
        WHERE reason IS NULL AND permit_id NOT IN
          (SELECT permit_id FROM permit_classified WHERE reason IS NULL)""")
    _collect_rejects(con, raws)
    return reports, raws


_PERMIT_COLS = ("source_index INT, source_file VARCHAR, source_row BIGINT, raw_rowid BIGINT, "
                "permit_id VARCHAR, permit_type VARCHAR, dept_raw VARCHAR, department VARCHAR, "
                "status VARCHAR, received_text VARCHAR, received_at TIMESTAMPTZ, "
                "complete_text VARCHAR, complete_at TIMESTAMPTZ, issued_text VARCHAR, "
                "issued_at TIMESTAMPTZ, fee_text VARCHAR, fee DOUBLE, redress_paid_text VARCHAR, "
                "redress_paid DOUBLE")
_STOP_COLS = ("source_index INT, source_file VARCHAR, source_row BIGINT, raw_rowid BIGINT, "
              "permit_id VARCHAR, stop_start_text VARCHAR, stop_start TIMESTAMPTZ, "
              "stop_end_text VARCHAR, stop_end TIMESTAMPTZ")


def _dept_map(con, params) -> None:
    rows = " UNION ALL ".join(f"SELECT {_lit(code)} AS code, {_lit(slug)} AS slug"
                              for code, slug in params.department_for_code().items())
    con.execute("CREATE OR REPLACE TEMP TABLE permit_dept_map AS "
                + (rows or "SELECT NULL::VARCHAR AS code, NULL::VARCHAR AS slug LIMIT 0"))


def _wanted(profile, source):
    """The columns a permit source is read with; a missing required one is a SourceError."""
    from .profiles import missing_columns

    def pick(columns):
        if profile.missing(columns):
            raise missing_columns(profile, source, columns)
        used = set(profile.match(columns).values())
        return [c for c in columns if c in used] or list(columns)
    return pick


def _stage(con, params, index, source, profile, raw, stage, what) -> SourceReport:
    """Classify one source's rows into ``<what>_classified``; count read and filtered rows."""
    report = SourceReport(raw.name, [f.label for f in raw.files])
    found = profile.match(list(raw.columns))
    tz = profile.timezone or params.city.timezone

    def value(f, dates):
        col = found.get(f)
        if not col:
            return ("NULL::TIMESTAMPTZ" if f in dates else "NULL::VARCHAR"), "NULL::VARCHAR"
        dtype = raw.columns.get(col, "")
        text = _text(col)
        if f not in dates:
            return text, text
        clean = _q(col) if _typed_date(dtype) else text
        return _timestamp(clean, dtype, tz, profile.date_formats), text
    where = f" WHERE ({profile.filter})" if profile.filter else ""
    for rf in raw.files:
        report.rows_read += rf.rows
        head = (f"{index} AS source_index, {_lit(rf.label)} AS source_file, __row AS source_row, "
                f"__rowid AS raw_rowid")
        con.execute(stage(head, value, f"{rf.numbered()}{where}", _earliest(source, tz)))
    staged = con.execute(f"SELECT count(*) FROM {what}_classified WHERE source_index = ?",
                         [index]).fetchall()[0][0]
    report.filtered = report.rows_read - sum(rf.malformed for rf in raw.files) - staged
    return report


def _money(text: str) -> str:
    return f"try_cast(regexp_replace({text}, '[$,\\s]', '', 'g') AS DOUBLE)"


def _implausible(field: str, earliest: str) -> str:
    """SQL: ``p.<field>`` outside [earliest_date, ingest time + 1 day] (the 311 rule)."""
    return (f"p.{field} < {earliest} OR p.{field} > current_timestamp + INTERVAL 1 DAY")


def _stage_permits(head, value, source, earliest) -> str:
    v = {f: value(f, PERMIT_DATES) for f in ("permit_id", "permit_type", "department",
                                             "status", *PERMIT_DATES, *MONEY)}
    cols = [head, f"{v['permit_id'][0]} AS permit_id", f"{v['permit_type'][0]} AS permit_type",
            f"{v['department'][0]} AS dept_raw", f"{v['status'][0]} AS status"]
    for f in PERMIT_DATES:
        short = f.removesuffix("_at")
        cols += [f"{v[f][1]} AS {short}_text", f"{v[f][0]} AS {f}"]
    for f in MONEY:
        cols += [f"{v[f][1]} AS {f}_text", f"{_money(v[f][1])} AS {f}"]
    return (f"INSERT INTO permit_classified BY NAME SELECT p.*, d.slug AS department, "
            f"{_permit_reason(earliest)} AS reason FROM (SELECT {', '.join(cols)} FROM {source}) p "
            f"LEFT JOIN permit_dept_map d ON p.dept_raw = d.code")


def _permit_reason(earliest: str) -> str:
    """The first reason a permit row cannot be stored (NULL: stored). The clock's dates are
    never blanked: an unreadable or implausible one rejects the row. Order is checked on
    instants less a day, so a date-only issue on the day the application was complete is fine."""
    return f"""CASE WHEN p.permit_id IS NULL THEN 'missing_permit_id'
    WHEN p.permit_type IS NULL THEN 'missing_permit_type'
    WHEN p.received_text IS NULL THEN 'missing_received_at'
    WHEN p.received_at IS NULL THEN 'bad_received_at'
    WHEN {_implausible('received_at', earliest)} THEN 'implausible_received_at'
    WHEN d.slug IS NULL THEN 'unknown_department'
    WHEN p.complete_text IS NOT NULL AND p.complete_at IS NULL THEN 'bad_complete_at'
    WHEN p.issued_text IS NOT NULL AND p.issued_at IS NULL THEN 'bad_issued_at'
    WHEN {_implausible('complete_at', earliest)} THEN 'implausible_complete_at'
    WHEN {_implausible('issued_at', earliest)} THEN 'implausible_issued_at'
    WHEN p.complete_at < p.received_at - INTERVAL 1 DAY THEN 'complete_before_received'
    WHEN p.issued_at < coalesce(p.complete_at, p.received_at) - INTERVAL 1 DAY
      THEN 'issued_before_complete'
    WHEN p.fee_text IS NOT NULL AND p.fee IS NULL THEN 'bad_fee'
    WHEN p.redress_paid_text IS NOT NULL AND p.redress_paid IS NULL THEN 'bad_redress_paid'
    END"""


def _stage_stops(head, value, source, earliest) -> str:
    v = {f: value(f, STOP_DATES) for f in ("permit_id", *STOP_DATES)}
    cols = [head, f"{v['permit_id'][0]} AS permit_id"]
    for f in STOP_DATES:
        cols += [f"{v[f][1]} AS {f}_text", f"{v[f][0]} AS {f}"]
    reason = f"""CASE WHEN p.permit_id IS NULL THEN 'missing_permit_id'
    WHEN p.stop_start_text IS NULL THEN 'missing_stop_start'
    WHEN p.stop_start IS NULL THEN 'bad_stop_start'
    WHEN p.stop_end_text IS NOT NULL AND p.stop_end IS NULL THEN 'bad_stop_end'
    WHEN {_implausible('stop_start', earliest)} OR {_implausible('stop_end', earliest)}
      THEN 'implausible_stop_date'
    WHEN p.stop_end < p.stop_start THEN 'stop_end_before_start' END"""
    return (f"INSERT INTO stop_classified BY NAME SELECT p.*, {reason} AS reason FROM "
            f"(SELECT {', '.join(cols)} FROM {source}) p")


def _mark_duplicates(con) -> None:
    """Of the loadable rows sharing a permit id, all but the latest get reason 'duplicate'."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE permit_losers AS
        WITH ranked AS (
          SELECT source_index, source_file, source_row, permit_id,
            row_number() OVER (PARTITION BY permit_id ORDER BY
              coalesce(issued_at, complete_at, received_at) DESC,
              source_index DESC, source_file DESC, source_row DESC) AS version
          FROM permit_classified WHERE reason IS NULL)
        SELECT l.source_index, l.source_file, l.source_row,
               'superseded by ' || w.source_file || ' row ' || w.source_row AS detail
        FROM ranked l JOIN ranked w ON w.permit_id = l.permit_id AND w.version = 1
        WHERE l.version > 1""")
    con.execute("""
        UPDATE permit_classified SET reason = 'duplicate' FROM permit_losers l
        WHERE permit_classified.source_index = l.source_index
          AND permit_classified.source_file = l.source_file
          AND permit_classified.source_row = l.source_row""")


_DETAIL = {"bad_received_at": "'received ' || c.received_text",
           "bad_complete_at": "'complete ' || c.complete_text",
           "bad_issued_at": "'issued ' || c.issued_text",
           "unknown_department": "'department value ' || coalesce(c.dept_raw, 'empty')",
           "complete_before_received": "'complete ' || c.complete_at::VARCHAR || ' < received '"
                                       " || c.received_at::VARCHAR",
           "issued_before_complete": "'issued ' || c.issued_at::VARCHAR || ' < complete ' || "
                                     "coalesce(c.complete_at, c.received_at)::VARCHAR",
           "implausible_received_at": "'received ' || c.received_text",
           "implausible_complete_at": "'complete ' || c.complete_text",
           "implausible_issued_at": "'issued ' || c.issued_text",
           "bad_fee": "'fee ' || c.fee_text",
           "bad_redress_paid": "'redress paid ' || c.redress_paid_text",
           "duplicate": "l.detail"}
_STOP_DETAIL = {"bad_stop_start": "'stop start ' || c.stop_start_text",
                "bad_stop_end": "'stop end ' || c.stop_end_text",
                "implausible_stop_date": "'stop ' || c.stop_start_text || ' to ' || "
                                         "coalesce(c.stop_end_text, 'open')",
                "stop_end_before_start": "'end ' || c.stop_end::VARCHAR || ' < start ' || "
                                         "c.stop_start::VARCHAR",
                "unknown_permit": "'no stored permit ' || c.permit_id"}


def _case(details: dict) -> str:
    return "CASE c.reason " + " ".join(f"WHEN {_lit(k)} THEN {v}"
                                       for k, v in details.items()) + " END"


def _collect_rejects(con, raws) -> None:
    """Every rejected row with reason, detail and raw columns -> ``new_permit_rejects``."""
    con.execute("CREATE OR REPLACE TEMP TABLE new_permit_rejects (source_index INT, "
                "source_file VARCHAR, source_row BIGINT, permit_id VARCHAR, reason VARCHAR, "
                "detail VARCHAR, raw VARCHAR, department VARCHAR)")
    for index, (raw, what) in enumerate(raws):
        permit = what == "permit"
        detail = _case(_DETAIL if permit else _STOP_DETAIL)
        losers = ("LEFT JOIN permit_losers l ON l.source_index = c.source_index AND "
                  "l.source_file = c.source_file AND l.source_row = c.source_row"
                  if permit else "")
        for rf in raw.files:
            con.execute(f"""
                INSERT INTO new_permit_rejects SELECT c.source_index, c.source_file,
                  c.source_row, c.permit_id, c.reason, {detail}, to_json(t)::VARCHAR,
                  {'c.department' if permit else 'NULL'}
                FROM {what}_classified c JOIN {rf.table} t ON t.rowid = c.raw_rowid {losers}
                WHERE c.reason IS NOT NULL AND c.source_index = {index}
                  AND c.source_file = {_lit(rf.label)}""")
            if rf.bad_table:
                con.execute(f"INSERT INTO new_permit_rejects SELECT {index}, {_lit(rf.label)}, "
                            f"source_row, NULL, 'malformed_line', detail, raw, NULL "
                            f"FROM {rf.bad_table}")
                con.execute(f"DROP TABLE {rf.bad_table}; DROP TABLE {rf.bad_table}_shift")
            con.execute(f"DROP TABLE {rf.table}")


# -- commit: inside the pipeline's transaction -----------------------------------------------

def commit(con, params, layers, prepared) -> PermitReport:
    """Replace the permit tables with this ingest's rows (``prepared``: from :func:`prepare`)."""
    reports, raws = prepared
    con.execute("DELETE FROM permits; DELETE FROM permit_stops; DELETE FROM permit_rejects")
    con.execute("""INSERT INTO permits SELECT permit_id, permit_type, department, status,
        received_at, complete_at, issued_at, fee, redress_paid,
        CASE WHEN complete_at IS NULL THEN 'no_complete_date' END, source_file, source_row
        FROM permit_classified WHERE reason IS NULL ORDER BY permit_id""")
    con.execute("""INSERT INTO permit_stops SELECT permit_id, stop_start, stop_end, source_file,
        source_row FROM stop_classified WHERE reason IS NULL ORDER BY permit_id, stop_start""")
    con.execute("INSERT INTO permit_rejects SELECT source_file, source_row, permit_id, reason, "
                "detail, raw, department FROM new_permit_rejects")
    report = PermitReport(reports)
    _tally(con, report)
    _log_ingests(con, raws)
    con.execute("DROP TABLE permit_classified; DROP TABLE stop_classified; "
                "DROP TABLE new_permit_rejects; DROP TABLE permit_losers")
    return report


def _tally(con, report: PermitReport) -> None:
    loaded = dict(con.execute(
        "SELECT source_index, count(*) FROM (SELECT source_index FROM permit_classified WHERE "
        "reason IS NULL UNION ALL SELECT source_index FROM stop_classified WHERE reason IS "
        "NULL) GROUP BY 1").fetchall())
    flagged = dict(con.execute("SELECT source_index, count(*) FROM permit_classified WHERE "
                               "reason IS NULL AND complete_at IS NULL GROUP BY 1").fetchall())
    for i, s in enumerate(report.sources):
        s.loaded = loaded.get(i, 0)
        s.rejected = dict(con.execute("SELECT reason, count(*) FROM new_permit_rejects WHERE "
                                      "source_index = ? GROUP BY 1 ORDER BY 1", [i]).fetchall())
        s.quality = {"no_complete_date": flagged[i]} if flagged.get(i) else {}
    report.permits_stored = con.execute("SELECT count(*) FROM permits").fetchall()[0][0]
    report.stops_stored = con.execute("SELECT count(*) FROM permit_stops").fetchall()[0][0]


def _log_ingests(con, raws) -> None:
    for raw, what in raws:
        for rf in raw.files:
            good = con.execute(f"SELECT count(*) FROM {what}_classified WHERE source_file = ? "
                               f"AND reason IS NULL", [rf.label]).fetchall()[0][0]
            bad = con.execute("SELECT count(*) FROM new_permit_rejects WHERE source_file = ?",
                              [rf.label]).fetchall()[0][0]
            con.execute("INSERT INTO ingests (ingested_at, source, rows_read, rows_loaded, "
                        "rows_rejected, content_hash, kind) VALUES (now(), ?, ?, ?, ?, ?, "
                        "'permits')",
                        [rf.label, rf.rows, good, bad, rf.content_hash])
