"""The ``telephony`` kind's ingest: contact-center interval rows, checked and stored.

Same shape as :mod:`stat_lib.ingest.permits`: ``prepare`` reads every ``telephony:`` source of
city.yaml into a temp table (through a profile of :mod:`stat_lib.ingest.telephony_profiles`
and the source's ``columns:``), gives each row a reject reason or none, and keeps one row per
queue and interval start; ``commit`` replaces the ``telephony`` and ``telephony_rejects``
tables inside the pipeline's one transaction. Every row read is stored or rejected with its
reason, file and row: rows read = stored + rejected (+ filtered out by ``columns.filter``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import readers
from .permits import _case, _implausible, _wanted
from .report import KindReport, SourceReport
from .requests import _earliest, _lit, _q, _text, _timestamp, _typed_date
from .telephony_profiles import COUNTS, TOTALS, resolve_telephony

TELEPHONY_REASONS = {
    "missing_queue": "no queue",
    "missing_interval_start": "no interval start",
    "bad_interval_start": "interval start not readable",
    "implausible_interval_start": "interval start before the source's earliest_date or after "
                                  "the ingest time",
    "bad_interval_minutes": "interval length not a whole number of minutes from 1 to 1440",
    "missing_count": "offered, answered, abandoned or answered within threshold empty",
    "bad_count": "a call count that is not a whole number",
    "negative_count": "a call count below zero",
    "answered_abandoned_over_offered": "answered + abandoned > offered",
    "within_over_answered": "answered within the threshold > answered",
    "short_over_abandoned": "short abandons > abandoned",
    "bad_total": "speed-of-answer, handle seconds or agent hours not a number >= 0",
    "duplicate": "an earlier row of the same queue and interval start (the last one read wins)",
    "malformed_line": "CSV line with the wrong number of fields (raw: the line's text)",
}
_COLS = ("source_index INT, source_file VARCHAR, source_row BIGINT, raw_rowid BIGINT, "
         "queue VARCHAR, interval_text VARCHAR, interval_start TIMESTAMPTZ, "
         "minutes_text VARCHAR, interval_minutes DOUBLE, "
         + ", ".join(f"{f}_text VARCHAR, {f} DOUBLE" for f in (*COUNTS, *TOTALS))
         + ", reason VARCHAR")


@dataclass
class TelephonyReport(KindReport):
    """What the telephony ingest did: per source counts, and what the store holds after it."""

    intervals_stored: int = 0

    def summary(self) -> str:
        out = [f"Telephony: {self.rows_read:,} rows read, {self.intervals_stored:,} intervals "
               f"stored, {self.rows_rejected:,} rejected."]
        return "\n".join(out + self.source_lines(TELEPHONY_REASONS))


# -- prepare: temp tables only ---------------------------------------------------------------

def prepare(con, params, layers) -> tuple[list, list]:
    """Read and classify every telephony source; mark duplicate interval keys."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE telephony_classified ({_COLS})")
    reports, raws = [], []
    for i, source in enumerate(params.city.telephony):
        profile = resolve_telephony(source)
        raw = readers.read(con, source, params, f"telephony_raw{i}", _wanted(profile, source))
        reports.append(_stage(con, params, i, source, profile, raw))
        raws.append(raw)
    _mark_duplicates(con)
    _collect_rejects(con, raws)
    return reports, raws


def _number(text: str) -> str:
    return f"try_cast(regexp_replace({text}, '[,\\s]', '', 'g') AS DOUBLE)"


def _stage(con, params, index, source, profile, raw) -> SourceReport:
    """Classify one source's rows into ``telephony_classified``; count read and filtered."""
    report = SourceReport(raw.name, [f.label for f in raw.files])
    found = profile.match(list(raw.columns))
    tz = profile.timezone or params.city.timezone
    cols = [f"{_text(found.get('queue'))} AS queue"]
    start = found.get("interval_start")
    dtype = raw.columns.get(start, "") if start else ""
    clean = _q(start) if start and _typed_date(dtype) else _text(start)
    cols += [f"{_text(start)} AS interval_text",
             f"{_timestamp(clean, dtype, tz, profile.date_formats)} AS interval_start"]
    for f in ("interval_minutes", *COUNTS, *TOTALS):
        short = "minutes" if f == "interval_minutes" else f
        text = _text(found.get(f))
        cols += [f"{text} AS {short}_text", f"{_number(text)} AS {f}"]
    where = f" WHERE ({profile.filter})" if profile.filter else ""
    for rf in raw.files:
        report.rows_read += rf.rows
        head = (f"{index} AS source_index, {_lit(rf.label)} AS source_file, __row AS source_row, "
                f"__rowid AS raw_rowid")
        con.execute(f"INSERT INTO telephony_classified BY NAME SELECT p.*, "
                    f"{_reason(_earliest(source, tz))} AS reason FROM (SELECT {head}, "
                    f"{', '.join(cols)} FROM {rf.numbered()}{where}) p")
    staged = con.execute("SELECT count(*) FROM telephony_classified WHERE source_index = ?",
                         [index]).fetchall()[0][0]
    report.filtered = report.rows_read - sum(rf.malformed for rf in raw.files) - staged
    return report


