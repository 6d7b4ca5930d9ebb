"""Store readers: filters, districts, fingerprints, quality notes."""

from __future__ import annotations

import pandas as pd
import pytest

from stat_lib import store
from stat_lib.core.errors import StoreError, UsageError
from stat_lib.present.reports import quality_note
from stat_lib.ingest import ingest
from support.builders import GRID_DEPARTMENTS, grid_params, myla_row, write_csv


@pytest.fixture
def params(tmp_path):
    p = grid_params(tmp_path, write_csv(tmp_path / "x.csv", [
        myla_row("a", CreatedDate="01/01/2024 11:00:00 PM"),  # 2024-01-02 07:00 UTC
        myla_row("b", CreatedDate="01/02/2024 10:00:00 AM"),  # 2024-01-02 18:00 UTC
        myla_row("c", CreatedDate="01/03/2024 10:00:00 AM", Latitude="", CD="")]))
    ingest(p)
    return p


def test_load_requests_filters_on_local_bounds(params):
    df = store.load_requests(params, "bos", start=pd.Timestamp("2024-01-02",
                                                               tz="America/Los_Angeles"))
    # local midnight Jan 2 = 08:00 UTC: 'a' (Jan 1 23:00 local) is before it
    assert list(df.request_id) == ["b", "c"]
    assert list(store.load_requests(params, ["bos"], end="2024-01-02 08:00").request_id) == ["a"]
    assert list(df.columns[-2:]) == ["district_grid", "quality"]


def test_load_districts_is_wgs84_key_label_geometry(params):
    gdf = store.load_districts(params, "grid")
    assert list(gdf.columns) == ["key", "label", "geometry"] and gdf.crs == "EPSG:4326"
    assert gdf.key.tolist() == ["A", "B"]
    assert [g.bounds for g in gdf.geometry] == [(0, 0, 1, 1), (1, 0, 2, 1)]
    with pytest.raises(UsageError, match="city.yaml defines: grid"):
        store.load_districts(params, "wards")


def test_fingerprint_moves_only_when_relevant_rows_change(params, tmp_path):
    before = store.data_fingerprint(params, "bos", end="2024-01-03")
    write_csv(tmp_path / "x.csv", [
        myla_row("a", CreatedDate="01/01/2024 11:00:00 PM"),
        myla_row("b", CreatedDate="01/02/2024 10:00:00 AM"),
        myla_row("c", CreatedDate="01/03/2024 10:00:00 AM", Latitude="", CD="",
            Status="Cancelled", UpdatedDate="01/09/2024 10:00:00 AM")])
    assert ingest(params).updated == 1
    assert store.data_fingerprint(params, "bos", end="2024-01-03") == before  # c is later
    assert store.data_fingerprint(params, "bos") != store.data_fingerprint(params, "bos",
                                                                           end="2024-01-03")


def test_quality_note_counts(params):
    # 3 rows; 'c' has no coordinates and no CD -> unassigned, flagged no_coordinates
    assert quality_note(params, "bos") == (
        "3 requests for Sanitation; 1 (33.3%) without usable coordinates (placed by the "
        "source's district columns where given); 1 not placed in at least one district layer; "
        "1 carry a data-quality flag; 0 rows of the source files could not be used (each is kept "
        "with its reason for the analysts).")
    assert GRID_DEPARTMENTS["bos"]["name"] == "Sanitation"


def test_read_only_connect_needs_a_store(tmp_path):
    p = grid_params(tmp_path, write_csv(tmp_path / "x.csv", [myla_row()]))
    with pytest.raises(StoreError, match="run `stat-lib ingest` first"):
        with store.connect(p):
            pass
