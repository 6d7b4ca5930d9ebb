"""Params of the cabinet briefing and the roundtables (city.yaml ``briefing:``, ``roundtables:``).

``briefing.metrics`` lists the 3-6 measures the Mayor is briefed on, each a department and a
metric id (a registered metric, or ``kpi.<id>`` of a submitted KPI); ``roundtables`` groups one
to three departments into one packet. Unknown keys are errors; departments are checked against
params/departments/ by :func:`meeting_checks`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import ParamsError

SLUG = r"^[a-z0-9][a-z0-9-]*$"
RESERVED = ("citywide", "briefing", "explore",
            "contact-center")  # run slugs of the period-wide kinds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BriefingMetric(_Strict):
    department: str
    metric: str


class Briefing(_Strict):
    """The cabinet briefing: one citywide page on 3 to 6 chosen measures."""

    title: str = "Cabinet briefing"
    metrics: list[BriefingMetric] = Field(min_length=3, max_length=6)


class Roundtable(_Strict):
    """One to three departments briefed together in one packet."""

    slug: str = Field(pattern=SLUG)
    name: str
    departments: list[str] = Field(min_length=1, max_length=3)


def meeting_checks(city, departments: dict, pdir: Path) -> list[ParamsError]:
    """Every department named by ``briefing:`` and ``roundtables:`` exists; a roundtable's
    slug is not a department's or a period-wide packet's, nor another roundtable's."""
    if city is None:
        return []
    f, problems, known = pdir / "city.yaml", [], sorted(departments)

    def unknown(slug, key):
        if slug not in departments:
            problems.append(ParamsError(
                f"unknown department {slug!r}; expected one of {', '.join(known)}",
                path=f, key=key))

    for m in city.briefing.metrics if city.briefing else []:
        unknown(m.department, "briefing.metrics")
    seen = set()
    for r in city.roundtables:
        for d in r.departments:
            unknown(d, f"roundtables.{r.slug}")
        if r.slug in departments or r.slug in RESERVED or r.slug in seen:
            problems.append(ParamsError(
                f"roundtable slug {r.slug!r} is already a department's, a packet's or another "
                f"roundtable's; packets are named by slug, so pick another", path=f,
                key="roundtables"))
        seen.add(r.slug)
    return problems
