"""Packets: executed notebooks -> offline HTML (``templates/stat_packet``) and PDF.

Cover convention
----------------
The cover reads, lowest precedence first: defaults from params (city name, the sample-data
notice when ``city.sample_data``), then ``nb.metadata["stat_packet"]`` (a dict a batch may set),
then the ``meta`` dict given to :func:`export_html`. Keys: ``title``, ``department``, ``period``,
``as_of``, ``notice``, ``subtitle``.

Notebook convention
-------------------
Sections are markdown ``## `` headings (in markdown cells or ``text/markdown`` outputs); each
gets a table-of-contents entry. In print, sections flow one after another (no forced page
break); a heading stays with what follows it and figures and tables are never split.
Cells tagged ``scorecard`` come first. Charts (``stat_lib.present.charts``) and maps
(``stat_lib.present.maps``) display as mimetypes that the exporter turns into one offline
page with vega and Leaflet inlined once; a map's ranked district table sits beside it and
its legend prints as HTML.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
import threading
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from ..core.atomic_write import write_bytes
from ..core.errors import StatLibError
from . import assets
from .resources import template_dirs

TEMPLATE_NAME = "stat_packet"
VEGALITE_MIME = re.compile(r"^application/vnd\.vegalite\.v\d+[.+]json$")
MAP_MIME = "application/vnd.stat-lib.map+json"
KEEP_MIMES = ("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
              "text/plain", "text/latex", "application/pdf")
H2 = re.compile(r"^##[ \t]+(.+?)[ \t#]*$", re.M)


# --- the preprocessor: charts, maps, sections, noise --------------------------------------

class PacketPreprocessor(Preprocessor):
    """Rewrite an executed notebook into packet form.

    Drops stderr streams and outputs with no displayable mimetype, moves cells tagged
    ``scorecard`` first, anchors every ``## `` heading for the table of contents, and turns
    vega-lite and map outputs into HTML that uses the assets inlined once in the page head.
    """

    static = Bool(False, help="print-only: SVG charts and maps, no scripts").tag(config=True)

    def preprocess(self, nb, resources):
        packet = resources.setdefault("stat_packet", {})
        packet.update(toc=[], uses_vega=False, uses_leaflet=False, map_css=[])
        self._n = 0
        cells = [c for c in nb.cells if "scorecard" in c.get("metadata", {}).get("tags", [])]
        nb.cells = cells + [c for c in nb.cells if c not in cells]
        for cell in nb.cells:
            self._cell(cell, packet)
        return nb, resources

    def _cell(self, cell, packet):
        if cell.cell_type == "markdown":
            cell.source = self._anchor(cell.source, packet)
        if cell.cell_type != "code":
            return
        outputs = []
        for out in cell.get("outputs", []):
            out = self._output(out, packet)
            if out is not None:
                outputs.append(out)
        cell.outputs = outputs

    def _anchor(self, text: str, packet) -> str:
        def repl(m):
            self._n += 1
            anchor = f"section-{self._n}"
            packet["toc"].append({"id": anchor, "title": _strip_md(m.group(1))})
            return f'<a class="stat-anchor" id="{anchor}"></a>\n\n{m.group(0)}'
        return H2.sub(repl, text)

    def _output(self, out, packet):
        kind = out.get("output_type")
        if kind == "stream":
            return out if out.get("name") == "stdout" else None
        if kind not in ("display_data", "execute_result"):
            return out
        data = out.get("data", {})
        vl = next((k for k in data if VEGALITE_MIME.match(k)), None)
        if MAP_MIME in data:
            out["data"] = {"text/html": self._map_html(data[MAP_MIME], packet)}
        elif vl:
            out["data"] = {"text/html": self._chart_html(data[vl], data.get("image/svg+xml"),
                                                         packet)}
        elif "text/markdown" in data:
            data["text/markdown"] = self._anchor(_text(data["text/markdown"]), packet)
        if not any(k in out["data"] for k in KEEP_MIMES):
            return None
        return out

    def _chart_html(self, spec, svg, packet) -> str:
        from .charts import spec_svg
        self._n += 1
        svg = _text(svg) if svg else spec_svg(spec)
        static = f'<div class="stat-static">{_svg_only(svg)}</div>'
        if self.static:
            return f'<figure class="stat-chart">{static}</figure>'
        packet["uses_vega"] = True
        cid = f"stat-chart-{self._n}"
        return (f'<figure class="stat-chart"><div class="stat-live" id="{cid}"></div>{static}'
                f'<script>statPacket.chart("{cid}", {assets.json_for_script(spec)});</script>'
                f"</figure>")

    def _map_html(self, payload, packet) -> str:
        caption = payload.get("caption", "")
        # the legend prints as HTML in one line under the caption (readable at any size)
        legend = payload.get("legend", "")
        legend = (f'<div class="stat-static"><div class="stat-legend stat-print-legend">'
                  f'{legend}</div></div>' if legend else "")
        aside = payload.get("aside", "")
        static = f'<div class="stat-static">{_svg_only(payload["svg"])}</div>'
        if payload.get("css") and payload["css"] not in packet["map_css"]:
            packet["map_css"].append(payload["css"])
        wide = " stat-map-with-table" if aside else ""
        aside = f'<aside class="stat-map-aside">{aside}</aside>' if aside else ""
        head = f'<figure class="stat-map{wide}">{caption}{legend}<div class="stat-map-body">'
        if self.static:
            return f'{head}<div class="stat-map-view">{static}</div>{aside}</div></figure>'
        packet["uses_leaflet"] = True
        return (f'{head}<div class="stat-map-view"><div class="stat-live">{payload["html"]}'
                f'</div>{static}</div>{aside}</div><script>\n{payload["script"]}\n</script>'
                f'</figure>')


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _svg_only(svg: str) -> str:
    """An SVG document without its XML prolog, fit for inline HTML."""
    svg = _text(svg)
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else html.escape(svg)


def _strip_md(text: str) -> str:
    return re.sub(r"[*_`]|<[^>]+>", "", text).strip()


# --- export ---------------------------------------------------------------------------------

def cover(params, nb_meta: dict | None = None, meta: dict | None = None) -> dict:
    """The cover's values: params defaults < notebook metadata < the batch's ``meta``."""
    city = params.city if params is not None else None
    values = {"city": city.name if city else "", "title": "Stat packet", "department": "",
              "period": "", "as_of": "", "subtitle": "", "notice": "", "stale": "",
              "primary": "#1f3b5c", "accent": "#d9822b", "logo": ""}
    if city:
        values["notice"] = (city.data_notice or "Sample data: not real city performance."
                            ) if city.sample_data else ""
        values["primary"] = city.branding.primary_color
        values["accent"] = city.branding.accent_color
        values["logo"] = _logo_uri(params, city.branding.logo)
    values.update({k: v for k, v in (nb_meta or {}).items() if v is not None})
    values.update({k: v for k, v in (meta or {}).items() if v is not None})
    return {k: (str(v) if v is not None else "") for k, v in values.items()}


def page_title(cv: dict) -> str:
    """The HTML ``<title>``: "Bureau of Sanitation Stat - October 2026"."""
    return " - ".join(part for part in (cv["title"], cv["period"]) if part)


def _logo_uri(params, logo: str | None) -> str:
    if not logo:
        return ""
    path = params.path(logo)
    if not path.exists():
        raise StatLibError(f"branding logo not found; expected an image file at {path} "
                           f"(city.yaml branding.logo is relative to the home folder)",
                           path=path, key="branding.logo")
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()


# One exporter per thread (PacketPreprocessor keeps a count while it runs; a Dask worker runs
# jobs in threads), template folders and print mode: see _exporter.
_EXPORTERS = threading.local()


def _exporter(static: bool, home=None):
    """The HTMLExporter of a packet, reused by every packet of a process: an exporter loads
    and compiles its templates once (about 0.2 s a packet otherwise). Keyed by the template
    files' names, sizes and times too, so an edited or added home template is read again."""
    dirs = [str(d) for d in template_dirs(home)]
    key = (static, tuple(dirs), _stamp(dirs))
    cache = _EXPORTERS.__dict__.setdefault("by_key", {})
    if key not in cache:
        from nbconvert import HTMLExporter
        exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=dirs,
                                exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        exporter.register_preprocessor(PacketPreprocessor(static=static), enabled=True)
        cache[key] = exporter
        while len(cache) > 4:  # stale keys (edited templates) drop out, oldest first
            cache.pop(next(iter(cache)))
    return cache[key]


