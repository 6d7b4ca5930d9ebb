"""The ``sessions`` and ``commitments`` kinds' records: what an analyst enters, checked.

Neither kind is configured in params (people enter them with ``stat-lib sessions`` and
``stat-lib commitments``); these models check each entered row as params models check a file:
unknown fields are errors, and every problem of a row is reported at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .models import Strict

STATUSES = ("open", "done", "dropped")


class SessionRecord(Strict):
    """A Stat meeting: when, which departments (one, or a group), a title and notes."""

    held_on: dt.date
    departments: list[str] = Field(min_length=1)
    title: str | None = None
    notes: str | None = None


class CommitmentRecord(Strict):
    """A commitment made at a session: what, who, by when, its state, and optionally the metric
    it should move (``direction`` it should move in, or a ``target`` to reach)."""

    session_id: str
    department: str
    what: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due_on: dt.date
    status: Literal["open", "done", "dropped"] = "open"
    closed_on: dt.date | None = None
    notes: str | None = None
    metric: str | None = None
    direction: Literal["higher", "lower"] | None = None
    target: float | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.status == "open" and self.closed_on is not None:
            raise ValueError("an open commitment has no closed_on date; set status done or "
                             "dropped, or leave closed_on empty")
        if self.status != "open" and self.closed_on is None:
            raise ValueError(f"a {self.status} commitment needs the date it was {self.status} "
                             f"(closed_on)")
        if self.metric is None and (self.direction or self.target is not None):
            raise ValueError("direction and target need the metric they apply to (metric)")
        if self.metric is not None and self.direction is None:
            raise ValueError(f"say which way {self.metric} should move: direction higher or "
                             f"lower")
        return self
