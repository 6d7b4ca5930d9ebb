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


# Placing the LA layers' points in threads, as ingest does, round after round, in a process of
# its own: threads sharing GEOS shapes corrupted the heap (glibc aborts the process, about one
# ingest of the sample city in two); each thread now places with its own copy of the shapes.
THREADED = """
import sys
import numpy as np, pyarrow as pa
from concurrent.futures import ThreadPoolExecutor
from stat_lib.ingest import boundaries as bnd, requests as rq
from stat_lib.params import load_params
params = load_params(sys.argv[1])
rng = np.random.default_rng(1)
n = 300_000
pts = pa.table({"crs": pa.nulls(n, pa.string()), "lat_in": rng.uniform(33.7, 34.35, n),
                "lon_in": rng.uniform(-118.7, -118.15, n), "x_in": pa.nulls(n, pa.float64()),
                "y_in": pa.nulls(n, pa.float64())})
rounds = []
for _ in range(6):  # layers read afresh each round, as each ingest does: shapes never used yet
    layers = bnd.read_layers(params)
    with ThreadPoolExecutor(rq.PLACE_THREADS) as pool:
        rounds.append(pa.concat_tables([f.result() for f in rq.start_placing(pool, pts,
                                                                              layers)]))
whole = rq._placed(pts, bnd.read_layers(params))
assert all(r.equals(whole) for r in rounds), "threads placed differently"
print("ok")
"""


@pytest.mark.slow
def test_points_placed_by_threads_round_after_round_never_corrupt_the_process(tmp_path):
    import subprocess
    import sys

    from support.builders import sample_home
    home = sample_home(tmp_path)
    proc = subprocess.run([sys.executable, "-c", THREADED, str(home)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
