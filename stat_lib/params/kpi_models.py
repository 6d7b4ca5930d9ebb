"""Params of the ``kpi_submissions`` kind: the KPIs a department submits, and when they are due.

A department's yaml lists its ``kpis:``; city.yaml's ``submissions:`` says when they are due
and how far a figure may move from the prior period's without a note. Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KPI_ID = r"^[a-z0-9][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatedTarget(_Strict):
    """A target that applies to periods starting on or after ``from`` (a new fiscal year's
    target does not rewrite how earlier periods are judged)."""

    target: float
    from_: str = Field(alias="from", description="YYYY-MM-DD, first day it applies")

    @field_validator("from_")
    @classmethod
    def _date(cls, value) -> str:
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}") from None


class ValidRange(_Strict):
    min: float | None = None
    max: float | None = None

    def text(self) -> str:
        lo = "" if self.min is None else f"{self.min:g}"
        hi = "" if self.max is None else f"{self.max:g}"
        return (f"between {lo} and {hi}" if lo and hi else f"of at least {lo}" if lo
                else f"of at most {hi}" if hi else "")


class Reconcile(_Strict):
    """Check a submitted KPI against a 311 metric (e.g. potholes repaired vs closed pothole
    requests): they agree when ``|kpi - 311| <= tolerance x 311``."""

    metric: str = Field(description="a requests metric id, e.g. closed")
    service: str | None = Field(default=None, description="restrict to one service (name "
                                "or code of the department's services)")
    tolerance: float = Field(default=0.02, ge=0)


class Kpi(_Strict):
    """One KPI a department submits each period."""

    id: str = Field(pattern=KPI_ID)
    label: str
    unit: Literal["count", "rate", "days", "business_days", "dollars"] = "count"
    direction: Literal["higher", "lower"] | None = "higher"
    target: float | None = None
    targets: list[DatedTarget] = []
    tolerance: float = Field(default=0.05, ge=0, description="amber band, fraction of target")
    frequency: Literal["monthly", "quarterly"] = "monthly"
    valid: ValidRange = ValidRange()
    required: bool = True
    reconcile_with: Reconcile | None = None

    @model_validator(mode="after")
    def _one_target(self):
        if self.target is not None and self.targets:
            raise ValueError("give either 'target' or dated 'targets', not both")
        if self.direction is None and (self.target is not None or self.targets):
            raise ValueError("a KPI with a target needs a good 'direction' (higher or lower)")
        return self

    def target_on(self, day: dt.date) -> float | None:
        """The target for a period starting on ``day`` (the latest ``from`` on or before it)."""
        if self.target is not None:
            return self.target
        dated = [t for t in self.targets if dt.date.fromisoformat(t.from_) <= day]
        return max(dated, key=lambda t: t.from_).target if dated else None

    def period_kind(self) -> str:
        return "month" if self.frequency == "monthly" else "quarter"


class Submissions(_Strict):
    """When KPI submissions are due and the rule for a large change."""

    due_business_days: int = Field(default=10, ge=0, description="business days after the "
                                   "period ends (the city's calendar)")
    change_factor: float = Field(default=3.0, gt=1, description="a value more than this factor "
                                 "from the prior period's (or of the other sign) needs a note")
    folder: str = Field(default="data/submissions", description="where `stat-lib demo` and "
                        "`stat-lib submissions load` look for submission files")


def unique_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """``kpis`` unchanged; a KPI id given twice is an error naming it."""
    seen = set()
    for k in kpis:
        if k.id in seen:
            raise ValueError(f"KPI id {k.id!r} is listed twice under 'kpis'; ids must be unique")
        seen.add(k.id)
    return kpis