def _stamp(dirs: list[str]) -> tuple:
    """Names, sizes and modification times of the files under the template folders."""
    files = sorted(f for d in dirs for f in Path(d).rglob("*") if f.is_file())
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


def render_html(nb, params=None, meta: dict | None = None, *, static: bool = False) -> str:
    """A packet's HTML from a notebook node (see the module docstring for conventions)."""
    packet = {"cover": cover(params, nb.metadata.get("stat_packet"), meta), "static": static}
    # the lab template titles the page from metadata.name (else "Notebook"), escaped
    resources = {"stat_packet": packet, "metadata": {"name": page_title(packet["cover"])}}
    home = params.home if params is not None else None
    body, resources = _exporter(static, home).from_notebook_node(nb, resources=resources)
    marker = "<!--stat-packet-assets-->"
    return body.replace(marker, assets_head(resources["stat_packet"]), 1)


def assets_head(packet: dict) -> str:
    """The scripts and styles a packet's outputs use, each inlined once (vega, Leaflet)."""
    head = []
    if packet.get("uses_vega"):
        head.append(assets.script_tag(assets.vega_js()))
    if packet.get("uses_leaflet"):
        head += [assets.style_tag(assets.leaflet_css()), assets.script_tag(assets.leaflet_js())]
    head += packet["map_css"]
    return "\n".join(head)


