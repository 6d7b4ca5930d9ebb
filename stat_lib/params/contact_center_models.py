"""Params of the ``telephony`` kind and the contact-center packet (city.yaml ``contact_center:``).

The phone system counts "answered within the threshold" and "short abandons" itself, so the
threshold and the short-abandon cutoff it used are stated here with the date each applies from
(a list: a change over time is kept, and every chart says which one applies). Targets are the
city's (Boston's CityScore: 95% answered within 30 seconds). Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

TARGETS = ("service_level", "answer_rate", "abandonment_rate", "average_speed_of_answer",
           "average_handle_time", "calls_per_agent_hour")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatedSeconds(_Strict):
    """A count of seconds that applies to intervals starting on or after ``from``."""

    from_: dt.date = Field(alias="from", description="YYYY-MM-DD, the first day it applies")
    seconds: int = Field(ge=0, le=3600)


def _dated(values: list[DatedSeconds], what: str) -> list[DatedSeconds]:
    days = [v.from_ for v in values]
    if len(set(days)) != len(days):
        raise ValueError(f"two {what} entries start on the same date; keep one per date")
    return sorted(values, key=lambda v: v.from_)


class ContactCenter(_Strict):
    """The 311 contact center: its name, the definitions its phone system counts with, targets."""

    name: str = "311 Contact Center"
    service_level: list[DatedSeconds] = Field(
        min_length=1, description="the service-level threshold: calls answered within this many "
                                  "seconds count as answered within the threshold")
    short_abandon: list[DatedSeconds] = Field(
        default=[], description="calls abandoned within this many seconds are short abandons")
    exclude_short_abandons: bool = Field(
        default=True, description="short abandons are left out of service level's and "
                                  "abandonment's denominators (offered - short abandoned)")
    targets: dict[str, float] = Field(
        default={}, description=f"targets by metric: {', '.join(TARGETS)} (rates 0-1, "
                                f"seconds for the averages)")
    worst_intervals: int = Field(default=10, ge=1, le=100)

    @field_validator("service_level")
    @classmethod
    def _levels(cls, values):
        return _dated(values, "service_level")

    @field_validator("short_abandon")
    @classmethod
    def _shorts(cls, values):
        return _dated(values, "short_abandon")

    @field_validator("targets")
    @classmethod
    def _known(cls, values: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in values if k not in TARGETS]
        if unknown:
            raise ValueError(f"unknown target(s) {', '.join(map(repr, unknown))}; expected "
                             f"one of: {', '.join(TARGETS)}")
        rates = [k for k in ("service_level", "answer_rate", "abandonment_rate")
                 if k in values and not 0 <= values[k] <= 1]
        if rates:
            raise ValueError(f"target(s) {', '.join(rates)} are rates: write 0.95 for 95%")
        return values

    def seconds_on(self, which: str, day: dt.date) -> int | None:
        """The ``service_level`` or ``short_abandon`` seconds that applied on ``day`` (None:
        none stated yet)."""
        applied = [v.seconds for v in getattr(self, which) if v.from_ <= day]
        return applied[-1] if applied else None
