"""One department's data fingerprint, computed for every department in one scan, equals the
per-department query it replaced (the same three figures, hashed the same way)."""

import hashlib

from stat_lib import store
from stat_lib.store.requests import _fingerprint_sql, _where


def _one_by_one(params, department, end=None) -> str:
    where, args = _where(department, None, end)
    with store.connect(params) as con:
        values = con.execute(f"SELECT {_fingerprint_sql(params)} FROM requests{where}",
                             args).fetchall()[0]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def test_grouped_fingerprints_equal_per_department_queries(sample_city):
    params = sample_city
    for end in (None, "2026-10-01", "2025-01-01"):
        for slug in [*params.departments, "no-such-department"]:
            assert store.data_fingerprint(params, slug, end=end) == \
                _one_by_one(params, slug, end), (slug, end)
    # departments differ, and a department without rows has the empty fingerprint
    assert store.data_fingerprint(params, "sanitation") != \
        store.data_fingerprint(params, "beautification")
    assert store.data_fingerprint(params, "building-and-safety") == \
        hashlib.sha256(repr((0, None, None)).encode()).hexdigest()[:16]