def _any(template: str, fields) -> str:
    return " OR ".join(template.format(f=f) for f in fields)


def _reason(earliest: str) -> str:
    """The first reason an interval row cannot be stored (NULL: stored)."""
    required = ("offered", "answered", "abandoned", "answered_within")
    return f"""CASE WHEN p.queue IS NULL THEN 'missing_queue'
    WHEN p.interval_text IS NULL THEN 'missing_interval_start'
    WHEN p.interval_start IS NULL THEN 'bad_interval_start'
    WHEN {_implausible('interval_start', earliest)} THEN 'implausible_interval_start'
    WHEN p.interval_minutes IS NULL OR p.interval_minutes <> round(p.interval_minutes)
      OR p.interval_minutes < 1 OR p.interval_minutes > 1440 THEN 'bad_interval_minutes'
    WHEN {_any('p.{f}_text IS NULL', required)} THEN 'missing_count'
    WHEN {_any('(p.{f}_text IS NOT NULL AND (p.{f} IS NULL OR p.{f} <> round(p.{f})))',
               COUNTS)} THEN 'bad_count'
    WHEN {_any('p.{f} < 0', COUNTS)} THEN 'negative_count'
    WHEN p.answered + p.abandoned > p.offered THEN 'answered_abandoned_over_offered'
    WHEN p.answered_within > p.answered THEN 'within_over_answered'
    WHEN p.short_abandoned > p.abandoned THEN 'short_over_abandoned'
    WHEN {_any('(p.{f}_text IS NOT NULL AND (p.{f} IS NULL OR p.{f} < 0))', TOTALS)}
      THEN 'bad_total'
    END"""


def _mark_duplicates(con) -> None:
    """Of the loadable rows sharing a queue and interval start, all but the last read get
    reason 'duplicate'."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE telephony_losers AS
        WITH ranked AS (
          SELECT source_index, source_file, source_row, queue, interval_start,
            row_number() OVER (PARTITION BY queue, interval_start ORDER BY
              source_index DESC, source_file DESC, source_row DESC) AS version
          FROM telephony_classified WHERE reason IS NULL)
        SELECT l.source_index, l.source_file, l.source_row,
               'superseded by ' || w.source_file || ' row ' || w.source_row AS detail
        FROM ranked l JOIN ranked w ON w.queue = l.queue
          AND w.interval_start = l.interval_start AND w.version = 1
        WHERE l.version > 1""")
    con.execute("""
        UPDATE telephony_classified SET reason = 'duplicate' FROM telephony_losers l
        WHERE telephony_classified.source_index = l.source_index
          AND telephony_classified.source_file = l.source_file
          AND telephony_classified.source_row = l.source_row""")


_DETAIL = {
    "bad_interval_start": "'interval start ' || c.interval_text",
    "implausible_interval_start": "'interval start ' || c.interval_text",
    "bad_interval_minutes": "'interval minutes ' || coalesce(c.minutes_text, 'empty')",
    "bad_count": "'counts ' || concat_ws(', ', "
                 + ", ".join(f"'{f} ' || c.{f}_text" for f in COUNTS) + ")",
    "negative_count": "'counts ' || concat_ws(', ', "
                      + ", ".join(f"'{f} ' || c.{f}_text" for f in COUNTS) + ")",
    "answered_abandoned_over_offered": "'answered ' || c.answered_text || ' + abandoned ' || "
                                       "c.abandoned_text || ' > offered ' || c.offered_text",
    "within_over_answered": "'answered within ' || c.answered_within_text || ' > answered ' || "
                            "c.answered_text",
    "short_over_abandoned": "'short abandoned ' || c.short_abandoned_text || ' > abandoned ' || "
                            "c.abandoned_text",
    "bad_total": "concat_ws(', ', " + ", ".join(f"'{f} ' || c.{f}_text" for f in TOTALS) + ")",
    "duplicate": "l.detail"}


