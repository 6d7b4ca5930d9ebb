"""Issue 14, quirk 8: source names for services missing from params, a department default
SLA, a date_format that parses nothing, and an ingest summary without empty lines."""

from __future__ import annotations

import pandas as pd
import pytest

from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.core.errors import SourceError
from stat_lib.core.periods import Period
from stat_lib.ingest import ingest
from stat_lib.metrics.requests import on_time_by_service
from stat_lib.params import Department
from support.builders import grid_params, ingest_rows, myla_row, write_csv

LA = "America/Los_Angeles"


def _frame():
    at = lambda t: pd.Timestamp(t, tz=LA)  # noqa: E731
    return pd.DataFrame({
        "request_id": ["1", "2"], "department": "bos", "status": "closed",
        "service_code": ["bulky", "tree-down"], "service_name": ["Bulky Items", "Tree Down"],
        "requested_at": [at("2024-01-02 10:00")] * 2, "updated_at": [at("2024-01-03 10:00")] * 2,
        "closed_at": [at("2024-01-03 10:00")] * 2})


def test_a_service_missing_from_params_shows_its_source_name_and_the_default_sla():
    dept = Department(slug="bos", name="Sanitation", source_codes=["BOS"],
                      services=[{"name": "Bulky Items", "code": "bulky", "sla": "2 days"}],
                      default_sla="5 calendar days")
    rows = on_time_by_service(_frame(), dept, Period.parse("2024-01", LA),
                              BusinessCalendar(LA, "US")).set_index("service_code")
    assert rows.loc["tree-down", "service_name"] == "Tree Down"  # not the slug
    assert rows.loc["tree-down", "sla"] == "5 calendar days"     # the department's default
    assert rows.loc["bulky", "sla"] == "2 calendar days"         # its own wins
    # closed after 1 day, due in 5: on time
    assert rows.loc["tree-down", "on_time_rate"] == 1.0


def test_without_a_default_sla_a_missing_service_has_none():
    dept = Department(slug="bos", name="Sanitation", source_codes=["BOS"])
    rows = on_time_by_service(_frame(), dept, Period.parse("2024-01", LA),
                              BusinessCalendar(LA, "US")).set_index("service_code")
    assert rows.loc["tree-down", "sla"] == "no SLA"


def test_a_date_format_that_parses_none_of_a_column_is_an_error(tmp_path):
    path = write_csv(tmp_path / "x.csv", [myla_row("1"), myla_row("2")])
    params = grid_params(tmp_path, path, columns={"date_format": "%Y-%m-%d"})
    with pytest.raises(SourceError) as exc:
        ingest(params)
    assert str(exc.value).startswith(
        "key 'columns.date_format': source 's0': date_format ['%Y-%m-%d'] parses none of the "
        "2 values of requested_at (column 'CreatedDate'), e.g. '01/02/2024 10:00:00 AM'. Fix: set")
    assert exc.value.exit_code == 4


def test_a_date_format_that_parses_some_values_is_not_an_error(tmp_path):
    rows = [myla_row("1"), myla_row("2", CreatedDate="garbage")]
    _, report, _ = ingest_rows(tmp_path, rows, columns={"date_format": "%m/%d/%Y %I:%M:%S %p"})
    assert report.sources[0].rejected == {"bad_requested_at": 1}


def test_the_ingest_summary_has_no_empty_lines(tmp_path):
    # row 2 is rejected: no loaded row of its own, yet no empty district line appears
    _, report, _ = ingest_rows(tmp_path, [myla_row("1"), myla_row("", Owner="X")])
    lines = report.summary().splitlines()
    assert all(line.strip() for line in lines) and len(lines) == 5
