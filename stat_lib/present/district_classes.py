"""Districts judged against a target for maps and their tables: met, near, missed, or too few.

A district's rate is judged by :func:`stat_lib.metrics.scoring.status`, the rule the scorecard
uses, so a district at 87% against an 85% target is "met" on the map as on the scorecard. A
district with fewer than ``min_count`` requests behind its rate is "too few to judge" and is not
coloured as a result; one with none is "no requests". Ranking puts the worst first: missed,
near, met (each from the worst value), then too few, then no requests.

Colours are ColorBrewer's colour-blind-safe red-blue pair; every class also has a word and a
symbol, so nothing is told by colour alone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..metrics.scoring import status

MIN_COUNT = 10  # fewer requests than this behind a rate: "too few to judge" (k = 10, as in NOTES)
# class: (fill colour, symbol, word); the order is the ranking's, worst first
CLASSES = {
    "missed": ("#ca0020", "✗", "Missed"),
    "near": ("#f4a582", "!", "Near"),
    "met": ("#4393c3", "✓", "Met"),
    "too_few": ("#f2f2f2", "…", "Too few to judge"),
    "none": ("#d0d0d0", "–", "No requests"),
}
ORDER = list(CLASSES)


def judge(values, counts, target, min_count: int = MIN_COUNT) -> list[str]:
    """The class of each district: ``missed``/``near``/``met`` against ``target`` (a
    ``params.models.Target``), ``too_few`` under ``min_count`` requests, ``none`` with none."""
    out = []
    for v, c in zip(values, counts):
        c = 0 if c is None or (isinstance(c, float) and math.isnan(c)) else c
        if c == 0:
            out.append("none")
        elif c < min_count or _missing(v):
            out.append("too_few")
        else:
            out.append(status(float(v), target))
    return out


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v)


def rank(frame: pd.DataFrame, cls: str, value: str, direction: str = "higher") -> pd.DataFrame:
    """``frame`` sorted worst first (by class, then value) with ``rank`` 1..n."""
    sign = 1 if direction == "higher" else -1
    key = pd.DataFrame({"c": frame[cls].map(ORDER.index),
                        "v": pd.to_numeric(frame[value], errors="coerce") * sign})
    order = np.lexsort((key["v"].fillna(np.inf).to_numpy(), key["c"].to_numpy()))
    out = frame.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def legend_rows(target, fmt: str, min_count: int, present: set[str]) -> list[tuple[str, str]]:
    """``(text, colour)`` legend rows for the classes in ``present``, thresholds spelled out:
    for an 85% target with 5% tolerance, "✓ Met: 85% or more", "! Near: 80.8% to 85%"."""
    t, tol = target.target, target.tolerance
    edge = t * (1 - tol) if target.direction == "higher" else t * (1 + tol)
    near_fmt = ".1%" if fmt.endswith("%") else fmt
    if target.direction == "higher":
        words = {"met": f"{format(t, fmt)} or more",
                 "near": f"{format(edge, near_fmt)} to under {format(t, fmt)}",
                 "missed": f"under {format(edge, near_fmt)}"}
    else:
        words = {"met": f"{format(t, fmt)} or less",
                 "near": f"over {format(t, fmt)} to {format(edge, near_fmt)}",
                 "missed": f"over {format(edge, near_fmt)}"}
    words["too_few"] = f"under {min_count:,} requests, not coloured"
    words["none"] = "none this period"
    return [(f"{CLASSES[c][1]} {CLASSES[c][2]}: {words[c]}", CLASSES[c][0])
            for c in ORDER if c in present]


def word(cls: str) -> str:
    """``"✓ Met"``, ``"… Too few to judge"``: the status as a reader reads it."""
    return f"{CLASSES[cls][1]} {CLASSES[cls][2]}"
