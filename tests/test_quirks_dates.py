"""Issue 14, quirk 4: placeholder dates are blanked and flagged; the request is kept."""

from __future__ import annotations

import pandas as pd

from stat_lib import store
from support.builders import ingest_rows, myla_row

LA = "America/Los_Angeles"


def test_a_close_date_years_before_creation_is_blanked_and_the_request_kept(tmp_path):
    rows = [myla_row("ok"),
            # created 2024-01-02, closed 2019-06-01: more than a day before -> a placeholder
            myla_row("early", ClosedDate="06/01/2019 12:00:00 AM")]
    params, report, stored = ingest_rows(tmp_path, rows)
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)  # counted as created
    assert pd.isna(stored.loc["early", "closed_at"])
    assert stored.loc["early", "quality"] == "bad_closed_at"
    assert stored.loc["early", "status"] == "closed"  # its end falls back to updated_at
    assert store.load_rejects(params).empty
    assert report.sources[0].quality == {"bad_closed_at": 1}


def test_placeholder_values_listed_in_params_are_blanked_and_flagged(tmp_path):
    rows = [myla_row("ok"),
            # 2000-01-01 is inside the plausible window, but the export writes it for "none"
            myla_row("ph", ClosedDate="01/01/2000 12:00:00 AM", UpdatedDate="01/01/2000"),
            myla_row("phc", CreatedDate="01/01/2000 12:00:00 AM", ClosedDate="")]
    params, report, stored = ingest_rows(tmp_path, rows, placeholder_dates=["2000-01-01"])
    assert sorted(stored.index) == ["ok", "ph"]
    assert set(stored.loc["ph", "quality"].split(",")) == {"bad_closed_at", "bad_updated_at"}
    assert pd.isna(stored.loc["ph", "closed_at"]) and pd.isna(stored.loc["ph", "updated_at"])
    # the clean row keeps its dates: 2024-01-03 10:00 local
    assert stored.loc["ok", "closed_at"] == pd.Timestamp("2024-01-03 10:00", tz=LA)
    rejects = store.load_rejects(params).set_index("request_id")
    assert rejects.loc["phc", "reason"] == "implausible_requested_at"


def test_without_placeholders_listed_the_same_value_is_kept(tmp_path):
    rows = [myla_row("ph", ClosedDate="01/01/2000 12:00:00 AM", CreatedDate="12/31/1999")]
    _, report, stored = ingest_rows(tmp_path, rows)
    assert stored.loc["ph", "closed_at"] == pd.Timestamp("2000-01-01 00:00", tz=LA)
    assert pd.isna(stored.loc["ph", "quality"])
