"""Where each dataset kind is configured in params (the params part of a kind).

``configured(params, kind)`` gives the kind's configured inputs (for ``requests``: the
``sources:`` of city.yaml, each a :class:`~stat_lib.params.models.Source`). A new kind adds its
models to ``models.py`` and one ``register`` call here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from ..core.kinds import get_kind
from .kpi_models import Kpi
from .models import Params, Source
from .session_models import CommitmentRecord, SessionRecord


@dataclass(frozen=True)
class KindParams:
    """A kind's params: the model of one configured input, where it lives, how to get them."""

    kind: str
    model: type[BaseModel]
    where: str
    inputs: Callable[[Params], list]


KIND_PARAMS: dict[str, KindParams] = {}


def register(part: KindParams) -> KindParams:
    get_kind(part.kind)  # the kind must be named in stat_lib.core.kinds first
    KIND_PARAMS[part.kind] = part
    return part


def configured(params: Params, kind: str) -> list:
    """The configured inputs of ``kind`` in ``params`` (empty when the kind has no params)."""
    part = KIND_PARAMS.get(kind)
    return list(part.inputs(params)) if part else []


register(KindParams("requests", Source, "city.yaml `sources:` (one entry per export)",
                    lambda params: params.city.sources))
register(KindParams("permits", Source, "city.yaml `permits:` (permit exports) and "
                    "`permit_stops:` (clock-stop intervals)",
                    lambda params: params.city.permits + params.city.permit_stops))
register(KindParams("surveys", Source, "city.yaml `surveys:` (survey exports) and `survey:` "
                    "(scale, satisfied answers, small-sample threshold)",
                    lambda params: params.city.surveys))
register(KindParams("telephony", Source, "city.yaml `telephony:` (interval exports); "
                    "`contact_center:` (thresholds, short-abandon cutoff, targets)",
                    lambda params: params.city.telephony))
register(KindParams("kpi_submissions", Kpi, "departments/<slug>.yaml `kpis:` (one entry per "
                    "KPI); city.yaml `submissions:` (when due)",
                    lambda params: [k for d in params.departments.values() for k in d.kpis]))
# records kinds entered with the CLI, configured nowhere in params (their rows are checked by
# these models)
register(KindParams("sessions", SessionRecord, "nothing in params: `stat-lib sessions add` / "
                    "`import`", lambda params: []))
register(KindParams("commitments", CommitmentRecord, "nothing in params: `stat-lib commitments "
                    "add` / `sessions import`", lambda params: []))
