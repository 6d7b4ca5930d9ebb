"""The cabinet briefing's words: one sentence per chosen measure, from its verdicts.

The sentence states the value, where it sits against the limits the method used, the variation
verdict and, with a target, the assurance verdict (:mod:`stat_lib.metrics.methods`), e.g.
``'Sanitation: Open at period end rose to 16 in 2026-10, above the upper limit of 15 (special
cause: concerning); no assurance verdict: the process changed.'``
"""

from __future__ import annotations

import difflib

from ..core.errors import MetricError, ParamsError
from .methods import COMMON, VERDICT_TEXT, Assessment
from .page_one import where_text
from .registry import METRICS, format_value, metric_def


def briefing_sentence(department: str, label: str, unit: str, period: str,
                      a: Assessment) -> str:
    """One generated sentence for one measure of one department (see the module docstring)."""
    v = format_value(a.value, unit)
    if a.special:
        verb = "rose to" if a.value >= a.mean else "fell to"
        where = where_text(a.signals[0] if a.signals else "", a.lower, a.upper, a.mean,
                           a.value, unit)
        text = f"{department}: {label} {verb} {v} in {period}, {where}"
    elif a.variation == COMMON:
        text = (f"{department}: {label} was {v} in {period}, within its limits of "
                f"{format_value(a.lower, unit)} to {format_value(a.upper, unit)}")
    else:
        return f"{department}: {label} was {v} in {period}; {a.text()}."
    text += f" ({VERDICT_TEXT[a.variation]})"
    return text + (f"; {a.assurance_text}." if a.assurance_text else ".")


def chosen_problems(params) -> list[ParamsError]:
    """Each ``briefing.metrics`` entry names a registered metric, or ``kpi.<id>`` of a KPI its
    department submits (checked before a run and by ``stat-lib validate``, not mid-briefing)."""
    chosen = params.city.briefing.metrics if params.city.briefing else []
    where = params.home / "params" / "city.yaml"
    problems = []
    for i, c in enumerate(chosen):
        key = f"briefing.metrics[{i}].metric"
        dept = params.departments.get(c.department)
        if dept is None:
            continue  # an unknown department is reported by the params checks
        if c.metric.startswith("kpi."):
            ids = [k.id for k in dept.kpis]
            if c.metric[4:] not in ids:
                problems.append(ParamsError(
                    f"{c.department} submits no KPI {c.metric[4:]!r}; expected one of "
                    f"{', '.join(ids) or '(none: its params have no kpis:)'}", path=where,
                    key=key))
            continue
        try:
            metric_def(c.metric)
        except MetricError:
            known = sorted(m for m in METRICS if m != "kpi")
            near = difflib.get_close_matches(c.metric, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(ParamsError(
                f"unknown metric {c.metric!r}{hint}; expected one of {', '.join(known)} "
                f"or kpi.<id>", path=where, key=key))
    return problems
