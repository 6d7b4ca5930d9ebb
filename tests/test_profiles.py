"""Every built-in profile reads a small fixture with that city's real column names."""

from __future__ import annotations

import pandas as pd
import pytest

from stat_lib import store
from stat_lib.ingest import profiles
from stat_lib.params import load_params
from stat_lib.core.errors import SourceError
from stat_lib.ingest import ingest
from support.builders import FIXTURES, city_home, department


def run(tmp_path, fixture, profile, departments, tz, **source):
    home = city_home(tmp_path, [{"path": str(FIXTURES / fixture), "profile": profile,
                                 **source}], boundaries=[], departments=departments,
                     timezone=tz)
    params = load_params(home)
    report = ingest(params)
    return report, store.load_requests(params).set_index("request_id")


def utc(df, rid, col="requested_at"):
    return df.loc[rid, col].tz_convert("UTC")


def test_philly311(tmp_path):
    report, df = run(tmp_path, "philly311.csv", "philly311", {
        "streets": department("Streets", "Streets Department"),
        "li": department("Licenses and Inspections", "License & Inspections")}, "America/New_York")
    assert (report.rows_loaded, report.rows_rejected) == (3, 0)
    # 2023-03-12 01:30 EST (UTC-5; DST starts at 02:00 that day) = 06:30 UTC
    assert utc(df, "15891234") == pd.Timestamp("2023-03-12 06:30", tz="UTC")
    assert df.loc["15891236", "department"] == "li"
    assert pd.isna(df.loc["15891236", "lat"])
    assert df.loc["15891235", "status"] == "open"
    assert df.loc["15891235", "service_code"] == "rubbish-recyclable-material-collection"


def test_nyc311_title_case_with_state_plane_fallback(tmp_path):
    report, df = run(tmp_path, "nyc311.csv", "nyc311", {
        "dsny": department("Sanitation", "DSNY"), "nypd": department("Police", "NYPD")},
        "America/New_York")
    assert report.rows_loaded == 3
    # no Latitude/Longitude: X/Y 982587, 198969 ft (EPSG:2263) = 40.7128 N, 74.0060 W
    assert df.loc["59001001", "lat"] == pytest.approx(40.7128, abs=1e-5)
    assert df.loc["59001001", "lon"] == pytest.approx(-74.0060, abs=1e-5)
    # both given: Latitude/Longitude win
    assert df.loc["59001002", "lat"] == pytest.approx(40.7020)
    assert df.loc["59001002", "status"] == "open"  # 'In Progress'
    assert df.loc["59001003", "quality"] == "no_coordinates"
    # 11/03/2024 01:30 AM is ambiguous in New York (clocks fall back at 02:00 EDT):
    # resolved to the second, standard-time occurrence, EST UTC-5 -> 06:30 UTC
    assert utc(df, "59001001") == pd.Timestamp("2024-11-03 06:30", tz="UTC")
    assert df.loc["59001003", "channel"] == "MOBILE"


def test_nyc311_snake_case_api_form(tmp_path):
    src = pd.read_csv(FIXTURES / "nyc311.csv", dtype=str)
    src.columns = [c.lower().replace(" ", "_").replace("(", "").replace(")", "")
                   for c in src.columns]
    path = tmp_path / "nyc_api.csv"
    src.to_csv(path, index=False)
    assert "x_coordinate_state_plane" in src.columns and "unique_key" in src.columns
    report, df = run(tmp_path, path, "nyc311", {
        "dsny": department("Sanitation", "DSNY"), "nypd": department("Police", "NYPD")},
        "America/New_York")
    assert report.rows_loaded == 3
    assert df.loc["59001001", "lat"] == pytest.approx(40.7128, abs=1e-5)


def test_chicago311(tmp_path):
    report, df = run(tmp_path, "chicago311.csv", "chicago311", {
        "cdot": department("Transportation", "CDOT - Department of Transportation"),
        "dss": department("Streets and Sanitation", "Streets and Sanitation")}, "America/Chicago")
    assert report.rows_loaded == 3
    assert df.loc["SR24-01000002", "status"] == "cancelled"  # 'Canceled'
    assert df.loc["SR24-01000001", "status"] == "closed"  # 'Completed'
    # x/y 1175844, 1898955 ft in EPSG:3435 = 41.8781 N, 87.6298 W
    assert df.loc["SR24-01000001", "lat"] == pytest.approx(41.8781, abs=1e-5)
    # 03/10/2024 02:30 AM does not exist in Chicago (02:00 CST -> 03:00 CDT): read as
    # 03:30 CDT (UTC-5) = 08:30 UTC, one hour forward like the wall clock
    assert utc(df, "SR24-01000001") == pd.Timestamp("2024-03-10 08:30", tz="UTC")


@pytest.mark.parametrize("fixture", ["open311.json", "open311.csv"])
def test_open311_json_and_csv(tmp_path, fixture):
    report, df = run(tmp_path, fixture, "open311",
                     {"dpw": department("Public Works", "Public Works")}, "America/Los_Angeles")
    assert report.rows_loaded == 2
    # ISO values carry their offset: 06:37:38-08:00 = 14:37:38 UTC whatever the city zone
    assert utc(df, "638344") == pd.Timestamp("2010-04-14 14:37:38", tz="UTC")
    assert df.loc["638344", "lon"] == pytest.approx(-122.4651145)
    assert list(df.status) == ["closed", "open"]


def test_myla311_lowercase_api_variant(tmp_path):
    report, df = run(tmp_path, "myla311_lower.csv", "myla311", None, "America/Los_Angeles")
    assert report.rows_loaded == 2
    # 2019-11-03T01:30 is ambiguous in LA: standard time (PST, UTC-8) -> 09:30 UTC
    assert utc(df, "1-1523590871") == pd.Timestamp("2019-11-03 09:30", tz="UTC")
    assert df.loc["1-1523590872", "department"] == "beautification"


def test_describe_lists_every_profile_and_its_columns():
    text = profiles.describe()
    for name in ("myla311", "open311", "philly311", "nyc311", "chicago311"):
        assert f"{name}:" in text
    assert "* request_id" in text and "SRNumber" in text and "Unique Key" in text


def test_column_names_match_ignoring_case_spaces_and_underscores():
    p = profiles.get("nyc311")
    assert p.match(["unique_key", "CREATED DATE"]) == {"request_id": "unique_key",
                                                       "requested_at": "CREATED DATE"}


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(SourceError, match="unknown profile 'la311'.*myla311"):
        profiles.get("la311")
