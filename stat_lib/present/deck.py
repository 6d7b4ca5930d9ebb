"""A packet as a slide deck for the session screen (``stat-lib run --slides``).

nbconvert's reveal.js slides from the same executed notebook as the packet, through the packet's
own preprocessor (charts and maps as in the HTML packet), with reveal.js 4 (``templates/
stat_slides/static``, MIT licence beside it), its theme, the packet CSS, vega and Leaflet all
inlined: the deck opens offline, from a file, on any screen. One slide per section a session
looks at (page one, since last session, the scorecard, what moved and its charts, the maps;
for the citywide packet its overview sections), after a title slide with the headline tiles.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

from . import assets
from .packets import PacketPreprocessor, assets_head, cover, page_title, write_atomic
from .resources import packaged, template_dirs

TEMPLATE_NAME = "stat_slides"
SCORECARD = "scorecard"  # the tag PacketPreprocessor moves first
SECTIONS = re.compile(r"page one|since last session|scorecard|what moved|process behaviour|"
                      r"map|at a glance|cityscore|follow-up|briefing", re.IGNORECASE)


def mark_slides(nb, cv: dict) -> None:
    """Give every cell its slide type: a title slide (cover and headline tiles), one slide per
    section :data:`SECTIONS` names, everything else skipped."""
    import nbformat
    # the cells in the packet's order (scorecard-tagged first, as PacketPreprocessor puts
    # them), the title slide leading them: slide types are read before that preprocessor runs
    first = [c for c in nb.cells if SCORECARD in c.get("metadata", {}).get("tags", [])]
    nb.cells = first + [c for c in nb.cells if c not in first]
    title = nbformat.v4.new_markdown_cell(_title_html(cv), metadata={"tags": [SCORECARD]})
    nb.cells.insert(0, title)
    keep = True  # the title slide takes the outputs before the first heading (the tiles)
    for cell in nb.cells[1:]:
        heading = _heading(cell)
        if heading is not None:
            keep = bool(SECTIONS.search(heading))
            _slide(cell, "slide" if keep else "skip")
        elif cell.cell_type == "code" and "page_one(" in cell.source:
            _slide(cell, "slide")
            keep = True
        else:
            _slide(cell, "-" if keep and cell.get("outputs") else "skip")
    _slide(title, "slide")


def _heading(cell) -> str | None:
    if cell.cell_type != "markdown":
        return None
    match = re.match(r"##\s+(.+)", cell.source.strip())
    return match.group(1) if match else None


def _slide(cell, kind: str) -> None:
    cell.setdefault("metadata", {})["slideshow"] = {"slide_type": kind}


def _title_html(cv: dict) -> str:
    parts = [f'<p class="stat-city">{html.escape(cv["city"])}</p>',
             f'<h1 class="stat-title">{html.escape(cv["title"])}</h1>']
    facts = " · ".join(x for x in (cv["period"], cv["as_of"] and f"data as of {cv['as_of']}")
                       if x)
    parts.append(f'<p class="stat-deck-facts">{html.escape(facts)}</p>')
    if cv.get("stale"):
        parts.append(f'<p class="stat-stale">{html.escape(cv["stale"])}</p>')
    return "\n".join(parts)


def render_slides(nb, params=None, meta: dict | None = None) -> str:
    """The deck's HTML for an executed notebook (a copy is marked; ``nb`` is left alone)."""
    from nbconvert import SlidesExporter
    nb = copy.deepcopy(nb)
    cv = cover(params, nb.metadata.get("stat_packet"), meta)
    mark_slides(nb, cv)
    home = params.home if params is not None else None
    exporter = SlidesExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[
        str(d) for d in template_dirs(home)], exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True)
    exporter.register_preprocessor(PacketPreprocessor(static=False), enabled=True)
    resources = {"stat_packet": {"cover": cv, "static": False},
                 "metadata": {"name": page_title(cv) + " (slides)"}}
    body, resources = exporter.from_notebook_node(nb, resources=resources)
    css = "".join(assets.style_tag(_static(name, home)) for name in
                  ("reveal.css", "white.css"))
    body = body.replace("<!--stat-slides-css-->", css, 1)  # then JupyterLab's output CSS
    body = body.replace("<!--stat-slides-packet-css-->",
                        assets.style_tag(_packet_css(home) + _deck_css(cv)), 1)
    body = body.replace("<!--stat-packet-assets-->", assets_head(resources["stat_packet"]), 1)
    return body.replace("<!--stat-slides-js-->", assets.script_tag(_static("reveal.js", home)), 1)


def export_slides(notebook_path, slides_path, params=None, meta: dict | None = None) -> Path:
    """Write the deck of an executed notebook (atomically)."""
    import nbformat
    nb = nbformat.read(Path(notebook_path), as_version=4)
    return write_atomic(slides_path, render_slides(nb, params, meta))


def _static(name: str, home=None) -> str:
    for d in template_dirs(home):
        path = d / TEMPLATE_NAME / "static" / name
        if path.exists():
            return path.read_text(encoding="utf-8")
    return (packaged("templates") / TEMPLATE_NAME / "static" / name).read_text(encoding="utf-8")


def _packet_css(home=None) -> str:
    for d in template_dirs(home):
        path = d / "stat_packet" / "static" / "packet.css"
        if path.exists():
            return path.read_text(encoding="utf-8")
    return ""


def _deck_css(cv: dict) -> str:
    """Slides read left-aligned like the packet, tall sections scroll, branding colours."""
    return (f":root {{ --stat-primary: {cv['primary']}; --stat-accent: {cv['accent']}; }}\n"
            "body.jp-Notebook.reveal-viewport { max-width: none; margin: 0; padding: 0; }\n"
            ".reveal .slides { text-align: left; }\n"
            ".reveal .slides > section { height: 100%; overflow-y: auto; font-size: 22px; }\n"
            ".reveal h1, .reveal h2 { color: var(--stat-primary); text-transform: none; }\n"
            ".reveal h1 { font-size: 2.2em; } .reveal h2 { font-size: 1.5em; }\n"
            ".reveal table { font-size: .8em; } .reveal .stat-deck-facts { color: #444; }\n")
