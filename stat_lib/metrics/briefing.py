"""The cabinet briefing's words: one sentence per chosen measure, from its verdicts.

The sentence states the value, where it sits against the limits the method used, the variation
verdict and, with a target, the assurance verdict (:mod:`stat_lib.metrics.methods`), e.g.
``'Sanitation: Open at period end rose to 16 in 2026-10, above the upper limit of 15 (special
cause: concerning); no assurance verdict: the process changed.'``
"""

from __future__ import annotations

from .methods import COMMON, VERDICT_TEXT, Assessment
from .page_one import where_text
from .registry import format_value


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
