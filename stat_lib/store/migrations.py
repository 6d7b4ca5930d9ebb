"""The store's schema version and the steps that carry an older store forward.

``meta.schema_version`` says which schema wrote the store. A newer stat_lib upgrades an older
store in place, step by step, inside one transaction (every row kept); a store written by a
newer stat_lib than this one is refused with the fix. Each step is a numbered entry of
``STEPS``; the tables' declarations in :mod:`stat_lib.store.schema` are always the newest.
Version 1 is the schema this release started with (tested in tests/test_store_versions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import StoreError


@dataclass(frozen=True)
class Step:
    """Upgrade a store from ``version - 1`` to ``version``."""

    version: int
    what: str
    sql: tuple[str, ...]


STEPS = (
    Step(2, "the ingest log records each source's dataset kind",
         ("ALTER TABLE ingests ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'requests'",)),
    Step(3, "each request records the params it was derived with (ingest.derivation)",
         ("ALTER TABLE requests ADD COLUMN IF NOT EXISTS derivation VARCHAR",)),
)
SCHEMA_VERSION = STEPS[-1].version


def stored_version(con) -> int | None:
    """The store's schema version; None for a store with no tables yet."""
    has_meta = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'meta'"
                           ).fetchall()
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(row[0][0]) if row else 1


def pending(con, path) -> list[Step]:
    """The steps an existing store needs; a store newer than this stat_lib is an error."""
    version = stored_version(con)
    if version is None:
        return []
    if version > SCHEMA_VERSION:
        raise StoreError(f"the store was written by a newer stat_lib (schema version {version}; "
                         f"this one knows up to {SCHEMA_VERSION}): upgrade stat_lib "
                         f"(`pip install -U stat-lib`) or restore a backup made by this version",
                         path=path)
    return [s for s in STEPS if s.version > version]


def upgrade(con, path) -> list[Step]:
    """Apply the pending steps (the caller holds the writer lock and the transaction)."""
    steps = pending(con, path)
    for step in steps:
        for sql in step.sql:
            con.execute(sql)
    return steps
