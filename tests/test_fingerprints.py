"""The batch's fingerprints, every department's from one query, equal the per-department
queries they replaced (the same figures, hashed the same way); inside a planning pass each is
asked once, and the next pass sees a changed store or file."""

import hashlib

import pytest

from stat_lib import store
from stat_lib.core import manifest
from stat_lib.core.manifest import file_digest, one_pass, tree_digest
from stat_lib.store import sessions, submissions
from stat_lib.store.permits import permit_fingerprint
from stat_lib.store.records import read_records
from stat_lib.store.requests import _fingerprint_sql, _where
from stat_lib.store.surveys import survey_fingerprint


def _digest(values) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def _one_by_one(params, department, end=None) -> str:
    where, args = _where(department, None, end)
    with store.connect(params) as con:
        values = con.execute(f"SELECT {_fingerprint_sql(params)} FROM requests{where}",
                             args).fetchall()[0]
    return _digest(values)


def _permits_one_by_one(params, department) -> str:
    where, args = ("WHERE department = ?", [department]) if department else ("", [])
    with store.connect(params) as con:
        values = con.execute(
            f"SELECT count(*), sum(hash(permit_id, permit_type, status, received_at, "
            f"complete_at, issued_at, fee, redress_paid)::HUGEINT)::VARCHAR FROM permits "
            f"{where}", args).fetchall()[0]
        stops = con.execute(
            f"SELECT count(*), sum(hash(s.permit_id, s.stop_start, s.stop_end)::HUGEINT)"
            f"::VARCHAR FROM permit_stops s JOIN permits p USING (permit_id) "
            f"{where.replace('department', 'p.department')}", args).fetchall()[0]
    return _digest((values, stops))


def _surveys_one_by_one(params, department) -> str:
    where, args = ("WHERE department = ?", [department]) if department else ("", [])
    with store.connect(params) as con:
        values = con.execute(
            f"SELECT count(*), sum(hash(responded_at, district, answer, comment, weight)"
            f"::HUGEINT)::VARCHAR FROM survey_responses {where}", args).fetchall()[0]
    return _digest(values)


def _sessions_one_by_one(params, department) -> str:
    where, args = ("", []) if department is None else (" WHERE department = ?", [department])
    swhere = "" if department is None else " WHERE list_contains(departments, ?)"
    rows = read_records(params, f"""SELECT 'c', commitment_id, max(revision)::VARCHAR FROM
        commitments {where} GROUP BY 2 UNION ALL SELECT 's', session_id, '' FROM sessions
        {swhere} ORDER BY 1, 2""", args + args, ("sessions", "commitments"))
    text = "" if rows is None or rows.empty else repr(rows.values.tolist())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _submissions_one_by_one(params, department) -> str:
    where = "" if department is None else " WHERE department = ?"
    args = [] if department is None else [department]
    tables = ("kpi_submissions", "kpi_values", "kpi_reviews")
    sub = read_records(params, f"SELECT submission_id FROM ({submissions.LATEST}){where} "
                               f"ORDER BY 1", args, tables)
    rev = read_records(params, f"SELECT count(*), max(reviewed_at)::VARCHAR FROM kpi_reviews"
                               f"{where}", args, tables)
    empty = sub is None or (sub.empty and not rev.iloc[0, 0])
    text = "" if empty else repr(sub.values.tolist()) + repr(rev.values.tolist())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.slow  # ingests the bundled sample city (120,900 rows) once per session
def test_grouped_fingerprints_equal_per_department_queries(sample_city):
    params = sample_city
    for end in (None, "2026-10-01", "2025-01-01"):
        for slug in [*params.departments, "no-such-department", None]:
            assert store.data_fingerprint(params, slug, end=end) == \
                _one_by_one(params, slug, end), (slug, end)
    # departments differ, and a department without rows has the empty fingerprint
    assert store.data_fingerprint(params, "sanitation") != \
        store.data_fingerprint(params, "beautification")
    assert store.data_fingerprint(params, "building-and-safety") == _digest((0, None, None))


