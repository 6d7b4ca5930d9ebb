"""Page one: what needs a decision, what went well, and the questions for the session.

Items come from **signal sources**, functions registered in :data:`PAGE_ONE_SOURCES` that
take the department's :class:`PageOneInputs` and return :class:`Signal` items. The sources
here read the scorecard, "what moved" and the KPI submissions; another kind (sessions and
commitments) registers its own with :func:`register_source`, nothing else to change.

**Worst first.** Items sort by ``tier`` (:data:`TIERS`: a special-cause change in the wrong
direction, then a missed target, an overdue commitment, a missing KPI submission, a late one),
then by ``size`` within a tier, largest first (sigmas from the mean; the gap to the target as
a fraction of it; days overdue). Going well sorts the same way (improvement, newly met target,
commitment delivered).

**Questions** are generated from the "needs attention" items, one per metric (its worst item),
with the numbers filled in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from ..core.periods import Period
from .methods import CONCERNING, IMPROVING
from .registry import format_value

ATTENTION, GOING_WELL = "attention", "going_well"
TIERS = {"special_cause": 0, "target_missed": 1, "commitment_overdue": 2,
         "submission_missing": 3, "submission_late": 4,
         "improving": 0, "target_newly_met": 1, "commitment_done": 2}


@dataclass(frozen=True)
class Signal:
    """One page-one item: ``section`` (:data:`ATTENTION` or :data:`GOING_WELL`), the sentence
    ``text``, the generated ``question`` ('' when none), the ``metric`` it is about (None for
    a submission or a commitment), and its rank keys ``tier`` (:data:`TIERS`) and ``size``;
    ``clause`` (``'target 300 missed'``) is added to a worse item on the same metric instead
    of a line of its own."""

    section: str
    source: str
    tier: int
    size: float
    text: str
    question: str = ""
    metric: str | None = None
    clause: str = ""  # the fact alone, folded into a worse item on the same metric


@dataclass(frozen=True)
class PageOneInputs:
    """What the sources read: the department's scorecard (``scoring.department_scorecard``
    plus KPI rows), its ranked "what moved" rows (``moved.what_moved``) and the KPI
    submission status of the period (``kpis.submission_status``, None when no KPI is due)
    and the data's as-of day (``commitments.as_of_day``)."""

    params: object
    department: object
    period: Period
    card: pd.DataFrame
    moved: pd.DataFrame
    submissions: pd.DataFrame | None = None
    as_of_day: dt.date | None = None  # the data's as-of day (commitments count to it)
    personal: bool = True  # False (public edition): no commitment owners in the texts


Source = Callable[[PageOneInputs], list[Signal]]
PAGE_ONE_SOURCES: dict[str, Source] = {}
BRIEFING_SOURCES: list[str] = []  # sources the cabinet briefing lists across departments


def register_source(name: str, *, briefing: bool = False):
    """Decorator: add a signal source under ``name`` (names are unique). ``briefing=True``
    also lists its "needs attention" items in the cabinet briefing, for every department
    (:func:`briefing_items`); such a source reads only ``params``, ``department`` and
    ``period`` (the briefing passes an empty scorecard and "what moved")."""
    def add(fn: Source) -> Source:
        if name in PAGE_ONE_SOURCES:
            raise ValueError(f"page-one source {name!r} is registered twice")
        PAGE_ONE_SOURCES[name] = fn
        if briefing:
            BRIEFING_SOURCES.append(name)
        return fn
    return add


def unregister_source(name: str) -> None:
    PAGE_ONE_SOURCES.pop(name, None)
    if name in BRIEFING_SOURCES:
        BRIEFING_SOURCES.remove(name)


def briefing_items(params, period: Period,
                   as_of_day: dt.date | None = None) -> list[tuple[str, Signal]] | None:
    """``(department name, item)`` of every briefing source's "needs attention" items across
    departments, worst first; None when no source is registered for the briefing."""
    if not BRIEFING_SOURCES:
        return None
    empty = pd.DataFrame(columns=["metric", "flagged"])
    out = []
    for slug, dept in sorted(params.departments.items()):
        inputs = PageOneInputs(params, dept, period, empty, empty, as_of_day=as_of_day)
        out += [(dept.name, s) for name in BRIEFING_SOURCES
                for s in PAGE_ONE_SOURCES[name](inputs) if s.section == ATTENTION]
    return sorted(out, key=lambda pair: (pair[1].tier, -pair[1].size))


