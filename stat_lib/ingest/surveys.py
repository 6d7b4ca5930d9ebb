"""The ``surveys`` kind's ingest: resident survey responses, checked and stored.

Same shape as :mod:`stat_lib.ingest.permits`: ``prepare`` reads every ``surveys:`` source of
city.yaml into a temp table (through a profile of :mod:`stat_lib.ingest.survey_profiles` and
the source's ``columns:``) and gives each row a reject reason or none; ``commit`` replaces the
``survey_responses`` and ``survey_rejects`` tables inside the pipeline's one transaction (the
survey exports are the whole truth). The answer is a point of city.yaml ``survey:``'s scale
(a whole number) or one of its ``labels``; the department is a slug or a ``source_codes``
value, else the department answering for the row's service. Every row read is stored or
rejected with its reason, file and row: rows read = stored + rejected (+ filtered out).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import readers
from .permits import _implausible, _wanted
from .report import KindReport, SourceReport
from .requests import _earliest, _lit, _q, _text, _timestamp, _typed_date
from .survey_profiles import resolve_surveys

SURVEY_REASONS = {
    "missing_responded_at": "no response date",
    "bad_responded_at": "response date not readable",
    "implausible_responded_at": "response date before the source's earliest_date or after the "
                                "ingest time",
    "unknown_department": "neither the department value (a slug or source_codes) nor the "
                          "service names a department",
    "missing_answer": "no answer",
    "bad_answer": "answer neither a whole number nor one of survey.labels",
    "off_scale": "answer off the survey scale (city.yaml survey: scale_min..scale_max)",
    "bad_weight": "weight not a number",
    "negative_weight": "weight below 0",
    "malformed_line": "CSV line with the wrong number of fields (raw: the line's text)",
}
COLS = ("source_index INT, source_file VARCHAR, source_row BIGINT, raw_rowid BIGINT, "
        "response_id VARCHAR, responded_text VARCHAR, responded_at TIMESTAMPTZ, "
        "dept_raw VARCHAR, service VARCHAR, department VARCHAR, district VARCHAR, "
        "answer_text VARCHAR, answer INTEGER, comment VARCHAR, weight_text VARCHAR, "
        "weight DOUBLE, reason VARCHAR")
FIELDS = ("response_id", "responded_at", "department", "service", "district", "answer",
          "comment", "weight")


@dataclass
class SurveyReport(KindReport):
    """What the surveys ingest did: per source counts, and the responses stored."""

    stored: int = 0

    def summary(self) -> str:
        out = [f"Surveys: {self.rows_read:,} rows read, {self.stored:,} responses stored, "
               f"{self.rows_rejected:,} rejected."]
        return "\n".join(out + self.source_lines(SURVEY_REASONS))


# -- prepare: temp tables only ---------------------------------------------------------------

def prepare(con, params, layers) -> tuple[list, list]:
    """Read and classify every surveys source into ``survey_classified``; collect rejects."""
    _maps(con, params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE survey_classified ({COLS})")
    reports, raws = [], []
    for i, source in enumerate(params.city.surveys):
        profile = resolve_surveys(source)
        raw = readers.read(con, source, params, f"survey_raw{i}", _wanted(profile, source))
        reports.append(_stage(con, params, i, source, profile, raw))
        raws.append(raw)
    _collect_rejects(con, raws)
    return reports, raws


def _maps(con, params) -> None:
    """Temp tables: department value (slug or source code, lower case) and service name ->
    slug; survey label (lower case) -> scale point."""
    pairs = {code.strip().lower(): slug for code, slug in params.department_for_code().items()}
    pairs.update({slug: slug for slug in params.departments})
    services = {s.name.strip().lower(): d.slug for d in params.departments.values()
                for s in d.services}
    labels = {k.strip().lower(): v for k, v in params.city.survey.labels.items()}
    for name, rows, kind in (("survey_dept_map", pairs, "VARCHAR"),
                             ("survey_service_map", services, "VARCHAR"),
                             ("survey_label_map", labels, "INTEGER")):
        body = " UNION ALL ".join(f"SELECT {_lit(k)} AS k, {_lit(v)}::{kind} AS v"
                                  for k, v in rows.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                    + (body or f"SELECT NULL::VARCHAR AS k, NULL::{kind} AS v LIMIT 0"))


def _stage(con, params, index, source, profile, raw) -> SourceReport:
    """Classify one source's rows into ``survey_classified``; count read and filtered rows."""
    report = SourceReport(raw.name, [f.label for f in raw.files])
    found = profile.match(list(raw.columns))
    tz = profile.timezone or params.city.timezone
    v = {}
    for f in FIELDS:
        col = found.get(f)
        v[f] = _text(col) if col else "NULL::VARCHAR"
    col = found.get("responded_at")
    dtype = raw.columns.get(col, "") if col else ""
    clean = _q(col) if col and _typed_date(dtype) else v["responded_at"]
    when = _timestamp(clean, dtype, tz, profile.date_formats) if col else "NULL::TIMESTAMPTZ"
    cols = [f"{v['response_id']} AS response_id", f"{v['responded_at']} AS responded_text",
            f"{when} AS responded_at", f"{v['department']} AS dept_raw",
            f"{v['service']} AS service", f"{v['district']} AS district",
            f"{v['answer']} AS answer_text", f"{v['comment']} AS comment",
            f"{v['weight']} AS weight_text"]
    where = f" WHERE ({profile.filter})" if profile.filter else ""
    for rf in raw.files:
        report.rows_read += rf.rows
        head = (f"{index} AS source_index, {_lit(rf.label)} AS source_file, __row AS source_row, "
                f"__rowid AS raw_rowid")
        con.execute(_insert(head, cols, f"{rf.numbered()}{where}", _earliest(source, tz),
                            params.city.survey))
    staged = con.execute("SELECT count(*) FROM survey_classified WHERE source_index = ?",
                         [index]).fetchall()[0][0]
    report.filtered = report.rows_read - sum(rf.malformed for rf in raw.files) - staged
    return report


