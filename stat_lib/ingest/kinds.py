"""How each dataset kind's rows come in (the ingest part of a kind).

A kind's ingest has two steps so that every kind of one ``stat-lib ingest`` commits together:
``prepare(con, params, layers)`` reads and checks into temp tables (the store untouched) and
returns what it prepared; ``commit(con, params, layers, prepared)`` writes inside the
pipeline's one transaction and returns the kind's report. ``layers`` are the boundary layers
read once per ingest (``stat_lib.ingest.boundaries.read_layers``).
Source shapes are :mod:`stat_lib.ingest.profiles`; file formats :mod:`stat_lib.ingest.readers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.kinds import get_kind
from . import permits, requests, surveys, telephony


@dataclass(frozen=True)
class KindIngest:
    """A kind's ingest steps and a one-line description of its sources."""

    kind: str
    prepare: Callable
    commit: Callable
    sources: str


INGESTS: dict[str, KindIngest] = {}


def register(part: KindIngest) -> KindIngest:
    get_kind(part.kind)  # named in stat_lib.core.kinds first
    INGESTS[part.kind] = part
    return part


register(KindIngest("requests", requests.prepare, requests.commit,
                    "311 exports through a profile (`stat-lib profiles`) or a columns: mapping"))
register(KindIngest("permits", permits.prepare, permits.commit,
                    "permit exports and clock-stop intervals through a permit profile "
                    "(`permits`, `permit-stops`) or a columns: mapping"))
register(KindIngest("surveys", surveys.prepare, surveys.commit,
                    "resident survey exports through the `surveys` profile or a columns: "
                    "mapping"))
register(KindIngest("telephony", telephony.prepare, telephony.commit,
                    "contact-center interval exports through a telephony profile "
                    "(`telephony`) or a columns: mapping"))