def page_one(inputs: PageOneInputs) -> dict[str, list]:
    """Every registered source's items, ranked: ``{"attention": [...], "going_well": [...],
    "questions": [...]}`` (questions as strings, worst first)."""
    items = [s for source in PAGE_ONE_SOURCES.values() for s in source(inputs)]
    ranked = sorted(items, key=lambda s: (s.tier, -s.size))
    attention = [s for s in ranked if s.section == ATTENTION]
    return {ATTENTION: folded(attention),
            GOING_WELL: folded([s for s in ranked if s.section == GOING_WELL]),
            "questions": questions(attention)}


def folded(items: list[Signal]) -> list[Signal]:
    """One line per metric: a later item's ``clause`` joins the metric's first (worst) item
    (``'...: 435, above the upper limit of 256; target 300 missed.'``)."""
    out: list[Signal] = []
    first: dict[str, int] = {}
    for s in items:
        if s.metric is None or s.metric not in first or not s.clause:
            if s.metric is not None:
                first.setdefault(s.metric, len(out))
            out.append(s)
            continue
        i = first[s.metric]
        out[i] = replace(out[i], text=f"{out[i].text.rstrip('.')}; {s.clause}.")
    return out


def questions(attention: list[Signal]) -> list[str]:
    """One question per metric (its worst item), then one per other item, in rank order."""
    seen, out = set(), []
    for s in attention:
        if not s.question or (s.metric is not None and s.metric in seen):
            continue
        seen.add(s.metric)
        out.append(s.question)
    return out


# ---- the sources ----------------------------------------------------------------------------

@register_source("spc")
def spc_signals(inputs: PageOneInputs) -> list[Signal]:
    """A special-cause change at the latest period: concerning needs attention, improving
    went well (a signal on a metric with no good direction is neither)."""
    rows = inputs.moved[inputs.moved["flagged"]] if len(inputs.moved) else inputs.moved
    out = []
    for _, r in rows.iterrows():
        unit = _unit(inputs.card, r["metric"])
        if r["variation"] == CONCERNING:
            out.append(Signal(ATTENTION, "spc", TIERS["special_cause"], _size(r["distance"]),
                              spc_sentence(r, unit), spc_question(r, unit), r["metric"]))
        elif r["variation"] == IMPROVING:
            out.append(Signal(GOING_WELL, "spc", TIERS["improving"], _size(r["distance"]),
                              spc_sentence(r, unit), "", r["metric"]))
    return out


@register_source("targets")
def target_signals(inputs: PageOneInputs) -> list[Signal]:
    """A missed target needs attention; a target met this period and missed (or near) the
    period before went well."""
    out = []
    for _, r in inputs.card.iterrows():
        if _missing(r["target"]) or _missing(r["value"]):
            continue
        v, t = format_value(r["value"], r["unit"]), format_value(r["target"], r["unit"])
        gap = abs(r["value"] - r["target"]) / abs(r["target"]) if r["target"] else 0.0
        if r["status"] == "missed":
            out.append(Signal(
                ATTENTION, "targets", TIERS["target_missed"], gap,
                f"{r['label']}: {v} against a target of {t} (missed).",
                f"{r['label']} was {v} against a target of {t}: what would it take to meet it, "
                f"and by when?", r["metric"], f"target {t} missed"))
        elif r["status"] == "met" and _was_short(r):
            p = format_value(r["prior"], r["unit"])
            out.append(Signal(GOING_WELL, "targets", TIERS["target_newly_met"], gap,
                              f"{r['label']} met its target of {t}: {v}, from {p} the period "
                              f"before.", "", r["metric"], f"target {t} newly met (from {p})"))
    return out


