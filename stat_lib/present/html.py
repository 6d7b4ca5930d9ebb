"""HTML pieces the reports are made of; every string from data is escaped here.

Reports arrange and display: they take their numbers from :mod:`stat_lib.metrics` and turn
them into escaped HTML with these helpers (charts and maps escape their own strings).
"""

from __future__ import annotations

import html
import re

import pandas as pd

# background, text colour (WCAG AA contrast on it) and words with a mark: never colour alone
STATUS_BADGE = {"met": ("#2e7d32", "#fff", "✓ met"), "near": ("#f9a825", "#1a1a1a", "! near"),
                "missed": ("#c62828", "#fff", "✗ missed"), "n/a": ("#616161", "#fff", "n/a")}
TREND_ARROW = {"improving": "▲ improving", "worsening": "▼ worsening", "steady": "► steady",
               "n/a": "n/a"}


_LAB = {"styled": False, "primary": "#1f3b5c", "accent": "#d9822b"}


def trend_text(trend: str, direction: str | None) -> str:
    """The trend as words and an arrow that agree: the arrow is where the number went, the
    word whether that is good. For a lower-is-better measure, "▼ improving" (it fell)."""
    if trend not in ("improving", "worsening") or direction not in ("higher", "lower"):
        return TREND_ARROW.get(trend, trend)
    rose = (trend == "improving") == (direction == "higher")
    return f"{'▲' if rose else '▼'} {trend}"


def HTML(text: str):
    """An HTML output; the first of a kernel carries the packet's CSS (:func:`lab_style`)."""
    from IPython.display import HTML as _HTML
    if not _LAB["styled"]:
        _LAB["styled"] = True
        text = lab_style() + text
    return _HTML(text)


def lab_style() -> str:
    """The packet's CSS and branding colours as a ``<style>`` block, so tiles, badges and
    tables read the same inside JupyterLab as in the exported packet (whose template loads
    the same file in its head)."""
    from .resources import packaged
    css = (packaged("templates") / "stat_packet" / "static" / "packet.css").read_text(
        encoding="utf-8")
    return (f'<style class="stat-lab-style">:root {{ --stat-primary: {_LAB["primary"]}; '
            f'--stat-accent: {_LAB["accent"]}; }}\n{css}</style>')


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str) -> str:
    background, color, text = STATUS_BADGE.get(status, STATUS_BADGE["n/a"])
    return (f'<span class="stat-badge" style="background:{background};color:{color}">'
            f'{esc(text)}</span>')


# a figure short enough never to wrap ("1.1 days", "100.0%", "3,169", "2026-10-07", "▼ worse")
_FIGURE = re.compile(r"^[-+−]?[\d.,%]+( ?(days?|pts|%|h|min|s))?$|^\d{4}-\d{2}(-\d{2})?$"
                     r"|^[▲▼►] \w+$")
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def cell(value) -> str:
    """A table cell's escaped text; an ISO date inside words never breaks at its hyphens."""
    return _DATE.sub(r'<span class="stat-nowrap">\1</span>', esc(value))


def table(rows: pd.DataFrame, columns: dict[str, str], *, raw: tuple = (),
          caption: str = "", nowrap: tuple = ()) -> str:
    """An HTML table of ``rows``; cells are escaped unless their column is in ``raw``; cells
    of the columns in ``nowrap`` (request ids, dates), short figures and dates never wrap."""
    head = "".join(f'<th class="stat-nowrap">{esc(label)}</th>' if _FIGURE.match(esc(label))
                   else f"<th>{esc(label)}</th>" for label in columns.values())
    body = []
    for _, row in rows.iterrows():
        cells = "".join(_td(row[c], raw=c in raw, nowrap=c in nowrap) for c in columns)
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="stat-table">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _td(value, *, raw: bool, nowrap: bool) -> str:
    text = value if raw else cell(value)
    keep = nowrap or (not raw and bool(_FIGURE.match(esc(value))))
    return f'<td class="stat-nowrap">{text}</td>' if keep else f"<td>{text}</td>"


def change_text(value, before, unit: str) -> str:
    """A headline tile's change (:func:`stat_lib.metrics.registry.change`) as display text:
    ``+2.1 pts`` for rates, ``-4%`` otherwise, ``n/a`` when undefined."""
    from ..metrics.registry import change
    delta = change(value, before, unit)
    if delta is None:
        return "n/a"
    text = f"{delta * 100:+.1f} pts" if unit == "rate" else f"{delta:+.0%}"
    return text.lstrip("+-") if text.lstrip("+-") in ("0.0 pts", "0%") else text


def score_text(value) -> str:
    """A CityScore as ``0.97`` (``n/a`` when missing)."""
    return "n/a" if value is None or pd.isna(value) else f"{value:.2f}"


def use_branding(params) -> None:
    """Apply the city's branding colours to the charts' shared theme."""
    from .charts import use_branding as apply
    apply(params.city.branding)
    _LAB.update(primary=params.city.branding.primary_color,
                accent=params.city.branding.accent_color)
