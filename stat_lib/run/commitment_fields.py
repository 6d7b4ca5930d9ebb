"""A commitment's fields checked the same way whether typed at the CLI or read from minutes.

Each problem names the field, what was found and what is expected; the caller adds where (a
CLI option, or a row of a file).
"""

from __future__ import annotations

from pydantic import ValidationError

from ..metrics.registry import METRICS
from ..params.session_models import CommitmentRecord


def judged_metrics() -> list[str]:
    """Metrics a commitment can be tied to: the department packet's metrics judged over time
    (SPC), not the families computed per item (standards, submitted KPIs)."""
    return [m.id for m in METRICS.values() if m.method is not None and m.kind == "requests"
            and (m.compute is not None or m.numerator is not None)]


def check_fields(params, fields: dict, group: list[str]) -> tuple[dict, list[str]]:
    """``fields`` checked (``CommitmentRecord``), the department one of the session's and
    known, the metric a judged one; (the normalised fields, the problems)."""
    problems = [f"column 'department': unknown department {d!r}; known: "
                f"{', '.join(sorted(params.departments))}" for d in group
                if d not in params.departments]
    if fields.get("department") and fields["department"] not in group:
        problems.append(f"column 'department': {fields['department']!r} was not at session "
                        f"{fields.get('session_id')} (its departments: {'+'.join(group)})")
    metric = fields.get("metric")
    if metric and metric not in judged_metrics():
        problems.append(f"column 'metric': unknown metric {metric!r}; one of "
                        f"{', '.join(judged_metrics())}")
    try:
        record = CommitmentRecord(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        return fields, problems + [_problem(e) for e in exc.errors()]
    return record.model_dump(), problems


def _problem(error: dict) -> str:
    field = ".".join(str(x) for x in error["loc"])
    found = error.get("input")
    text = error["msg"].removeprefix("Value error, ")
    if not field:
        return text
    if error["type"] == "missing":
        return f"column '{field}': empty; it is required"
    return f"column '{field}': {text} (found {found!r})"
