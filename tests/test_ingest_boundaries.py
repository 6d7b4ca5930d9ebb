"""Point placement: ``boundaries.place_index`` against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.ingest import boundaries as bnd
from stat_lib.params import Boundary
from support.builders import LA_BOUNDARIES, SQUARES


class _Home:
    """Just enough of ``Params`` for ``read_layer``: absolute paths resolve to themselves."""

    def path(self, p):
        from pathlib import Path
        return Path(p)


def layer(spec: dict):
    return bnd.read_layer(Boundary(**spec), _Home())


@pytest.fixture(scope="module")
def la_layers():
    return [layer(spec) for spec in LA_BOUNDARIES]


def reference(gdf, lon, lat) -> np.ndarray:
    """Row of the first polygon (layer order = key order) that intersects each point; -1."""
    out = np.full(len(lon), -1)
    points = shapely.points(lon, lat)
    for i, poly in enumerate(gdf.geometry.values):
        hit = (out < 0) & shapely.intersects(poly, points)
        out[hit] = i
    return out


def test_la_layers_match_the_reference_on_random_points(la_layers):
    rng = np.random.default_rng(7)
    # the city's extent (about -118.67..-118.16, 33.70..34.34) plus a margin outside it
    lon, lat = rng.uniform(-118.75, -118.05, 20_000), rng.uniform(33.65, 34.40, 20_000)
    for gdf in la_layers:
        got = bnd.place_index(gdf, lon, lat)
        assert (got == reference(gdf, lon, lat)).all()
        assert 0 < (got >= 0).sum() < len(lon)  # some inside, some outside


# quarter steps land points on the squares' shared edge (x = 1), corners and outer edges
coords = st.lists(st.tuples(st.integers(-2, 10), st.integers(-2, 6)), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None)
@given(coords)
def test_squares_edges_and_corners_match_the_reference(points):
    gdf = layer({"layer": "grid", "name": "Grid", "path": SQUARES, "key": "id",
                 "label": "name"})
    lon = np.array([x / 4 for x, _ in points])
    lat = np.array([y / 4 for _, y in points])
    got = bnd.place_index(gdf, lon, lat)
    assert (got == reference(gdf, lon, lat)).all()
    # on the shared edge x = 1 (0 <= y <= 1) the smallest key, A, wins
    on_edge = (lon == 1) & (lat >= 0) & (lat <= 1)
    assert (gdf["key"].to_numpy()[got[on_edge]] == "A").all()