def _collect_rejects(con, raws) -> None:
    """Every rejected row with reason, detail and raw columns -> ``new_telephony_rejects``."""
    con.execute("CREATE OR REPLACE TEMP TABLE new_telephony_rejects (source_index INT, "
                "source_file VARCHAR, source_row BIGINT, queue VARCHAR, interval_text VARCHAR, "
                "reason VARCHAR, detail VARCHAR, raw VARCHAR)")
    for index, raw in enumerate(raws):
        for rf in raw.files:
            con.execute(f"""
                INSERT INTO new_telephony_rejects SELECT c.source_index, c.source_file,
                  c.source_row, c.queue, c.interval_text, c.reason, {_case(_DETAIL)},
                  to_json(t)::VARCHAR
                FROM telephony_classified c JOIN {rf.table} t ON t.rowid = c.raw_rowid
                LEFT JOIN telephony_losers l ON l.source_index = c.source_index
                  AND l.source_file = c.source_file AND l.source_row = c.source_row
                WHERE c.reason IS NOT NULL AND c.source_index = {index}
                  AND c.source_file = {_lit(rf.label)}""")
            if rf.bad_table:
                con.execute(f"INSERT INTO new_telephony_rejects SELECT {index}, "
                            f"{_lit(rf.label)}, source_row, NULL, NULL, 'malformed_line', "
                            f"detail, raw FROM {rf.bad_table}")
                con.execute(f"DROP TABLE {rf.bad_table}; DROP TABLE {rf.bad_table}_shift")
            con.execute(f"DROP TABLE {rf.table}")


# -- commit: inside the pipeline's transaction -----------------------------------------------

def commit(con, params, layers, prepared) -> TelephonyReport:
    """Replace the telephony tables with this ingest's rows (``prepared``: from prepare)."""
    reports, raws = prepared
    con.execute("DELETE FROM telephony; DELETE FROM telephony_rejects")
    ints = ", ".join(f"CAST({f} AS BIGINT)" for f in COUNTS)
    con.execute(f"""INSERT INTO telephony SELECT queue, interval_start,
        CAST(interval_minutes AS INTEGER), {ints}, {', '.join(TOTALS)}, source_file, source_row
        FROM telephony_classified WHERE reason IS NULL ORDER BY queue, interval_start""")
    con.execute("INSERT INTO telephony_rejects SELECT source_file, source_row, queue, "
                "interval_text, reason, detail, raw FROM new_telephony_rejects")
    report = TelephonyReport(reports)
    _tally(con, report)
    _log_ingests(con, raws)
    con.execute("DROP TABLE telephony_classified; DROP TABLE new_telephony_rejects; "
                "DROP TABLE telephony_losers")
    return report


def _tally(con, report: TelephonyReport) -> None:
    loaded = dict(con.execute("SELECT source_index, count(*) FROM telephony_classified WHERE "
                              "reason IS NULL GROUP BY 1").fetchall())
    for i, s in enumerate(report.sources):
        s.loaded = loaded.get(i, 0)
        s.rejected = dict(con.execute("SELECT reason, count(*) FROM new_telephony_rejects "
                                      "WHERE source_index = ? GROUP BY 1 ORDER BY 1",
                                      [i]).fetchall())
    report.intervals_stored = con.execute("SELECT count(*) FROM telephony").fetchall()[0][0]


def _log_ingests(con, raws) -> None:
    for raw in raws:
        for rf in raw.files:
            good = con.execute("SELECT count(*) FROM telephony_classified WHERE source_file = ? "
                               "AND reason IS NULL", [rf.label]).fetchall()[0][0]
            bad = con.execute("SELECT count(*) FROM new_telephony_rejects WHERE source_file = ?",
                              [rf.label]).fetchall()[0][0]
            con.execute("INSERT INTO ingests (ingested_at, source, rows_read, rows_loaded, "
                        "rows_rejected, content_hash, kind) VALUES (now(), ?, ?, ?, ?, ?, "
                        "'telephony')", [rf.label, rf.rows, good, bad, rf.content_hash])
