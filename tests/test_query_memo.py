"""Store-wide answers kept beside the store until it changes (stat_lib.store.query_memo).

Each answer must equal a fresh scan, be read (not scanned) while the store is unchanged, and
be scanned again the moment the store's file changes."""

from __future__ import annotations

import pandas as pd
import pytest

from stat_lib import store
from stat_lib.store import connection
from stat_lib.store import requests as store_requests
from support.builders import hand_city


@pytest.fixture
def params(tmp_path):
    return hand_city(tmp_path / "home")


@pytest.fixture
def opened(monkeypatch):
    """How many times the store was opened."""
    count = []
    real = connection.connect_file

    def counting(*a, **k):
        count.append(1)
        return real(*a, **k)
    monkeypatch.setattr(connection, "connect_file", counting)
    return count


def _scanned(params) -> dict:
    """Every department's quality counts by a plain query per department (the old way)."""
    with store.connect(params) as con:
        rows = con.execute("SELECT department, count(*), count(*) FILTER (lat IS NULL), "
                           "count(*) FILTER (quality IS NOT NULL) FROM requests "
                           "GROUP BY 1").fetchall()
    return {d: (n, no_xy, flagged) for d, n, no_xy, flagged in rows}


def test_answers_are_read_while_the_store_is_unchanged_and_rescanned_after_a_write(
        params, opened):
    first = store.latest_change(params)
    counts = store.quality_counts(params, "sanitation")
    assert len(opened) == 2
    assert store.latest_change(params) == first
    assert store.quality_counts(params, "sanitation") == counts
    assert len(opened) == 2  # both read from the memo
    with store.write_lock(params), store.connect(params, read_only=False) as con:
        con.execute("UPDATE requests SET updated_at = TIMESTAMPTZ '2026-11-20 12:00:00+00', "
                    "quality = 'truncated' WHERE request_id = (SELECT min(request_id) FROM "
                    "requests WHERE department = 'sanitation' AND quality IS NULL)")
    opened.clear()
    assert store.latest_change(params) == pd.Timestamp("2026-11-20 12:00:00+00").tz_convert(
        params.city.timezone)
    after = store.quality_counts(params, "sanitation")
    assert after["flagged"] == counts["flagged"] + 1
    assert after["requests"] == counts["requests"]
    assert len(opened) == 2  # the write changed the file: both scanned again


def test_quality_counts_of_every_department_equal_one_query_each(params):
    want = _scanned(params)
    for dept in params.departments:
        got = store.quality_counts(params, dept)
        n, no_xy, flagged = want.get(dept, (0, 0, 0))
        assert (got["requests"], got["no_coordinates"], got["flagged"]) == (n, no_xy, flagged)
    assert store.quality_counts(params, "no-such-department") == dict.fromkeys(
        store_requests.QUALITY_COUNTS, 0)


def test_fingerprints_survive_the_memo_unchanged(params, tmp_path):
    """The fingerprint read back from the memo is the one the scan gave (JSON round trip)."""
    end = pd.Timestamp("2026-11-01", tz="UTC")
    fresh = {d: store.data_fingerprint(params, d, end) for d in [None, *params.departments]}
    memo = list((params.store_path.parent / "cache" / "queries").glob("fingerprints-*.json"))
    assert len(memo) == 1
    again = {d: store.data_fingerprint(params, d, end) for d in [None, *params.departments]}
    assert again == fresh and len(set(fresh.values())) > 1


def test_a_home_that_cannot_be_written_still_gets_its_answers(params):
    folder = params.store_path.parent / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "queries").write_text("not a folder")  # the memo cannot be written
    assert store.latest_change(params) is not None
    assert store.quality_counts(params, "sanitation")["requests"] > 0
