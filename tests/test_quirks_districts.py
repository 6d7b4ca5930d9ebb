"""Issue 14, quirk 3: fallback district values matched ignoring case and leading zeros,
an explicit value map, and values that match no key reported."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.ingest.validate import validate
from support.builders import GRID, GRID_DEPARTMENTS, city_home, ingest_rows, myla_row, write_csv

# the grid layer's keys are "A" and "B"; its source column is CD
NO_XY = {"Latitude": "", "Longitude": ""}


def test_fallback_values_match_ignoring_case_and_leading_zeros(tmp_path):
    rows = [myla_row("a", CD="a", **NO_XY), myla_row("b", CD=" b ", **NO_XY),
            myla_row("z1", CD="Z", **NO_XY), myla_row("z2", CD="Z", **NO_XY),
            myla_row("n", CD="North", **NO_XY), myla_row("sp")]  # sp: inside A by coordinates
    _, report, df = ingest_rows(tmp_path, rows)
    assert df.district_grid.to_dict() == {"a": "A", "b": "B", "z1": "unassigned",
                                          "z2": "unassigned", "n": "unassigned", "sp": "A"}
    src = report.sources[0]
    # 2 matched by the source column, 3 unmatched, 1 placed spatially
    assert src.districts["grid"] == {"source_column": 2, "spatial": 1, "unmatched": 3}
    assert src.unmatched == {"grid": {"Z": 2, "North": 1}}
    assert ('    district_grid values matching no key (rows left unassigned): "Z" 2, "North" 1; '
            "fix: map each to a key with source_values on the 'grid' boundary in city.yaml"
            ) in report.summary().splitlines()


def test_an_explicit_value_map_gives_the_key(tmp_path):
    layer = [{**GRID[0], "source_values": {"NORTH": "A", "south side": "B"}}]
    path = write_csv(tmp_path / "x.csv", [myla_row("n", CD="north", **NO_XY),
                                          myla_row("s", CD="SOUTH SIDE", **NO_XY)])
    from stat_lib.ingest import ingest
    from stat_lib import store
    from stat_lib.params import load_params
    home = city_home(tmp_path, [{"name": "s", "path": str(path), "profile": "myla311"}],
                     boundaries=layer, departments=GRID_DEPARTMENTS)
    report = ingest(load_params(home))
    df = store.load_requests(load_params(home)).set_index("request_id")
    assert df.district_grid.to_dict() == {"n": "A", "s": "B"} and not report.sources[0].unmatched


def test_leading_zeros_are_ignored(tmp_path):
    from stat_lib.ingest import codes
    import duckdb
    con = duckdb.connect()
    # '06' and '6' meet; '0' stays '0'; '060' -> '60'; case and spaces ignored
    got = [con.execute(f"SELECT {codes.district_key(repr(v))}").fetchone()[0]
           for v in ("06", "6", "0", "00", "060", " North ")]
    assert got == ["6", "6", "0", "0", "60", "north"]


def test_validate_lists_fallback_values_that_match_no_key(tmp_path):
    path = write_csv(tmp_path / "x.csv", [myla_row("z", CD="Z", **NO_XY), myla_row("a")])
    home = city_home(tmp_path, [{"name": "s", "path": str(path), "profile": "myla311"}],
                     boundaries=GRID, departments=GRID_DEPARTMENTS)
    assert validate(home) == [
        "source 's': district_grid values in the first 1000 rows of each file that match no "
        "key of the 'grid' layer (even ignoring case and leading zeros): \"Z\" 1; fix: map each "
        "to a key with source_values on the 'grid' boundary in city.yaml"]


@pytest.mark.slow  # over ~1.5 s: 60 ingests
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=3),
       st.sampled_from(["", " ", "  "]))
@settings(max_examples=60, deadline=None)
def test_a_zero_padded_number_meets_its_key(n, zeros, pad):
    import duckdb

    from stat_lib.ingest import codes
    con = duckdb.connect()
    value = pad + "0" * zeros + str(n) + pad  # e.g. " 006 " for 6
    got = con.execute(f"SELECT {codes.district_key('?')}", [value]).fetchone()[0]
    assert got == str(n)
