"""Notebook kinds: the packets a period produces, each a packaged notebook plus its report.

A kind names its notebook (``<kind>.ipynb``, packaged), the report class the notebook uses and
the runs it makes in a period (``department``: one per department; ``citywide``: one). Which
notebook a run executes, first found:

1. ``<notebooks>/<slug>.ipynb``: a home's notebook for that one department (or citywide);
2. ``<notebooks>/<kind>.ipynb``: a home's notebook for every run of the kind;
3. the packaged ``<kind>.ipynb``.

``<notebooks>`` is the home's ``notebooks/`` folder (or the folder a caller names). Each step
stands alone: a home may override one department without copying the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import UsageError
from .resources import packaged


@dataclass(frozen=True)
class NotebookKind:
    """A kind of packet.

    ``report`` is the class its packaged notebook displays (tests check the notebook imports
    it); ``per_department`` kinds run once per department (slug = the department's), the
    others once per period (slug = the kind's name, cover title ``label``).
    """

    name: str
    report: str
    description: str
    per_department: bool = False
    label: str = ""
    on_demand: bool = False  # run by its own command (stat-lib explore), never in the batch
    public: bool = True  # part of the public edition (--audience public); False: internal only
    slugs: Callable | None = None   # params -> run slugs, for kinds whose runs params decide
    titles: Callable | None = None  # (params, slug) -> cover title, with ``slugs``

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    def runs(self, params) -> list[str]:
        """The run slugs of this kind for a home, in batch order."""
        if self.slugs is not None:
            return list(self.slugs(params))
        return sorted(params.departments) if self.per_department else [self.name]

    def title(self, params, slug: str) -> str:
        """Whose packet a run is: the department's name, else the kind's label."""
        if self.titles is not None:
            return self.titles(params, slug)
        return params.departments[slug].name if self.per_department else self.label


NOTEBOOK_KINDS: dict[str, NotebookKind] = {}


def register(kind: NotebookKind) -> NotebookKind:
    """Add a notebook kind (the one place kinds are listed); runs happen in this order."""
    NOTEBOOK_KINDS[kind.name] = kind
    return kind


def plan(params) -> list[tuple[str, NotebookKind]]:
    """Every run of a period for this home: ``(slug, kind)`` in batch order (on-demand kinds
    are not part of it)."""
    return [(slug, kind) for kind in NOTEBOOK_KINDS.values() if not kind.on_demand
            for slug in kind.runs(params)]


def kind_of(params, slug: str) -> NotebookKind:
    """The kind a run slug belongs to; unknown -> ``UsageError`` listing the known slugs."""
    for run, kind in plan(params):
        if run == slug:
            return kind
    known = ", ".join(s for s, _ in plan(params))
    raise UsageError(f"unknown department {slug!r}; known departments and packets: {known}")


def notebook_for(slug: str, kind: NotebookKind, notebooks_dir=None) -> Path:
    """The notebook one run executes (see the module docstring for the order)."""
    if notebooks_dir is not None:
        for name in (f"{slug}.ipynb", kind.notebook):
            own = Path(notebooks_dir) / name
            if own.exists():
                return own
    return packaged("notebooks") / kind.notebook


register(NotebookKind("department", "stat_lib.present.reports.DepartmentReport",
                      "one department's packet for one period", per_department=True))
register(NotebookKind("citywide", "stat_lib.present.reports.CitywideReport",
                      "every department at a glance, CityScore, what moved",
                      label="Citywide"))
register(NotebookKind("explore", "stat_lib.explore.Home",
                      "a liaison's explorer of one department (stat-lib explore; on demand)",
                      per_department=True, on_demand=True))


def _briefing_runs(params) -> list[str]:
    return ["briefing"] if params.city.briefing else []


def _roundtables(params) -> list[str]:
    return [r.slug for r in params.city.roundtables]


def _roundtable_title(params, slug: str) -> str:
    return next(r.name for r in params.city.roundtables if r.slug == slug)


register(NotebookKind("briefing", "stat_lib.present.reports.BriefingReport",
                      "the Mayor's one-page cabinet briefing (city.yaml briefing:)",
                      label="Cabinet briefing", slugs=_briefing_runs, public=False,
                      titles=lambda params, slug: params.city.briefing.title))
register(NotebookKind("roundtable", "stat_lib.present.reports.RoundtableReport",
                      "one packet for a group of 1-3 departments (city.yaml roundtables:)",
                      slugs=_roundtables, titles=_roundtable_title, public=False))


def _contact_center_runs(params) -> list[str]:
    return ["contact-center"] if params.city.contact_center else []


register(NotebookKind("contact-center", "stat_lib.present.reports.ContactCenterReport",
                      "the 311 contact center as a department of its own (city.yaml "
                      "contact_center: and telephony:)", label="311 Contact Center",
                      slugs=_contact_center_runs, public=False,
                      titles=lambda params, slug: params.city.contact_center.name))