def write_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write via a temporary sibling and ``os.replace`` (``stat_lib.core.atomic_write``), so a
    reader never sees half a packet and ``remove_stale_temps`` cleans up after a killed run."""
    return write_bytes(path, text.encode("utf-8") if isinstance(text, str) else text)


def export_html(notebook_path, html_path, params=None, meta: dict | None = None, *,
                static: bool = False) -> Path:
    """Export an executed notebook to an offline packet page.

    Parameters
    ----------
    notebook_path : path of the executed ``.ipynb``.
    html_path : where to write the page (written atomically).
    params : ``stat_lib.params.Params`` for city name, branding and the sample-data notice.
    meta : cover values (``title``, ``department``, ``period``, ``as_of``, ``notice``).
    static : SVG charts and maps, no JavaScript at all (for print).

    Returns
    -------
    Path of the written page.
    """
    notebook_path = Path(notebook_path)
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError) as exc:
        raise StatLibError(f"cannot read the executed notebook ({exc}); expected an .ipynb "
                           f"written by the batch; re-run the period", path=notebook_path) from exc
    return write_atomic(html_path, render_html(nb, params, meta, static=static))


# --- PDF ------------------------------------------------------------------------------------

def export_pdf(html_path, pdf_path, *, browser=None) -> Path:
    """Print a packet page to PDF with headless Chromium, network closed.

    The page's print CSS shows the static SVG charts and maps (vl_convert), lets sections
    flow, keeps headings with what follows and figures and tables whole and numbers the pages
    ("Page n of N"). Pass ``browser`` (a ``stat_lib.present.chromium.Chromium``) to reuse one
    process for a batch, or use :func:`export_pdfs`.
    """
    from .chromium import Chromium
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.exists():
        raise StatLibError("packet page not found; expected the HTML written by export_html",
                           path=html_path)
    if browser is None:
        with Chromium() as own:
            return write_atomic(pdf_path, own.print_pdf(html_path))
    return write_atomic(pdf_path, browser.print_pdf(html_path))


def export_pdfs(pairs) -> list[Path]:
    """Print many ``(html_path, pdf_path)`` pairs with one Chromium process."""
    from .chromium import Chromium
    with Chromium() as browser:
        return [export_pdf(h, p, browser=browser) for h, p in pairs]


def templates_dir() -> Path:
    """The packaged nbconvert templates folder (holds ``stat_packet``)."""
    from .resources import packaged
    return packaged("templates")
