"""Issue 14, quirk 5: projected x/y read with a wrong or missing CRS."""

from __future__ import annotations

import pytest

from stat_lib import store
from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest
from stat_lib.ingest.validate import validate
from stat_lib.params import load_params
from support.builders import GRID, GRID_DEPARTMENTS, MYLA_COLUMNS, city_home, myla_row, write_csv

COLUMNS = MYLA_COLUMNS + ["X", "Y"]
# (lon 0.5, lat 0.5), inside square A, in Web Mercator metres (EPSG:3857):
# x = 6378137 * 0.5 * pi / 180 = 55659.75; y = 6378137 * ln(tan(pi/4 + 0.25 * pi/180)) = 55660.08
X, Y = "55659.75", "55660.08"


def _rows(prefix):
    return [myla_row(f"{prefix}{i}", Latitude="", Longitude="", X=X, Y=Y) for i in range(3)] + [
        myla_row(f"{prefix}zero", Latitude="", Longitude="", X="0", Y="0"),  # not "located"
        myla_row(f"{prefix}none", Latitude="", Longitude="")]


def _home(tmp_path, crs=None, **source):
    coords = {"kind": "xy", "x": "X", "y": "Y", **({"crs": crs} if crs else {})}
    src = {"name": "proj", "path": str(tmp_path / "x.csv"), "profile": "myla311",
           "columns": {"coordinates": coords}, **source}
    return city_home(tmp_path, [src], boundaries=GRID, departments=GRID_DEPARTMENTS)


def test_the_right_crs_places_the_rows(tmp_path):
    write_csv(tmp_path / "x.csv", _rows("a"), columns=COLUMNS)
    params = load_params(_home(tmp_path, crs="EPSG:3857"))
    report = ingest(params)
    assert report.sources[0].districts["grid"] == {"spatial": 3, "unassigned": 2}
    assert validate(params.home) == []


def test_a_missing_crs_fails_ingest_with_the_fix_and_leaves_the_store(tmp_path):
    write_csv(tmp_path / "x.csv", _rows("a"), columns=COLUMNS)
    ingest(load_params(_home(tmp_path, crs="EPSG:3857")))  # 5 requests stored
    write_csv(tmp_path / "x.csv", _rows("b"), columns=COLUMNS)
    params = load_params(_home(tmp_path))  # no crs: the metres are read as degrees
    with pytest.raises(SourceError) as exc:
        ingest(params)
    # 3 located rows (0/0 and the empty one are not), all 3 outside: 100% > 50%
    assert exc.value.exit_code == 4
    assert ("source 'proj': 3 of 3 rows with coordinates (100%) fall outside every district "
            "(grid): is the CRS right? Its coordinates are x/y read as EPSG:4326."
            ) in str(exc.value)
    assert "crs: \"EPSG:<code>\"" in str(exc.value) and "store is unchanged" in str(exc.value)
    assert sorted(store.load_requests(params)["request_id"]) == [
        "a0", "a1", "a2", "anone", "azero"]


def test_validate_says_the_sample_falls_outside_every_district(tmp_path):
    write_csv(tmp_path / "x.csv", _rows("a"), columns=COLUMNS)
    [problem] = validate(_home(tmp_path))
    assert problem.startswith("source 'proj': 3 of 3 rows with coordinates in the first 1000 "
                              "rows of each file (100%) fall outside every district (grid): "
                              "is the CRS right?")


def test_a_few_rows_outside_stay_a_flag_under_the_limit(tmp_path):
    # 1 of 4 located rows outside (25% <= 50%): loaded, flagged outside_boundaries
    rows = [myla_row(f"in{i}") for i in range(3)] + [myla_row("out", Latitude="5",
                                                                Longitude="5")]
    write_csv(tmp_path / "x.csv", rows, columns=COLUMNS)
    src = {"name": "s", "path": str(tmp_path / "x.csv"), "profile": "myla311"}
    report = ingest(load_params(city_home(tmp_path, [src], boundaries=GRID,
                                          departments=GRID_DEPARTMENTS)))
    assert report.sources[0].quality == {"outside_boundaries": 1}
    with pytest.raises(SourceError, match="1 of 4 rows with coordinates"):
        ingest(load_params(city_home(tmp_path, [{**src, "max_outside_boundaries": 0.2}],
                                     boundaries=GRID, departments=GRID_DEPARTMENTS)))
