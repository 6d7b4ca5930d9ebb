"""Words and tables for "what moved" and the SPC charts: what the method did, said plainly.

Everything here displays :mod:`stat_lib.metrics.moved` / :mod:`stat_lib.metrics.spc` results;
nothing is computed. Data strings go through :func:`stat_lib.present.html.esc`.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from ..metrics.methods import NO_VERDICT, NOT_JUDGED, VERDICT_TEXT, Assessment
from ..metrics.registry import format_value, metric_def
from .html import esc, table

CHART_NAME = {"xmr": "XmR chart", "p_prime": "Laney p′ chart"}
SHORT_NAME = {"xmr": "XmR", "p_prime": "Laney p′"}


def method_lede(settings, period_label: str, partial: bool) -> str:
    """The paragraph above the list: which charts, which baseline, which rules, what is listed."""
    text = (f"Each measure is read on a process behaviour chart: an XmR chart for counts and "
            f"durations, a Laney p′ chart for rates. The mean and the limits come from up to "
            f"{settings.baseline_periods} periods before {period_label} (no verdict with fewer "
            f"than {settings.min_points})")
    if settings.seasonal:
        names = ", ".join(metric_def(m).label for m in settings.seasonal)
        text += f"; for seasonal measures ({names}) from the same period of earlier years"
    text += (f". Listed: measures where a signal fired at {period_label}: a point beyond a "
             f"limit, 7 or more in a row on one side of the mean, 6 in a row rising or falling, "
             f"or 2 of 3 beyond two sigma; concerning before improving, then by distance from "
             f"the mean.")
    if partial:
        text += (f" {period_label} is not complete (a period to date, or the data ends before "
                 f"it does): it is drawn on the charts but not judged against full-period "
                 f"limits.")
    return f'<p class="stat-lede">{esc(text)}</p>'


def moved_table(flagged: pd.DataFrame, names: dict[str, str] | None = None,
                units: dict[str, str] | None = None) -> str:
    """The listed rows: value, the limits the rules used, the rules, the verdicts
    (``units``: metric -> unit where the registry's family unit is not the row's, as KPIs)."""
    units = [(units or {}).get(k) or metric_def(k).unit for k in flagged["metric"]]
    rows = flagged.assign(
        rank_text=[f"{r:.0f}" for r in flagged["rank"]],
        now=[format_value(v, u) for v, u in zip(flagged["value"], units)],
        limits=[limits_text(lo, hi, v, u) for lo, hi, v, u in
                zip(flagged["lower"], flagged["upper"], flagged["value"], units)],
        centre=[format_value(v, u) for v, u in zip(flagged["mean"], units)],
        chart_text=[SHORT_NAME.get(c, c) for c in flagged["chart"]],
        verdict=[VERDICT_TEXT[v] for v in flagged["variation"]],
        assurance_shown=[t or "—" for t in flagged["assurance_text"]])
    cols = {"rank_text": "#"}
    if names is not None:
        rows["name"] = rows["department"].map(names)
        cols["name"] = "Department"
    cols.update({"label": "Measure", "now": "This period", "limits": "Process limits",
                 "centre": "Mean", "signals": "Signal (rule that fired)", "verdict": "Variation",
                 "assurance_shown": "Target", "chart_text": "Chart"})
    return f'<div class="stat-moved">{table(rows, cols)}</div>'


NOT_JUDGED_NOTE = "<p>Nothing is judged for a period that is not complete.</p>"
PRECISE = {"rate": "{:.2%}", "count": "{:,.1f}", "dollars": "${:,.2f}"}


def limits_text(lower, upper, value, unit: str) -> str:
    """``'540 – 854'``; one more digit when the value would print the same as a limit, so a
    value beyond a limit never reads as sitting on it (46.6 rather than 47 beside 47)."""
    texts = [format_value(x, unit) for x in (lower, upper)]
    if format_value(value, unit) in texts:
        fmt = PRECISE.get(unit, "{:,.2f} days")
        texts = [fmt.format(x) for x in (lower, upper)]
    return " – ".join(texts)


def unlisted_note(moved: pd.DataFrame) -> str:
    """Which measures showed common cause variation and which had no verdict, and why."""
    parts = []
    common = moved[moved["variation"] == "common_cause"]
    if len(common):
        parts.append("Common cause variation (no signal): " + ", ".join(common["label"]) + ".")
    none = moved[moved["variation"].isin([NO_VERDICT, NOT_JUDGED])]
    if len(none):
        parts.append("No verdict: " + "; ".join(f"{r.label} ({r.reason})"
                                                for r in none.itertuples()) + ".")
    return f'<p class="stat-note">{esc(" ".join(parts))}</p>' if parts else ""


def chart_subtitle(a: Assessment, period_label: str, width: int = 90) -> list[str]:
    """Lines under an SPC chart: the chart and its baseline, then the verdicts, e.g.
    ``['XmR chart; mean and limits from 24 periods before 2026-10', 'special cause:
    concerning (above the upper limit)', 'target consistently met']``."""
    n = a.baseline_points
    where = f"the same period of {n} earlier years" if a.seasonal else f"{n} periods"
    chart = CHART_NAME.get(a.chart, a.chart)
    lines = [chart if a.variation == NO_VERDICT and math.isnan(a.lower)
             else f"{chart}; mean and limits from {where} before {period_label}"]
    verdict = VERDICT_TEXT[a.variation]
    detail = "; ".join(a.signals) or a.reason
    lines += textwrap.wrap(f"{verdict} ({detail})" if detail else verdict, width)
    if a.assurance_text:
        lines.append(a.assurance_text)
    return lines
