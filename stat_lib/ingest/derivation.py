"""How the stored rows were derived: a hash of the params that shape a canonical row.

Sources (paths, profiles, ``columns:`` mappings, filters, date windows), boundary layers, the
city's timezone and each department's codes and services decide what a source row becomes.
Each stored request carries the hash it was derived with (``requests.derivation``). After a
params change, the rows today's sources still hold are re-derived by the next ingest; rows only
the store holds (an export no longer listed, an older version kept) keep their old derivation,
and the ingest summary counts them and suggests ``stat-lib ingest --rebuild``, which re-derives
the source store from today's sources alone. Records people entered (submissions, sessions,
commitments) live in the records store and are never touched.
"""

from __future__ import annotations

import hashlib
import json


def derivation_hash(params) -> str:
    """16 hex digits over the params that decide how a source row becomes a stored row."""
    city = params.city
    shape = {"timezone": city.timezone,
             "sources": [s.model_dump(mode="json") for s in city.sources],
             "boundaries": [b.model_dump(mode="json") for b in city.boundaries],
             "departments": {slug: {"codes": d.source_codes,
                                    "services": [s.model_dump(mode="json") for s in d.services]}
                             for slug, d in sorted(params.departments.items())}}
    text = json.dumps(shape, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def older_rows(con, current: str) -> int:
    """Stored requests derived with other params than ``current``."""
    return con.execute("SELECT count(*) FROM requests WHERE derivation IS DISTINCT FROM ?",
                       [current]).fetchall()[0][0]