def _insert(head, cols, source, earliest, survey) -> str:
    """SQL: one file's rows classified (answer from a whole number or a label)."""
    number = "try_cast(p.answer_text AS DOUBLE)"
    answer = (f"coalesce(CASE WHEN {number} = round({number}) THEN {number}::INTEGER END, "
              f"l.v)")
    return f"""INSERT INTO survey_classified BY NAME
        SELECT p.*, coalesce(d.v, s.v) AS department, {answer} AS answer,
          try_cast(p.weight_text AS DOUBLE) AS weight, {_reason(earliest, answer, survey)}
            AS reason
        FROM (SELECT {head}, {', '.join(cols)} FROM {source}) p
        LEFT JOIN survey_dept_map d ON lower(p.dept_raw) = d.k
        LEFT JOIN survey_service_map s ON lower(p.service) = s.k
        LEFT JOIN survey_label_map l ON lower(p.answer_text) = l.k"""


def _reason(earliest: str, answer: str, survey) -> str:
    """The first reason a response cannot be stored (NULL: stored)."""
    weight = "try_cast(p.weight_text AS DOUBLE)"
    return f"""CASE WHEN p.responded_text IS NULL THEN 'missing_responded_at'
    WHEN p.responded_at IS NULL THEN 'bad_responded_at'
    WHEN {_implausible('responded_at', earliest)} THEN 'implausible_responded_at'
    WHEN coalesce(d.v, s.v) IS NULL THEN 'unknown_department'
    WHEN p.answer_text IS NULL THEN 'missing_answer'
    WHEN {answer} IS NULL THEN 'bad_answer'
    WHEN {answer} NOT BETWEEN {survey.scale_min} AND {survey.scale_max} THEN 'off_scale'
    WHEN p.weight_text IS NOT NULL AND {weight} IS NULL THEN 'bad_weight'
    WHEN {weight} < 0 THEN 'negative_weight' END"""


