"""The requests table is written a few departments at a time (consecutive by name), so each
row group holds those departments only and a packet's ``WHERE department = ?`` skips the rest
(stat_lib.ingest.requests._department_groups)."""

from __future__ import annotations

import duckdb
import pytest

from stat_lib import store
from stat_lib.ingest import requests as rq


def _groups(counts: dict[str, int]) -> list[tuple[str, str]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE incoming (department VARCHAR, action VARCHAR)")
    for dept, n in counts.items():
        con.execute("INSERT INTO incoming SELECT ?, 'insert' FROM range(?)", [dept, n])
    con.execute("INSERT INTO incoming SELECT 'zz-unchanged', 'unchanged' FROM range(5)")
    return rq._department_groups(con)


def test_groups_are_consecutive_ranges_that_cover_every_department_once():
    counts = {"a": 50, "b": 1000, "c": 10, "d": 10, "e": 10, "f": 10, "g": 400}
    groups = _groups(counts)
    # a share is 1490 / 16 = 93.1 rows: a+b (1050) closes the first range, c..g (440) the last
    assert rq.WRITE_GROUPS == 16 and groups == [("a", "b"), ("c", "g")]
    covered = [d for first, last in groups for d in counts if first <= d <= last]
    assert covered == sorted(counts)  # each department in exactly one range, in name order
    share = sum(counts.values()) / rq.WRITE_GROUPS
    for first, last in groups[:-1]:  # every range but the last holds at least a share
        assert sum(n for d, n in counts.items() if first <= d <= last) >= share
    assert _groups({}) == []


@pytest.mark.slow
def test_each_range_of_the_sample_city_is_one_run_of_rows(sample_city):
    """In the sample city's store (one fresh ingest) every range's rows are contiguous in
    row order: a row group holds the departments of one range (two at a seam)."""
    with store.connect(sample_city) as con:
        depts = dict(con.execute("SELECT department, count(*) FROM requests GROUP BY 1"
                                 ).fetchall())
        ranges = _groups(depts)
        assert len(ranges) > 1
        for first, last in ranges:
            lo, hi, n = con.execute("SELECT min(rowid), max(rowid), count(*) FROM requests "
                                    "WHERE department BETWEEN ? AND ?", [first, last]).fetchone()
            assert hi - lo + 1 == n, (first, last)
