"""Page one of a department packet: needs attention, going well, questions, the analyst's notes.

The items and questions come from :func:`stat_lib.metrics.page_one.page_one`; this module only
writes them as escaped HTML. The analyst's own questions and notes for a session live in the
home, ``sessions/<period>/<department>.md``, rendered as Markdown (CommonMark) with raw HTML
switched off: a ``<script>`` in the notes is shown as text, never run.
"""

from __future__ import annotations

from pathlib import Path

from .html import STATUS_BADGE, esc

LIMITS = {"attention": 6, "going_well": 4, "questions": 5}  # what fits on one printed page
WORD_COLOR = {"met": "#2e7d32", "near": "#7a4f00", "missed": "#c62828"}  # AA on white


def notes_path(home, period: str, department: str) -> Path:
    """``<home>/sessions/<period>/<department>.md``."""
    return Path(home) / "sessions" / period / f"{department}.md"


def render_markdown(text: str) -> str:
    """CommonMark to HTML with raw HTML off (it is escaped) and unsafe links refused; the
    notes' headings move three levels down (``#`` -> ``<h4>``), below page one's own."""
    from markdown_it import MarkdownIt
    md = MarkdownIt("commonmark", {"html": False})
    tokens = md.parse(text)
    for t in tokens:
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{min(6, int(t.tag[1]) + 3)}"
    return md.renderer.render(tokens, md.options, {})


def notes_html(home, period: str, department: str) -> str:
    """The analyst's notes for this session, or a plain line for the reader when there are
    none (where to write them is for analysts: docs/architecture.md, README)."""
    path = notes_path(home, period, department)
    if not path.exists():
        return '<p class="stat-note">No questions or notes from the analyst for this session.</p>'
    return f'<div class="stat-notes">{render_markdown(path.read_text(encoding="utf-8"))}</div>'


def item_list(items, empty: str, limit: int) -> str:
    if not items:
        return f'<p class="stat-note">{esc(empty)}</p>'
    shown = "".join(f"<li>{esc(s.text)}</li>" for s in items[:limit])
    more = (f'<p class="stat-note">and {len(items) - limit} more (see the sections '
            f'below).</p>' if len(items) > limit else "")
    return f"<ol>{shown}</ol>{more}"


def page_one_html(result: dict, tiles: str, notes: str) -> str:
    """Tiles, then Needs attention (worst first), Going well, Questions, the analyst's notes."""
    attention, well, asked = result["attention"], result["going_well"], result["questions"]
    lead = (f'<p class="stat-page-one-lead"><strong>First:</strong> {esc(attention[0].text)}'
            f'</p>' if attention else "")
    qs = ("<ol>" + "".join(f"<li>{esc(q)}</li>" for q in asked[:LIMITS["questions"]])
          + "</ol>") if asked else '<p class="stat-note">No generated question.</p>'
    return (f'<div class="stat-page-one">{lead}{tiles}'
            f'<div class="stat-page-one-cols"><section class="stat-attention">'
            f'<h3>Needs attention</h3>'
            f'{item_list(attention, "Nothing needs attention.", LIMITS["attention"])}'
            f'</section><section class="stat-going-well"><h3>Going well</h3>'
            f'{item_list(well, "No improvement signal this period.", LIMITS["going_well"])}'
            f'</section></div><section class="stat-questions">'
            f'<h3>Questions for the session</h3>{qs}<h4>Analyst&#x27;s questions and notes</h4>'
            f'{notes}</section></div>')


def status_tile(label: str, value: str, change: str, metric: str, status: str) -> str:
    """A headline tile with its status colour and its word (never colour alone)."""
    color, _, word = STATUS_BADGE.get(status, STATUS_BADGE["n/a"])
    word = "no target" if status == "n/a" else word
    return (f'<div class="stat-tile stat-tile-{esc(status.replace("/", ""))}" '
            f'style="border-top-color:{color}"><div class="stat-tile-label">{esc(label)}</div>'
            f'<div class="stat-tile-value" data-metric="{esc(metric)}">{esc(value)}</div>'
            f'<div class="stat-tile-status" style="color:{WORD_COLOR.get(status, "#616161")}">'
            f'{esc(word)}</div>'
            f'<div class="stat-tile-change">{esc(change)}</div></div>')
