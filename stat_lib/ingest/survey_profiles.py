"""Shapes of survey exports: the ``surveys`` kind's canonical fields and source profiles.

The mechanism of the 311 and permit profiles (:mod:`stat_lib.ingest.profiles`): per canonical
field, the source columns that may hold it (first present wins, names compared ignoring case,
spaces and underscores); a source's ``columns:`` mapping overlays the profile.
"""

from __future__ import annotations

from .profiles import Profile, _c, resolve

SURVEY_FIELDS = {
    "response_id": "the response's id (optional: the file and row identify it otherwise)",
    "responded_at": "when the resident answered",
    "department": "department value (a slug or one of its `source_codes`)",
    "service": "service name (gives the department when the department value is empty)",
    "district": "district key (e.g. the council district), optional",
    "answer": "the satisfaction answer: a point of the scale or a label in `survey.labels`",
    "comment": "free-text comment, optional (internal packets only, escaped)",
    "weight": "survey weight, optional (>= 0; empty: 1)",
}
SURVEY_REQUIRED = ("responded_at", "answer")

SURVEY_PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    """Add a survey profile to ``SURVEY_PROFILES``."""
    SURVEY_PROFILES[profile.name] = profile
    return profile


register(Profile(
    "surveys", "survey responses, stat_lib's own column names (and common variants)",
    _c(response_id=["response_id", "id", "respondent_id"],
       responded_at=["responded_at", "response_date", "date", "submitted_at"],
       department=["department", "agency"], service=["service", "service_name"],
       district=["district", "council_district", "cd"],
       answer=["answer", "satisfaction", "rating", "score"],
       comment=["comment", "comments", "free_text"], weight=["weight", "wt"]),
    status_map={}, required=SURVEY_REQUIRED))


def resolve_surveys(source) -> Profile:
    """The profile a ``surveys:`` source reads with (``columns:`` overlaid)."""
    return resolve(source, SURVEY_PROFILES, SURVEY_REQUIRED)


def describe() -> str:
    """The survey profiles and their columns (``*`` required), for `stat-lib profiles`."""
    lines = []
    for p in SURVEY_PROFILES.values():
        lines.append(f"{p.name}: {p.description}")
        lines += [f"  {'*' if c in p.required else ' '} {c:<13} <- {' | '.join(cands)}"
                  for c, cands in p.columns.items()]
    return "\n".join(lines)
