"""Implausible dates (cases 13 and 14): outside [earliest_date, ingest time + 1 day]."""

from __future__ import annotations

import pandas as pd

from stat_lib import store
from support.builders import ingest_rows, myla_row


def _open(rid: str, created: str) -> dict:
    return myla_row(rid, CreatedDate=created, ClosedDate="", UpdatedDate="", Status="Open")


def test_an_implausible_creation_date_rejects_the_row_with_its_reason(tmp_path):
    rows = [myla_row("ok"), _open("y1900", "01/01/1900 12:00:00 AM"),
            _open("y2100", "01/01/2100 10:00:00 AM")]
    params, report, stored = ingest_rows(tmp_path, rows)
    assert list(stored.index) == ["ok"]  # the 1900 open request no longer swells the backlog
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 1, 2)
    rejects = store.load_rejects(params).set_index("request_id")
    assert set(rejects["reason"]) == {"implausible_requested_at"}
    assert rejects.loc["y1900", "detail"].startswith("requested 01/01/1900 12:00:00 AM")


def test_an_implausible_close_or_update_date_is_blanked_and_flagged(tmp_path):
    rows = [myla_row("c1900", ClosedDate="01/01/1900 12:00:00 AM"),
            myla_row("c2099", ClosedDate="01/01/2099 12:00:00 AM",
                     UpdatedDate="01/01/2099 12:00:00 AM")]
    params, report, stored = ingest_rows(tmp_path, rows)
    assert report.rows_loaded == 2 and report.rows_rejected == 0  # kept, nothing lost
    assert stored["closed_at"].isna().all()
    assert stored.loc["c1900", "quality"] == "bad_closed_at"
    assert set(stored.loc["c2099", "quality"].split(",")) == {"bad_closed_at", "bad_updated_at"}
    assert stored.loc["c1900", "updated_at"] == pd.Timestamp("2024-01-03 10:00",
                                                             tz="America/Los_Angeles")


def test_the_earliest_date_is_a_source_setting(tmp_path):
    rows = [myla_row("jan1", CreatedDate="01/01/2024 10:00:00 AM"),
            myla_row("jan2", CreatedDate="01/02/2024 10:00:00 AM")]
    params, report, stored = ingest_rows(tmp_path, rows, earliest_date="2024-01-02")
    assert list(stored.index) == ["jan2"]
    assert report.rows_rejected == 1
