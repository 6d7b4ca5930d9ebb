"""Offline JavaScript and CSS for packets: vega (vl_convert) and Leaflet (XStatic), inlined once.

Every asset comes from an installed Python package, never from a CDN, so a packet opens on a
network that blocks them, from an email attachment, or on a laptop with no network at all.
"""

from __future__ import annotations

import base64
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from ..core.atomic_write import write_text
from ..core.errors import MissingDependency, StatLibError

# The packet's small runtime: draws each chart once vega is inlined; reports failures visibly.
PACKET_JS = r"""
window.statPacket = window.statPacket || {
  chart: function (id, spec) {
    var el = document.getElementById(id);
    if (!el || typeof vegaEmbed === "undefined") { return; }
    vegaEmbed(el, spec, {renderer: "svg", tooltip: true,
                         actions: {export: true, source: false, compiled: false, editor: false}})
      .catch(function (err) {
        el.textContent = "This chart could not be drawn: " + err;
        console.error(err);
      });
  }
};
"""


def _require(module: str, package: str):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"the offline assets need the Python package {package!r}, which "
                                f"is not installed; run `pip install {package}`") from None


def script_safe(js: str) -> str:
    """Make JavaScript safe to place inside ``<script>``: no early ``</script>``, no source maps."""
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.M)
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)


def json_for_script(obj) -> str:
    """JSON that is safe inside ``<script>`` and HTML: ``<``, ``>``, ``&`` become ``\\u`` escapes.

    A data string holding ``</script><script>...`` stays a string and runs nothing.
    """
    text = json.dumps(obj, separators=(",", ":"), default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def vega_js() -> str:
    """vega + vega-lite + vega-embed (``vl_convert.javascript_bundle``), wrapped in a scope.

    The bundle declares top-level ``const`` names; the wrapper keeps them from clashing with
    other scripts of the page. It sets ``window.vegaEmbed``, ``window.vega``, ``window.vegaLite``.
    """
    vlc = _require("vl_convert", "vl-convert-python")
    return "(function(){\n" + script_safe(_bundle(vlc)) + "\n})();\n" + PACKET_JS


def bundle_cache(version: str) -> Path:
    """Where the bundle of vl_convert ``version`` is kept: the user cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``) under ``stat_lib/``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "stat_lib" / f"vega-bundle-vl-convert-{version}.js"


def _bundle(vlc) -> str:
    """``vlc.javascript_bundle()`` (about 3 CPU s: it runs V8), read from the disk cache once
    this vl_convert version has written it there. The cache is written atomically; one that
    cannot be read or written costs time only."""
    from importlib.metadata import version
    path = bundle_cache(version("vl-convert-python"))
    try:
        js = path.read_text(encoding="utf-8")
        if js:
            return js
    except (OSError, UnicodeDecodeError):
        pass
    js = vlc.javascript_bundle()
    try:
        write_text(path, js)
    except (OSError, StatLibError):  # read-only or full home: no cache
        pass
    return js


def _leaflet_dir() -> Path:
    return Path(_require("xstatic.pkg.leaflet", "XStatic-Leaflet").BASE_DIR)


def _cluster_dir() -> Path:
    return Path(_require("xstatic.pkg.leaflet_markercluster",
                         "XStatic-Leaflet-MarkerCluster").BASE_DIR)


def _inline_images(css: str, folder: Path) -> str:
    """Replace ``url(images/x.png)`` with data URIs so the CSS fetches nothing."""
    def data_uri(m: re.Match) -> str:
        path = folder / m.group(1)
        if not path.exists():
            return m.group(0)
        return "url(data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() + ")"
    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet and Leaflet.markercluster, in that order."""
    leaflet = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    cluster = (_cluster_dir() / "leaflet.markercluster.js").read_text(encoding="utf-8")
    return script_safe(leaflet) + "\n" + script_safe(cluster)


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's and markercluster's CSS, images inlined as data URIs."""
    base = _leaflet_dir()
    css = _inline_images((base / "leaflet.css").read_text(encoding="utf-8"), base)
    cluster = _cluster_dir()
    for name in ("MarkerCluster.css", "MarkerCluster.Default.css"):
        css += "\n" + (cluster / name).read_text(encoding="utf-8")
    return css


def script_tag(js: str) -> str:
    return f"<script>\n{js}\n</script>"


def style_tag(css: str) -> str:
    return f"<style>\n{css}\n</style>"