@register_source("kpi_submissions")
def submission_signals(inputs: PageOneInputs) -> list[Signal]:
    """The department's KPI submission for the period missing, or received late."""
    subs = inputs.submissions
    if subs is None or subs.empty:
        return []
    mine = subs[subs["department"] == inputs.department.slug]
    out = []
    for _, r in mine.iterrows():
        label, due = inputs.period.label, str(r["due"])
        if r["status"] == "missing":
            out.append(Signal(
                ATTENTION, "kpi_submissions", TIERS["submission_missing"], 0.0,
                f"The {label} KPI submission is missing (due {due}).",
                f"The {label} KPI submission was due {due} and has not arrived: when will it "
                f"be sent, and who owns it?"))
        elif r["status"] == "late":
            got = pd.Timestamp(r["received_at"]).tz_convert(inputs.params.city.timezone)
            out.append(Signal(
                ATTENTION, "kpi_submissions", TIERS["submission_late"], 0.0,
                f"The {label} KPI submission arrived late ({got:%Y-%m-%d}; due {due}).",
                f"The {label} KPI submission arrived on {got:%Y-%m-%d}, after its due date "
                f"of {due}: what held it up?"))
    return out


# ---- wording --------------------------------------------------------------------------------

def spc_sentence(row, unit: str) -> str:
    """``'Overdue open requests: 435, above the upper limit of 256.'``"""
    return f"{row['label']}: {format_value(row['value'], unit)}, {_where(row, unit)}."


def spc_question(row, unit: str) -> str:
    """``'Overdue open requests rose to 435, above the upper limit of 256: what is driving it
    and what is the plan?'`` (a run or trend rule names its pattern and the mean)."""
    value = format_value(row["value"], unit)
    verb = "rose to" if row["value"] >= row["mean"] else "fell to"
    return (f"{row['label']} {verb} {value}, {_where(row, unit)}: what is driving it and what "
            f"is the plan?")


def _where(row, unit: str) -> str:
    """Where the value sits against the limits the rule used (the first signal's wording)."""
    return where_text(str(row["signals"]).split("; ")[0], row["lower"], row["upper"],
                      row["mean"], row["value"], unit)


UNIT_TEXT = {"rate": (100, "{}%"), "count": (1, "{}"), "dollars": (1, "${}"),
             "days": (1, "{} days"), "business_days": (1, "{} business days")}


def where_text(signal: str, lower, upper, mean, value, unit: str) -> str:
    """``'above the upper limit of 256'``; a run or trend rule: its wording and the mean; a
    survey change (method ``survey_margin``) says itself, with its combined margin."""
    if "combined margin" in signal:
        return signal
    if signal == "above the upper limit":
        return f"above the upper limit of {beside(upper, value, unit)}"
    if signal == "below the lower limit":
        return f"below the lower limit of {beside(lower, value, unit)}"
    m = beside(mean, value, unit)
    return f"{signal} of {m}" if signal.endswith("the mean") else f"{signal} (mean {m})"


def beside(x, value, unit: str) -> str:
    """``x`` as displayed, with as many more digits as it takes (up to 4) to print apart from
    ``value``: a value beyond a limit of 46.96 never reads "47, above the upper limit of 47"."""
    text = format_value(x, unit)
    if _missing(x) or _missing(value) or text != format_value(value, unit):
        return text
    scale, pattern = UNIT_TEXT.get(unit, (1, "{}"))
    for digits in range(1, 5):
        if round(x * scale, digits) != round(value * scale, digits):
            return pattern.format(f"{x * scale:,.{digits}f}")
    return text


def _was_short(row) -> bool:
    """The period before had a value that did not meet the target."""
    if _missing(row["prior"]):
        return False
    higher = row["direction"] == "higher"
    return row["prior"] < row["target"] if higher else row["prior"] > row["target"]


def _unit(card: pd.DataFrame, metric: str) -> str:
    from .registry import METRICS
    hit = card.loc[card["metric"] == metric, "unit"]
    if len(hit):
        return str(hit.iloc[0])
    return METRICS[metric].unit if metric in METRICS else "count"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _size(value) -> float:
    return 0.0 if _missing(value) else abs(float(value))
