"""Issue 14, quirk 2: department codes with punctuation, normalised or cut by a pattern."""

from __future__ import annotations

import pytest

from stat_lib import store
from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest
from support.builders import GRID, city_home, ingest_rows, myla_row, write_csv
from stat_lib.params import load_params


def test_codes_verbatim_by_default(tmp_path):
    params, report, stored = ingest_rows(tmp_path, [myla_row("a"), myla_row("b", Owner="bos,")])
    assert list(stored.index) == ["a"]
    assert store.load_rejects(params).set_index("request_id").loc["b", "reason"] == \
        "unknown_department"


def test_normalise_ignores_case_spaces_and_trailing_punctuation(tmp_path):
    rows = [myla_row("a"), myla_row("b", Owner=" bos, "), myla_row("c", Owner="Bos."),
            myla_row("d", Owner="BOS DIV")]  # d: an embedded word is not punctuation
    params, report, stored = ingest_rows(tmp_path, rows, department_match={"normalise": True})
    assert sorted(stored.index) == ["a", "b", "c"]
    assert set(stored["department"]) == {"bos"}
    assert report.sources[0].rejected == {"unknown_department": 1}


def test_a_pattern_keeps_its_first_group(tmp_path):
    # "BOS DIV, 204" -> "BOS DIV" -> (normalised) "BOS DIV"; the pattern drops ", 204"
    rows = [myla_row("a", Owner="BOS, 204"), myla_row("b", Owner="BOS,12"),
            myla_row("c", Owner="LAPD, 3")]
    params, report, stored = ingest_rows(tmp_path, rows,
                                         department_match={"pattern": r"^([A-Za-z ]+)"})
    assert sorted(stored.index) == ["a", "b"]
    assert report.sources[0].rejected == {"unknown_department": 1}


def test_codes_of_two_departments_that_normalise_alike_are_an_error(tmp_path):
    path = write_csv(tmp_path / "x.csv", [myla_row("a")])
    depts = {"bos": {"name": "Sanitation", "source_codes": ["BOS"]},
             "other": {"name": "Other", "source_codes": ["bos."]}}
    # a source name that is no SQL identifier ("crm export-1") is fine
    home = city_home(tmp_path, [{"name": "crm export-1", "path": str(path), "profile": "myla311",
                                 "department_match": {}}], boundaries=GRID, departments=depts)
    with pytest.raises(SourceError, match="'BOS', 'bos.' of bos, other all become 'BOS'"):
        ingest(load_params(home))


def test_a_bad_pattern_is_a_params_error(tmp_path):
    from stat_lib.core.errors import ParamsErrors
    path = write_csv(tmp_path / "x.csv", [myla_row("a")])
    home = city_home(tmp_path, [{"name": "s0", "path": str(path), "profile": "myla311",
                                 "department_match": {"pattern": "(["}}], boundaries=GRID)
    with pytest.raises(ParamsErrors, match="not a regular expression"):
        load_params(home)
