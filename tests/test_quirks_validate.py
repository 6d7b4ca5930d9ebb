"""Issue 14, quirk 7: validate lists each unmatched department value with its rows and files."""

from __future__ import annotations

from stat_lib.ingest.validate import validate
from support.builders import GRID, GRID_DEPARTMENTS, city_home, myla_row, write_csv


def test_unknown_departments_are_listed_per_value_with_counts_and_files(tmp_path):
    write_csv(tmp_path / "d" / "jan.csv", [myla_row("1", Owner="PARKS"),
                                           myla_row("2", Owner="PARKS"), myla_row("3")])
    write_csv(tmp_path / "d" / "feb.csv", [myla_row("4", Owner="PARKS"),
                                           myla_row("5", Owner="ROADS"), myla_row("6", Owner="")])
    home = city_home(tmp_path, [{"name": "s", "path": str(tmp_path / "d" / "*.csv"),
                                 "profile": "myla311"}],
                     boundaries=GRID, departments=GRID_DEPARTMENTS)
    # PARKS: rows 1, 2 of jan + row 1 of feb = 3; ROADS 1 (feb); empty 1 (feb); 5 in all
    [problem] = validate(home)
    lines = problem.splitlines()
    assert lines[0] == ("source 's': 5 of the first 1000 rows of each file have a department "
                        "value in no department's source_codes:")
    assert lines[1:4] == ['    "PARKS": 3 rows in d/feb.csv, d/jan.csv',
                          '    "ROADS": 1 row in d/feb.csv', "    (empty): 1 row in d/feb.csv"]
    assert lines[4].endswith('e.g. source_codes: ["PARKS", "ROADS"]')
