"""Shapes of permit exports: the ``permits`` kind's canonical fields and source profiles.

The same mechanism as the 311 profiles (:mod:`stat_lib.ingest.profiles`): a profile names, per
canonical field, the source columns that may hold it (first present wins, names compared
ignoring case, spaces and underscores), and a source's ``columns:`` mapping overlays it.
Two kinds of file: permits (one row per application) and clock stops (one row per interval
the clock was stopped waiting on the applicant, any number per permit).
"""

from __future__ import annotations

from .profiles import Profile, _c, resolve

PERMIT_FIELDS = {
    "permit_id": "the application's id",
    "permit_type": "permit type as the source names it (matched to permit_standards)",
    "department": "department value, mapped to a slug by `source_codes`",
    "received_at": "when the application was received",
    "complete_at": "when the application was complete (the clock starts)",
    "issued_at": "when the permit was issued (the clock ends)",
    "status": "the source's status value",
    "fee": "the permit fee in dollars",
    "redress_paid": "redress delivered to the applicant, in dollars",
}
PERMIT_REQUIRED = ("permit_id", "permit_type", "department", "received_at")
STOP_FIELDS = {
    "permit_id": "the application's id (as in the permits file)",
    "stop_start": "when the clock stopped (waiting on the applicant)",
    "stop_end": "when it restarted (empty: still stopped)",
}
STOP_REQUIRED = ("permit_id", "stop_start")

PERMIT_PROFILES: dict[str, Profile] = {}
STOP_PROFILES: dict[str, Profile] = {}


def register(profile: Profile, registry: dict) -> Profile:
    """Add a permits (``PERMIT_PROFILES``) or stops (``STOP_PROFILES``) profile."""
    registry[profile.name] = profile
    return profile


register(Profile(
    "permits", "permit applications, stat_lib's own column names (and common variants)",
    _c(permit_id=["permit_id", "application_id", "permitnumber", "permit_number"],
       permit_type=["permit_type", "type", "permittype"],
       department=["department", "agency"],
       received_at=["received_at", "received", "application_date", "applied_date"],
       complete_at=["complete_at", "complete_application_date", "completed_date"],
       issued_at=["issued_at", "issued", "issue_date", "issued_date"],
       status="status", fee=["fee", "permit_fee", "fee_amount"],
       redress_paid=["redress_paid", "refund_paid"]),
    status_map={}, required=PERMIT_REQUIRED), PERMIT_PROFILES)
register(Profile(
    "permit-stops", "clock-stop intervals, stat_lib's own column names",
    _c(permit_id=["permit_id", "application_id", "permit_number"],
       stop_start=["stop_start", "stopped_at", "hold_start"],
       stop_end=["stop_end", "restarted_at", "hold_end"]),
    status_map={}, required=STOP_REQUIRED), STOP_PROFILES)


def resolve_permits(source) -> Profile:
    """The profile a ``permits:`` source reads with (``columns:`` overlaid)."""
    return resolve(source, PERMIT_PROFILES, PERMIT_REQUIRED)


def resolve_stops(source) -> Profile:
    """The profile a ``permit_stops:`` source reads with (``columns:`` overlaid)."""
    return resolve(source, STOP_PROFILES, STOP_REQUIRED)


def describe() -> str:
    """The permit profiles and their columns (``*`` required), for `stat-lib profiles`."""
    lines = []
    for p in (*PERMIT_PROFILES.values(), *STOP_PROFILES.values()):
        lines.append(f"{p.name}: {p.description}")
        lines += [f"  {'*' if c in p.required else ' '} {c:<13} <- {' | '.join(cands)}"
                  for c, cands in p.columns.items()]
    return "\n".join(lines)
