"""The store: one DuckDB file of source data per home, plus the records store of what people enter.

- :mod:`~stat_lib.store.schema`: the tables, registered per dataset kind;
- :mod:`~stat_lib.store.connection`: read-only readers, the writer's lock;
- :mod:`~stat_lib.store.requests`: requests as frames, fingerprints, districts, quality counts;
- :mod:`~stat_lib.store.records`: the records store (never rebuilt, never cleaned).
"""

from .connection import connect, frame, write_lock
from .records import connect_records
from .requests import (data_fingerprint, last_ingest, latest_change, load_districts,
                       load_rejects, load_requests, newest_record, quality_counts,
                       requested_span)
from .schema import CANONICAL, TABLES, TIMESTAMPS, Table, district_columns, ensure_schema

__all__ = ["connect", "frame", "write_lock", "connect_records", "data_fingerprint",
           "last_ingest", "latest_change", "load_districts", "load_rejects", "load_requests",
           "newest_record", "quality_counts", "requested_span", "CANONICAL", "TABLES",
           "TIMESTAMPS", "Table", "district_columns", "ensure_schema"]
