"""Shapes of contact-center exports: the ``telephony`` kind's canonical fields and profiles.

The same mechanism as the 311 profiles (:mod:`stat_lib.ingest.profiles`): a profile names, per
canonical field, the source columns that may hold it (first present wins, names compared
ignoring case, spaces and underscores), and a source's ``columns:`` mapping overlays it.
One row per queue and interval (30 minutes, an hour or a day: ``interval_minutes``).
"""

from __future__ import annotations

from .profiles import Profile, _c, resolve

TELEPHONY_FIELDS = {
    "queue": "the queue, line or skill the calls came in on",
    "interval_start": "when the interval starts (local time unless it carries an offset)",
    "interval_minutes": "the interval's length in minutes (30, 60, 1440 for a day)",
    "offered": "calls offered to the queue (entered it)",
    "answered": "calls answered by an agent",
    "abandoned": "calls the caller hung up on before an answer (short abandons included)",
    "short_abandoned": "abandoned within the short-abandon cutoff (city.yaml contact_center)",
    "answered_within": "answered within the service-level threshold (city.yaml contact_center)",
    "speed_of_answer_seconds": "total seconds answered calls waited before the answer",
    "handle_seconds": "total handle seconds of answered calls (talk, hold, wrap-up)",
    "agent_hours": "agent hours staffed (logged in and available or on calls); optional",
}
TELEPHONY_REQUIRED = ("queue", "interval_start", "interval_minutes", "offered", "answered",
                      "abandoned", "answered_within")
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within")
TOTALS = ("speed_of_answer_seconds", "handle_seconds", "agent_hours")

TELEPHONY_PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    """Add a telephony profile (``TELEPHONY_PROFILES``)."""
    TELEPHONY_PROFILES[profile.name] = profile
    return profile


register(Profile(
    "telephony", "contact-center intervals, stat_lib's own column names (and common ACD names)",
    _c(queue=["queue", "line", "skill", "split", "queue_name"],
       interval_start=["interval_start", "interval", "start_time", "date_time", "date"],
       interval_minutes=["interval_minutes", "interval_length", "minutes"],
       offered=["offered", "calls_offered", "contacts_offered"],
       answered=["answered", "calls_answered", "handled", "calls_handled"],
       abandoned=["abandoned", "calls_abandoned", "abandons"],
       short_abandoned=["short_abandoned", "short_abandons", "abandoned_short"],
       answered_within=["answered_within", "answered_within_sl", "answered_in_sl",
                        "within_service_level"],
       speed_of_answer_seconds=["speed_of_answer_seconds", "total_speed_of_answer",
                                "total_queue_seconds", "answer_wait_seconds"],
       handle_seconds=["handle_seconds", "total_handle_time", "handle_time_seconds"],
       agent_hours=["agent_hours", "staffed_hours", "logged_in_hours"]),
    status_map={}, required=TELEPHONY_REQUIRED))


def resolve_telephony(source) -> Profile:
    """The profile a ``telephony:`` source reads with (``columns:`` overlaid)."""
    return resolve(source, TELEPHONY_PROFILES, TELEPHONY_REQUIRED)


def describe() -> str:
    """The telephony profiles and their columns (``*`` required), for `stat-lib profiles`."""
    lines = []
    for p in TELEPHONY_PROFILES.values():
        lines.append(f"{p.name}: {p.description}")
        lines += [f"  {'*' if c in p.required else ' '} {c:<24} <- {' | '.join(cands)}"
                  for c, cands in p.columns.items()]
    return "\n".join(lines)
