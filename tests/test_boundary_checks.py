"""Boundary layers that would silently misplace requests get a clear answer (cases 28-31)."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box
from support.builders import layer_home

from stat_lib.core.errors import SourceError
from stat_lib.ingest.boundaries import place, read_layer
from stat_lib.ingest.validate import validate


def _layer(tmp_path, frame, name="council.geojson"):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided")  # the point of one test
        frame.to_file(path)
    params = layer_home(tmp_path, path)
    return params, params.city.boundaries[0]


def _squares(crs="EPSG:4326", **extra):
    return gpd.GeoDataFrame({"name": ["1", "2"], **extra},
                            geometry=[box(-118.5, 34.0, -118.4, 34.1),
                                      box(-118.4, 34.0, -118.3, 34.1)], crs=crs)


def test_a_layer_with_no_features_says_so(tmp_path):
    params, layer = _layer(tmp_path, _squares().iloc[:0])
    with pytest.raises(SourceError, match="has no features"):
        read_layer(layer, params)


def test_projected_numbers_without_a_crs_are_refused_and_validate_says_so(tmp_path):
    feet = _squares().to_crs("EPSG:2229")
    feet = feet.set_crs(None, allow_override=True)
    params, layer = _layer(tmp_path, feet, "council.shp")  # a shapefile without .prj
    assert not (tmp_path / "council.prj").exists()
    with pytest.raises(SourceError, match=r"declares no CRS.*not longitude/latitude.*crs: EPSG"):
        read_layer(layer, params)
    assert any("declares no CRS" in p for p in validate(params.home))


def test_a_geojson_in_feet_read_as_wgs84_is_caught_and_crs_in_params_fixes_it(tmp_path):
    feet = _squares().to_crs("EPSG:2229").set_crs("EPSG:4326", allow_override=True)
    params, layer = _layer(tmp_path, feet)
    with pytest.raises(SourceError, match="declares no CRS"):
        read_layer(layer, params)
    fixed = read_layer(layer.model_copy(update={"crs": "EPSG:2229"}), params)
    assert list(place(fixed, [-118.45, -118.35], [34.05, 34.05])) == ["1", "2"]


def test_parts_of_one_district_are_merged_and_a_key_naming_two_districts_is_refused(
        tmp_path, caplog):
    parts = gpd.GeoDataFrame({"name": ["1", "1", "2"]}, crs="EPSG:4326", geometry=[
        box(-118.5, 34.0, -118.45, 34.1), box(-118.45, 34.0, -118.4, 34.1),
        box(-118.4, 34.0, -118.3, 34.1)])
    params, layer = _layer(tmp_path, parts)
    with caplog.at_level(logging.WARNING):
        merged = read_layer(layer, params)
    assert list(merged["key"]) == ["1", "2"] and "merged" in caplog.text
    assert list(place(merged, [-118.48, -118.42], [34.05, 34.05])) == ["1", "1"]
    clash = parts.assign(label=["North", "South", "East"])
    params, layer = _layer(tmp_path / "clash", clash)
    layer = layer.model_copy(update={"label": "label"})
    with pytest.raises(SourceError, match=r"1 key\(s\) name more than one district \('1'\)"):
        read_layer(layer, params)


def test_a_self_intersecting_polygon_is_repaired_with_a_warning(tmp_path, caplog):
    bow_tie = Polygon([(-118.5, 34.0), (-118.4, 34.1), (-118.4, 34.0), (-118.5, 34.1)])
    frame = gpd.GeoDataFrame({"name": ["1", "2"]}, crs="EPSG:4326",
                             geometry=[bow_tie, box(-118.4, 34.0, -118.3, 34.1)])
    params, layer = _layer(tmp_path, frame)
    with caplog.at_level(logging.WARNING):
        fixed = read_layer(layer, params)
    assert "1 invalid polygon(s) repaired (keys '1')" in caplog.text
    assert fixed.geometry.is_valid.all()
    # a point in the left wing of the bow tie is placed (an invalid polygon misplaces it)
    assert list(place(fixed, [-118.48], [34.05])) == ["1"]