@pytest.mark.slow  # ingests the bundled sample city (120,900 rows) once per session
def test_permit_and_survey_fingerprints_equal_per_department_queries(sample_city):
    params = sample_city
    slugs = [*params.departments, "no-such-department", None]
    with one_pass():  # the grouped answer kept for the pass, as in the batch's plan
        permits = {s: permit_fingerprint(params, s) for s in slugs}
        surveys = {s: survey_fingerprint(params, s) for s in slugs}
    assert permits == {s: _permits_one_by_one(params, s) for s in slugs}
    assert surveys == {s: _surveys_one_by_one(params, s) for s in slugs}
    # the sample's permits are building and safety's alone; surveys have several departments
    assert permits["building-and-safety"] == permits[None] != permits["sanitation"]
    assert len(set(surveys.values())) > 2


def _records(params) -> None:
    """Sessions of one and of two departments, a commitment revised, submissions replaced and
    reviewed: each department's records differ."""
    import datetime as dt
    day = dt.date(2026, 10, 13)
    sessions.apply(params, sessions=[(day, ["sanitation"]),
                                     (day, ["beautification", "street-lighting"])])
    due = {"what": "a", "owner": "b", "due_on": dt.date(2026, 11, 1), "status": "open"}
    first = sessions.add_commitment(params, {**due, "session_id": "2026-10-13-sanitation",
                                             "department": "sanitation"})
    sessions.add_commitment(params, {**due, "department": "street-lighting",
                                     "session_id": "2026-10-13-beautification+street-lighting"})
    sessions.revise(params, first, {**due, "session_id": "2026-10-13-sanitation",
                                    "department": "sanitation", "status": "done",
                                    "closed_on": dt.date(2026, 10, 20)})
    figure = [{"kpi": "k", "value": 1.0}]
    for dept, period, digest in (("sanitation", "2026-09", "a"), ("sanitation", "2026-10", "b"),
                                 ("sanitation", "2026-10", "c"), ("beautification", "2026-10",
                                                                  "d")):
        submissions.store_submission(params, dept, period, f"{digest}.csv", digest, figure)
    submissions.add_review(params, "sanitation", "2026-10", "k", "queried", "why?")
    submissions.add_review(params, "beautification", "2026-10", "k", "accepted", "ok")


def test_records_fingerprints_equal_per_department_queries(home):
    from stat_lib.params import load_params
    params = load_params(home)
    slugs = [*params.departments, "no-such-department", None]
    pairs = ((sessions.sessions_fingerprint, _sessions_one_by_one),
             (submissions.submissions_fingerprint, _submissions_one_by_one))
    for fingerprint, reference in pairs:  # no records store yet
        assert {s: fingerprint(params, s) for s in slugs} == \
            {s: reference(params, s) for s in slugs}
    _records(params)
    for fingerprint, reference in pairs:
        with one_pass():
            got = {s: fingerprint(params, s) for s in slugs}
        assert got == {s: reference(params, s) for s in slugs}, fingerprint.__name__
        assert len(set(got.values())) >= 4, fingerprint.__name__


def test_a_pass_keeps_one_answer_and_the_next_pass_sees_a_changed_store(tmp_path):
    from support.builders import add_requests, batch_home
    from stat_lib.params import load_params
    home = batch_home(tmp_path)
    params = load_params(home)
    slugs = [*sorted(params.departments), None]

    def fingerprints():
        return {s: store.data_fingerprint(params, s) for s in slugs}
    with one_pass():
        before = fingerprints()
        add_requests(home, [("r6", "sanitation", "2026-10-03 09:00")])
        assert fingerprints() == before  # the pass's one scan answers every run
    after = fingerprints()
    with one_pass():
        assert fingerprints() == after
    assert {s for s in slugs if after[s] != before[s]} == {"sanitation", None}
    assert after == {s: _one_by_one(params, s) for s in slugs}


def test_digests_are_kept_for_one_pass_only(tmp_path):
    page = tmp_path / "t" / "page.j2"
    page.parent.mkdir()
    page.write_text("one")
    with one_pass():
        first, tree = file_digest(page), tree_digest(page.parent)
        page.write_text("two")  # inside the pass: the answer it already has
        assert (file_digest(page), tree_digest(page.parent)) == (first, tree)
    assert file_digest(page) != first and tree_digest(page.parent) != tree
    with one_pass():
        assert file_digest(page) == manifest._file_digest(page) != first
    assert manifest._PASS.get() is None
