"""The store's tables, registered per dataset kind: the one place a table is declared.

``ensure_schema`` creates every registered table of the source store (idempotent) and adds a
``district_<layer>`` column for each boundary layer of city.yaml. Tables of ``records`` kinds
(entered by people) are created in the records store instead (``stat_lib.store.records``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.kinds import get_kind
from .migrations import SCHEMA_VERSION, upgrade

CANONICAL = ["request_id", "service_code", "service_name", "department", "status", "status_raw",
             "requested_at", "updated_at", "closed_at", "due_at", "address", "lat", "lon",
             "channel", "source_file", "source_row"]
TIMESTAMPS = ["requested_at", "updated_at", "closed_at", "due_at"]


@dataclass(frozen=True)
class Table:
    """One table of a dataset kind: its name, its DDL body (columns) and where it lives.

    ``store`` is ``source`` (the store re-derived from the city's exports) or ``records``
    (the records store of what people enter, never dropped by a rebuild).
    """

    kind: str
    name: str
    columns: str
    store: str = "source"

    def ddl(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({self.columns})"


TABLES: dict[str, Table] = {}


def register_table(table: Table) -> Table:
    """Add a table (the one place tables are declared); its kind must be registered."""
    kind = get_kind(table.kind)
    if table.store != kind.origin:
        raise ValueError(f"table {table.name!r} of a {kind.origin} kind belongs in the "
                         f"{kind.origin} store, not {table.store!r}")
    TABLES[table.name] = table
    return table


def tables(store: str = "source") -> list[Table]:
    """The registered tables of one store, in registration order."""
    return [t for t in TABLES.values() if t.store == store]


register_table(Table("requests", "requests", """
    request_id VARCHAR NOT NULL, service_code VARCHAR, service_name VARCHAR,
    department VARCHAR, status VARCHAR, status_raw VARCHAR, requested_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, closed_at TIMESTAMPTZ, due_at TIMESTAMPTZ, address VARCHAR,
    lat DOUBLE, lon DOUBLE, channel VARCHAR, source_file VARCHAR, source_row BIGINT,
    quality VARCHAR, row_hash UBIGINT, derivation VARCHAR"""))
register_table(Table("requests", "rejects", """source_file VARCHAR, source_row BIGINT,
    request_id VARCHAR, reason VARCHAR, detail VARCHAR, raw VARCHAR, department VARCHAR"""))
register_table(Table("requests", "districts",
                     "layer VARCHAR, key VARCHAR, label VARCHAR, geometry_wkt VARCHAR"))
register_table(Table("requests", "ingests", """ingested_at TIMESTAMPTZ, source VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, content_hash VARCHAR,
    kind VARCHAR DEFAULT 'requests'"""))
# kpi_submissions (records store, append-only): one row per file loaded, its values, reviews
register_table(Table("kpi_submissions", "kpi_submissions", """submission_id VARCHAR NOT NULL,
    department VARCHAR, period VARCHAR, file VARCHAR, content_hash VARCHAR,
    loaded_at TIMESTAMPTZ, received_at TIMESTAMPTZ, kpis INTEGER,
    replaces VARCHAR""", store="records"))
register_table(Table("kpi_submissions", "kpi_values", """submission_id VARCHAR NOT NULL,
    department VARCHAR, period VARCHAR, kpi VARCHAR, value DOUBLE, note VARCHAR,
    cell VARCHAR""", store="records"))
register_table(Table("kpi_submissions", "kpi_reviews", """department VARCHAR, period VARCHAR,
    kpi VARCHAR, status VARCHAR, comment VARCHAR, reviewer VARCHAR,
    reviewed_at TIMESTAMPTZ""", store="records"))
# permits: re-derived from the permit exports on every ingest that has them (replaced whole)
register_table(Table("permits", "permits", """permit_id VARCHAR NOT NULL, permit_type VARCHAR,
    department VARCHAR, status VARCHAR, received_at TIMESTAMPTZ, complete_at TIMESTAMPTZ,
    issued_at TIMESTAMPTZ, fee DOUBLE, redress_paid DOUBLE, quality VARCHAR,
    source_file VARCHAR, source_row BIGINT"""))
register_table(Table("permits", "permit_stops", """permit_id VARCHAR NOT NULL,
    stop_start TIMESTAMPTZ, stop_end TIMESTAMPTZ, source_file VARCHAR, source_row BIGINT"""))
register_table(Table("permits", "permit_rejects", """source_file VARCHAR, source_row BIGINT,
    permit_id VARCHAR, reason VARCHAR, detail VARCHAR, raw VARCHAR, department VARCHAR"""))
# surveys: re-derived from the survey exports on every ingest that has them (replaced whole)
register_table(Table("surveys", "survey_responses", """response_id VARCHAR,
    responded_at TIMESTAMPTZ, department VARCHAR, service VARCHAR, district VARCHAR,
    answer INTEGER, comment VARCHAR, weight DOUBLE, source_file VARCHAR, source_row BIGINT"""))
register_table(Table("surveys", "survey_rejects", """source_file VARCHAR, source_row BIGINT,
    reason VARCHAR, detail VARCHAR, raw VARCHAR, department VARCHAR"""))
# telephony: contact-center intervals, re-derived from the exports on every ingest that has them
register_table(Table("telephony", "telephony", """queue VARCHAR NOT NULL,
    interval_start TIMESTAMPTZ NOT NULL, interval_minutes INTEGER, offered BIGINT,
    answered BIGINT, abandoned BIGINT, short_abandoned BIGINT, answered_within BIGINT,
    speed_of_answer_seconds DOUBLE, handle_seconds DOUBLE, agent_hours DOUBLE,
    source_file VARCHAR, source_row BIGINT"""))
register_table(Table("telephony", "telephony_rejects", """source_file VARCHAR,
    source_row BIGINT, queue VARCHAR, interval_text VARCHAR, reason VARCHAR, detail VARCHAR,
    raw VARCHAR"""))
# sessions and commitments (records store, append-only): a change to a commitment is a new row
# (revision + 1); the latest revision is its state (stat_lib.store.sessions)
register_table(Table("sessions", "sessions", """session_id VARCHAR NOT NULL, held_on DATE,
    departments VARCHAR[], title VARCHAR, notes VARCHAR, recorded_at TIMESTAMPTZ""",
                     store="records"))
register_table(Table("commitments", "commitments", """commitment_id VARCHAR NOT NULL,
    revision INTEGER, session_id VARCHAR, department VARCHAR, what VARCHAR, owner VARCHAR,
    due_on DATE, status VARCHAR, closed_on DATE, notes VARCHAR, metric VARCHAR,
    direction VARCHAR, target DOUBLE, recorded_at TIMESTAMPTZ, recorded_by VARCHAR""",
                     store="records"))
META = "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)"


def district_columns(params) -> list[str]:
    """``district_<layer>`` for every boundary layer in city.yaml, in order."""
    return [f"district_{b.layer}" for b in params.city.boundaries]


def ensure_schema(con, params) -> None:
    """Upgrade an older store (:mod:`stat_lib.store.migrations`), create the source store's
    tables (idempotent) and add any new ``district_<layer>``."""
    upgrade(con, params.store_path)
    for table in tables("source"):
        con.execute(table.ddl())
    con.execute(META)
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name='requests'"
    ).fetchall()}
    for col in district_columns(params):
        if col not in have:
            con.execute(f'ALTER TABLE requests ADD COLUMN "{col}" VARCHAR DEFAULT \'unassigned\'')
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('timezone', ?)",
                [str(SCHEMA_VERSION), params.city.timezone])
