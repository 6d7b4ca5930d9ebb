"""Issue 14, quirks 1 and 8: cancellation dates in their own column (a list of columns to
coalesce), a stated policy for a cancelled request with no date, and open with a close date."""

from __future__ import annotations

import pandas as pd

from stat_lib.ingest import ingest
from stat_lib import store
from support.builders import MYLA_COLUMNS, grid_params, myla_row, write_csv

LA = "America/Los_Angeles"
COLUMNS = MYLA_COLUMNS + ["CancelledDate"]


def _cancelled(rid, **kw):
    return myla_row(rid, Status="Cancelled", ClosedDate="", **kw)


ROWS = [myla_row("ok"),
        _cancelled("c1", CancelledDate="01/04/2024 09:00:00 AM"),   # its own column
        _cancelled("c2", UpdatedDate="01/05/2024 08:00:00 AM"),     # no date but an update
        _cancelled("c3", UpdatedDate=""),                           # no date anywhere
        myla_row("o1", Status="Open")]                              # open, yet a close date


def _ingest(tmp_path, **source):
    path = write_csv(tmp_path / "x.csv", ROWS, columns=COLUMNS)
    params = grid_params(tmp_path, path, columns={
        "rename": {"closed_at": ["ClosedDate", "CancelledDate"]}}, **source)
    report = ingest(params)
    return params, report, store.load_requests(params).set_index("request_id")


def test_a_list_of_columns_is_coalesced_and_undated_cancellations_end_by_policy(tmp_path):
    params, report, df = _ingest(tmp_path)
    at = lambda text: pd.Timestamp(text, tz=LA)  # noqa: E731
    assert df.loc["c1", "closed_at"] == at("2024-01-04 09:00")   # from CancelledDate
    assert pd.isna(df.loc["c1", "quality"])
    assert df.loc["c2", "closed_at"] == at("2024-01-05 08:00")   # policy: updated_at
    assert df.loc["c3", "closed_at"] == at("2024-01-02 10:00")   # ... else requested_at
    assert (df.loc[["c2", "c3"], "quality"] == "cancelled_undated").all()
    assert df.loc["ok", "closed_at"] == at("2024-01-03 10:00")   # ClosedDate first
    assert (df.loc[["c1", "c2", "c3"], "status"] == "cancelled").all()
    assert report.sources[0].quality == {"cancelled_undated": 2, "open_with_closed_at": 1}
    assert "kept with flag cancelled_undated: 2" in report.summary()


def test_the_requested_at_policy_ends_an_undated_cancellation_at_creation(tmp_path):
    _, _, df = _ingest(tmp_path, cancelled_without_date="requested_at")
    assert df.loc["c2", "closed_at"] == df.loc["c2", "requested_at"]  # its update ignored


def test_open_with_a_close_date_stays_open_and_is_flagged(tmp_path):
    params, _, df = _ingest(tmp_path)
    # the status wins: open; the close date is kept for the record, never used as an end
    assert df.loc["o1", "status"] == "open" and df.loc["o1", "quality"] == "open_with_closed_at"
    from stat_lib.metrics.prepare import prepare
    from stat_lib.core.business_calendar import BusinessCalendar
    prepared = prepare(df.reset_index(), params.departments["bos"], BusinessCalendar(LA, "US"))
    ends = prepared.frame.set_index("request_id")["_end"]
    assert pd.isna(ends["o1"]) and ends[["c1", "c2", "c3"]].notna().all()


def test_an_end_column_per_status_is_taken_first_for_rows_of_that_status(tmp_path):
    rows = [myla_row("ok", CancelledDate="01/09/2024 09:00:00 AM"),   # closed: ClosedDate
            _cancelled("c1", CancelledDate="01/04/2024 09:00:00 AM"),
            myla_row("c2", Status="Cancelled", ClosedDate="01/05/2024 09:00:00 AM",
                     CancelledDate="01/06/2024 09:00:00 AM")]         # its own column first
    path = write_csv(tmp_path / "x.csv", rows, columns=COLUMNS)
    params = grid_params(tmp_path, path, columns={"end_at": {"cancelled": "CancelledDate"}})
    ingest(params)
    df = store.load_requests(params).set_index("request_id")
    at = lambda text: pd.Timestamp(text, tz=LA)  # noqa: E731
    assert df["closed_at"].to_dict() == {"ok": at("2024-01-03 10:00"),
                                         "c1": at("2024-01-04 09:00"),
                                         "c2": at("2024-01-06 09:00")}
    assert df["quality"].isna().all()