_DETAIL = {"bad_responded_at": "'responded ' || c.responded_text",
           "implausible_responded_at": "'responded ' || c.responded_text",
           "unknown_department": "'department value ' || coalesce(c.dept_raw, 'empty') || "
                                 "', service ' || coalesce(c.service, 'empty')",
           "bad_answer": "'answer ' || c.answer_text",
           "off_scale": "'answer ' || c.answer_text",
           "bad_weight": "'weight ' || c.weight_text",
           "negative_weight": "'weight ' || c.weight_text"}


def _collect_rejects(con, raws) -> None:
    """Every rejected row with reason, detail and raw columns -> ``new_survey_rejects``."""
    con.execute("CREATE OR REPLACE TEMP TABLE new_survey_rejects (source_index INT, "
                "source_file VARCHAR, source_row BIGINT, reason VARCHAR, detail VARCHAR, "
                "raw VARCHAR, department VARCHAR)")
    detail = "CASE c.reason " + " ".join(f"WHEN {_lit(k)} THEN {v}"
                                         for k, v in _DETAIL.items()) + " END"
    for index, raw in enumerate(raws):
        for rf in raw.files:
            con.execute(f"""INSERT INTO new_survey_rejects SELECT c.source_index,
                  c.source_file, c.source_row, c.reason, {detail}, to_json(t)::VARCHAR,
                  c.department
                FROM survey_classified c JOIN {rf.table} t ON t.rowid = c.raw_rowid
                WHERE c.reason IS NOT NULL AND c.source_index = {index}
                  AND c.source_file = {_lit(rf.label)}""")
            if rf.bad_table:
                con.execute(f"INSERT INTO new_survey_rejects SELECT {index}, {_lit(rf.label)}, "
                            f"source_row, 'malformed_line', detail, raw, NULL "
                            f"FROM {rf.bad_table}")
                con.execute(f"DROP TABLE {rf.bad_table}; DROP TABLE {rf.bad_table}_shift")
            con.execute(f"DROP TABLE {rf.table}")


# -- commit: inside the pipeline's transaction -----------------------------------------------

def commit(con, params, layers, prepared) -> SurveyReport:
    """Replace the survey tables with this ingest's rows (``prepared``: from :func:`prepare`)."""
    reports, raws = prepared
    con.execute("DELETE FROM survey_responses; DELETE FROM survey_rejects")
    con.execute("""INSERT INTO survey_responses SELECT response_id, responded_at, department,
        service, district, answer, comment, coalesce(weight, 1.0), source_file, source_row
        FROM survey_classified WHERE reason IS NULL ORDER BY responded_at, source_row""")
    con.execute("INSERT INTO survey_rejects SELECT source_file, source_row, reason, detail, "
                "raw, department FROM new_survey_rejects")
    report = SurveyReport(reports)
    for i, s in enumerate(report.sources):
        s.loaded = con.execute("SELECT count(*) FROM survey_classified WHERE source_index = ? "
                               "AND reason IS NULL", [i]).fetchall()[0][0]
        s.rejected = dict(con.execute("SELECT reason, count(*) FROM new_survey_rejects WHERE "
                                      "source_index = ? GROUP BY 1 ORDER BY 1", [i]).fetchall())
    report.stored = con.execute("SELECT count(*) FROM survey_responses").fetchall()[0][0]
    for raw in raws:
        for rf in raw.files:
            good, bad = con.execute(
                "SELECT count(*) FILTER (WHERE reason IS NULL), (SELECT count(*) FROM "
                "new_survey_rejects WHERE source_file = ?) FROM survey_classified WHERE "
                "source_file = ?", [rf.label, rf.label]).fetchall()[0]
            con.execute("INSERT INTO ingests (ingested_at, source, rows_read, rows_loaded, "
                        "rows_rejected, content_hash, kind) VALUES (now(), ?, ?, ?, ?, ?, "
                        "'surveys')", [rf.label, rf.rows, good, bad, rf.content_hash])
    con.execute("DROP TABLE survey_classified; DROP TABLE new_survey_rejects")
    return report
