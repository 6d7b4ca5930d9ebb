"""Dataset kinds: the kinds of data stat_lib keeps (the extension point that matters most).

A kind is named here once. Each layer registers its own part under that name, in one module
per layer: its params (``stat_lib.params.kinds``), how its rows come in
(``stat_lib.ingest.kinds``), its tables (``stat_lib.store.schema``) and the metrics it feeds
(``stat_lib.metrics.registry``, each metric names its kind). ``tests/test_layers.py`` checks
that every kind has all of its parts.

``origin`` says where a kind's rows come from: ``source`` kinds are re-derived from the
city's exports on every ingest; ``records`` kinds (KPI submissions, sessions, commitments) are
entered by people, live in the records store (``stat_lib.store.records``) and are never
dropped by a re-ingest, a rebuild of the store or ``make clean``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import StatLibError


@dataclass(frozen=True)
class DatasetKind:
    """A kind of data: its name, a one-line description and where its rows come from."""

    name: str
    description: str
    origin: Literal["source", "records"]


KINDS: dict[str, DatasetKind] = {}


def register_kind(kind: DatasetKind) -> DatasetKind:
    """Add a dataset kind (the one place kinds are named)."""
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> DatasetKind:
    """The registered kind ``name``; unknown -> ``StatLibError`` listing the known ones."""
    if name not in KINDS:
        raise StatLibError(f"unknown dataset kind {name!r}; known kinds: "
                           f"{', '.join(sorted(KINDS))}")
    return KINDS[name]


register_kind(DatasetKind("requests", "311 service requests (one row per request)", "source"))
register_kind(DatasetKind("permits", "permit applications with their stop-clock intervals "
                                     "(one row per permit; stops: any number per permit)",
                          "source"))
register_kind(DatasetKind("surveys", "resident survey responses (one row per response: "
                                     "department, district, answer on a stated scale)",
                          "source"))
register_kind(DatasetKind("telephony", "contact-center call counts per queue and interval "
                                       "(one row per queue and interval, 30 min to a day)",
                          "source"))
register_kind(DatasetKind("kpi_submissions", "KPI figures departments submit each period "
                          "(one row per department, period and KPI)", "records"))
register_kind(DatasetKind("sessions", "Stat meetings held (one row per session of one or more "
                          "departments)", "records"))
register_kind(DatasetKind("commitments", "commitments made at a session (one row per change: "
                          "the history of each commitment is kept)", "records"))
