"""The walking-skeleton test: the 19,999 real MyLA311 rows through the `myla311` profile.

Expected figures come from the city's own data, not from stat_lib: row counts from the CSVs,
the council (CD) and neighborhood council (NC) columns the city assigned to each request.
"""

from __future__ import annotations

import pandas as pd
import pytest

from stat_lib import store
from stat_lib.params import load_params
from stat_lib.ingest import ingest
from support.builders import LA_CSVS, city_home


@pytest.fixture(scope="module")
def la(tmp_path_factory):
    home = city_home(tmp_path_factory.mktemp("la"), [
        {"name": "myla311", "path": str(LA_CSVS[0].parent / "MyLA311_*.csv"),
         "profile": "myla311"}])
    params = load_params(home)
    first = ingest(params)
    fingerprint = store.data_fingerprint(params)
    second = ingest(params)
    return params, first, second, fingerprint


@pytest.fixture(scope="module")
def city_csv():
    return pd.concat([pd.read_csv(f, dtype=str) for f in LA_CSVS], ignore_index=True)


def test_every_row_is_loaded_or_rejected_with_a_reason(la):
    params, report, _, _ = la
    # 9,999 (2017 file) + 10,000 (2018 file) = 19,999 rows; one has Owner BSS, which no
    # department claims in params/departments (source_codes BOS, OCB, BSL, ITA, LADWP).
    assert report.rows_read == 19_999
    assert report.rows_loaded + report.rows_rejected == 19_999
    assert report.sources[0].rejected == {"unknown_department": 1}
    rejects = store.load_rejects(params)
    row = rejects.iloc[0]
    # line 40 of MyLA311_2018_mini.csv = data row 39
    assert (row.request_id, row.reason, row.source_row) == ("1-870734091",
                                                            "unknown_department", 39)
    assert row.source_file.endswith("MyLA311_2018_mini.csv") and "BSS" in row.detail


def test_spatial_join_agrees_with_the_citys_own_districts(la, city_csv):
    params, _, _, _ = la
    df = store.load_requests(params).merge(city_csv[["SRNumber", "CD", "NC"]],
                                           left_on="request_id", right_on="SRNumber")
    placed = df[df.lat.notna()]
    assert len(placed) > 17_000
    assert (placed.district_council == placed.CD).mean() >= 0.99
    assert (placed.district_neighborhood == placed.NC).mean() >= 0.95


def test_rows_without_coordinates_keep_the_city_district_and_are_counted(la, city_csv):
    params, report, _, _ = la
    no_xy = city_csv.Latitude.isna()
    # every row without Latitude is flagged; the one BSS row has coordinates
    assert report.sources[0].quality["no_coordinates"] == no_xy.sum()
    df = store.load_requests(params).set_index("request_id")
    expected = city_csv[no_xy].set_index("SRNumber")
    got = df.loc[expected.index]
    assert (got.district_council == expected.CD.fillna("unassigned")).all()
    assert got.lat.isna().all()


def test_timestamps_are_local_time_converted_to_the_city_zone(la):
    params, _, _, _ = la
    df = store.load_requests(params).set_index("request_id")
    # 1-870704814: CreatedDate 01/01/2018 12:00:09 AM (PST, UTC-8) = 08:00:09 UTC
    ts = df.loc["1-870704814", "requested_at"]
    assert str(ts.tz) == "America/Los_Angeles"
    assert ts.tz_convert("UTC") == pd.Timestamp("2018-01-01 08:00:09", tz="UTC")
    assert df.loc["1-870704814", "source_row"] == 1
    assert df.loc["1-870704814", "service_code"] == "bulky-items"
    assert df.loc["1-870704814", "department"] == "sanitation"


def test_statuses_map_to_the_three_canonical_values(la, city_csv):
    params, _, _, _ = la
    df = store.load_requests(params)
    assert set(df.status) <= {"open", "closed", "cancelled"}
    # 526 Cancelled rows in the CSVs, none of them the rejected BSS row (Closed)
    assert (df.status == "cancelled").sum() == (city_csv.Status == "Cancelled").sum() == 526
    assert (df[df.status_raw == "Referred Out"].status == "closed").all()


def test_date_only_close_before_create_is_kept_clamped_and_flagged(la):
    params, report, _, _ = la
    # 25 BSL rows have a ClosedDate at midnight of the day they were created
    assert report.sources[0].quality["closed_before_created"] == 25
    df = store.load_requests(params)
    flagged = df[df.quality.fillna("").str.contains("closed_before_created")]
    assert len(flagged) == 25
    assert (flagged.closed_at == flagged.requested_at).all()


def test_second_ingest_changes_nothing(la):
    params, first, second, fingerprint = la
    assert second.inserted == second.updated == 0
    assert second.unchanged == first.inserted == 19_998
    assert store.data_fingerprint(params) == fingerprint
    assert len(store.load_rejects(params)) == 1
