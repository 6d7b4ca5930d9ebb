"""`init` writes a skeleton that loads; `validate` lists every problem at once."""

from __future__ import annotations

import pytest

from stat_lib.params import load_params
from stat_lib.core.errors import ParamsError
from stat_lib.ingest.validate import validate
from stat_lib.params.skeleton import init
from support.builders import philly_home


def test_init_writes_a_skeleton_that_loads_and_refuses_to_overwrite(tmp_path):
    written = init(tmp_path)
    assert sorted(p.name for p in written) == ["city.yaml", "example.yaml", "results.yaml"]
    params = load_params(tmp_path)
    assert params.city.sources[0].profile == "open311"
    with pytest.raises(ParamsError, match="--force"):
        init(tmp_path)
    assert init(tmp_path, force=True) == written


def test_validate_names_the_missing_source_file(tmp_path):
    init(tmp_path)
    problems = validate(tmp_path)
    assert len(problems) == 1 and "no file matches source 'requests'" in problems[0]


def test_validate_reports_rows_that_would_be_rejected(tmp_path):
    home = philly_home(tmp_path)
    # the example department claims 'Public Works'; the fixture's agencies are
    # 'Streets Department' (rows 1, 2) and 'License & Inspections' (row 3)
    problems = validate(home)
    assert problems == [
        "source 'philly': 3 of the first 1000 rows of each file have a department value in no "
        "department's source_codes:\n"
        '    "Streets Department": 2 rows in philly.csv\n'
        '    "License & Inspections": 1 row in philly.csv\n'
        "  Fix: add each value to the source_codes of the department that answers for it "
        "(params/departments/<slug>.yaml), e.g. source_codes: "
        '["Streets Department", "License & Inspections"]']
    dept = home / "params" / "departments" / "example.yaml"
    dept.write_text(dept.read_text().replace(
        "[Public Works]", "[Streets Department, License & Inspections]"))
    assert validate(home) == []


def test_validate_collects_params_problems_and_missing_columns(tmp_path):
    home = philly_home(tmp_path)
    (home / "philly.csv").write_text("service_request_id,status\n1,Open\n")
    problems = validate(home)
    assert len(problems) == 1 and "lacks required column(s)" in problems[0]
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text().replace("timezone: America/New_York", "timezone: Mars/Base")
                    + "colour: blue\n")
    problems = validate(home)
    assert len(problems) == 2
    assert any("unknown timezone" in p for p in problems)
    assert any("colour" in p for p in problems)
