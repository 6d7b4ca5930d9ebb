"""Maps for packets: folium (Leaflet) offline, plus a static vega-lite geoshape SVG for print.

Every map is a :class:`PacketMap`. In JupyterLab it displays as a self-contained frame (Leaflet
inlined); ``stat_lib.present.packets`` instead places its div and script in the packet page, where
Leaflet is inlined once for all maps. Polygons are simplified and coordinates rounded to about
1 m before they reach the page; requests are aggregated into grid cells or clustered.
Every data string (district names, services, addresses) is HTML-escaped before it reaches a
tooltip, popup or legend.
"""

from __future__ import annotations

import html
import math
import types
from functools import cached_property

import altair as alt
import branca.element
import folium
import jinja2
import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster

from ..core.errors import StatLibError
from . import assets

MAP_MIME = "application/vnd.stat-lib.map+json"
NO_DATA = "#d9d9d9"
# Colour-blind-safe ramps (ColorBrewer): worse -> better, and low -> high volume.
PERFORMANCE = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
VOLUME = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]
LEGEND_CSS = """<style>
.stat-legend { background: #fff; padding: 6px 8px; border: 1px solid #bbb; border-radius: 4px;
  font: 12px/1.5 system-ui, sans-serif; color: #222; }
.stat-legend i { display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #888; }
.stat-legend-title { font-weight: 600; margin-bottom: 2px; }
.stat-map-note { font-size: .85em; color: #555; }
.folium-map.leaflet-container { background: #f7f7f4; }
</style>"""


# --- rendered text without a second jinja pass ---------------------------------------------

class _Text:
    """A jinja template of text with no jinja syntax, rendered as jinja renders it: the text
    less one trailing newline (``keep_trailing_newline`` is off). No ``{{``, ``{%``, ``{#`` and
    no ``\\r`` (jinja would make it ``\\n``); other text :func:`_element_template` compiles."""

    __slots__ = ("text",)
    module = types.SimpleNamespace()  # no macros: what MacroElement.render looks up

    def __init__(self, source: str):
        self.text = source[:-1] if source.endswith("\n") else source

    def render(self, *args, **kwargs) -> str:
        return self.text


def _element_template(source: str):
    """What ``branca.element.Element(text)`` makes of its text. Folium renders each element's
    script and wraps the result in an ``Element``, which compiles that rendered text as a
    jinja template again (0.5-1 CPU s a packet, each text unique: its ids are random); text
    with no jinja syntax renders to itself, so it needs no compiling."""
    if "{{" in source or "{%" in source or "{#" in source or "\r" in source:
        return jinja2.Template(source)
    return _Text(source)


branca.element.Template = _element_template  # the name Element.__init__ (and unpickling) calls


# --- classes and colours --------------------------------------------------------------------

def class_edges(values, n: int = 5) -> np.ndarray:
    """``n + 1`` equal-interval edges over the non-null values (one class when all are equal)."""
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").dropna()
    if v.empty:
        return np.array([])
    lo, hi = float(v.min()), float(v.max())
    return np.array([lo, hi]) if lo == hi else np.linspace(lo, hi, n + 1)


def classify(values, edges: np.ndarray) -> np.ndarray:
    """Class index of each value (``-1`` for missing); the top edge falls in the last class."""
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").to_numpy()
    if len(edges) < 2:
        return np.full(len(v), -1)
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
    return np.where(np.isnan(v), -1, idx)


def _palette(colors: list[str], k: int) -> list[str]:
    """``k`` colours spread over a ramp (k=1 takes its middle)."""
    if k == 1:
        return [colors[len(colors) // 2]]
    return [colors[round(i * (len(colors) - 1) / (k - 1))] for i in range(k)]


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    return format(value, fmt)


def class_labels(edges: np.ndarray, fmt: str) -> list[str]:
    return [f"{_fmt(a, fmt)} – {_fmt(b, fmt)}" for a, b in zip(edges[:-1], edges[1:])]


def count_classes(values, n: int = 5) -> tuple[np.ndarray, list[str]]:
    """Classes of whole counts that never overlap: the class index of each value (``-1`` for
    missing) and its labels. Values 1..3 give one class per value ("1", "2", "3"), never
    "1 – 1"; 0..100 in five classes give "0 – 19", "20 – 39", ... "80 – 100"."""
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce")
    ok = v.dropna()
    if ok.empty:
        return np.full(len(v), -1), []
    lo, hi = int(ok.min()), int(ok.max())
    starts = np.unique(np.floor(np.linspace(lo, hi + 1, min(n, hi - lo + 1) + 1)).astype(int))
    idx = np.clip(np.searchsorted(starts, v.fillna(lo).to_numpy(), side="right") - 1, 0,
                  len(starts) - 2)
    labels = [f"{a:,}" if b - 1 == a else f"{a:,} – {b - 1:,}"
              for a, b in zip(starts[:-1], starts[1:])]
    return np.where(v.isna().to_numpy(), -1, idx), labels


def _is_counts(values) -> bool:
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").dropna()
    return len(v) > 0 and bool((v == np.round(v)).all())


# --- the map object -------------------------------------------------------------------------

class _Legend(branca.element.MacroElement):
    """A Leaflet control holding pre-escaped legend HTML."""

    _template = jinja2.Template("""{% macro script(this, kwargs) %}
    (function () {
      var legend = L.control({position: "bottomright"});
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "stat-legend");
        div.innerHTML = {{ this.html_json }};
        return div;
      };
      legend.addTo({{ this._parent.get_name() }});
    })();
    {% endmacro %}""")

    def __init__(self, html_text: str):
        super().__init__()
        self.html_json = assets.json_for_script(html_text)


def legend_html(title: str, labels: list[str], colors: list[str]) -> str:
    """Legend rows (labels escaped here, so callers pass raw text)."""
    rows = "".join(f'<div><i style="background:{c}"></i>{html.escape(lab)}</div>'
                   for lab, c in zip(labels, colors))
    return f'<div class="stat-legend-title">{html.escape(title)}</div>{rows}'


class PacketMap:
    """A folium map with its static twin; displays offline in JupyterLab and in packets."""

    def __init__(self, fmap: folium.Map, static: StaticMap | alt.TopLevelMixin, title: str,
                 note: str = "", aside: str = ""):
        self.map, self.static, self.title, self.note = fmap, static, title, note
        self.aside = aside  # escaped HTML shown beside the map (the ranked district table)
        self.legend = ""  # the legend's HTML, printed under the static map (see _Legend)

    @cached_property
    def parts(self) -> dict:
        """``header`` (styles), ``html`` (the div) and ``script`` of the map, no library tags."""
        for el in _walk(self.map):
            if hasattr(el, "default_js"):
                el.default_js, el.default_css = [], []
        fig = self.map.get_root()
        for child in fig._children.values():
            child.render()
        return {"header": _clean_header(fig.header.render()), "html": fig.html.render(),
                "script": fig.script.render()}

    def svg(self) -> str:
        from . import charts
        if isinstance(self.static, StaticMap):  # validated as packet charts are (charts._Shown)
            return charts.spec_svg(self.static.to_dict(validate=charts.VALIDATE))
        return charts.chart_svg(self.static)

    def payload(self) -> dict:
        """What ``stat_lib.present.packets`` places in the page (``MAP_MIME``)."""
        caption = f'<figcaption><strong>{html.escape(self.title)}</strong>'
        if self.note:
            caption += f' <span class="stat-map-note">{html.escape(self.note)}</span>'
        caption += "</figcaption>"
        p = self.parts
        return {"title": self.title, "caption": caption, "css": LEGEND_CSS,
                "html": p["header"] + p["html"], "script": p["script"], "svg": self.svg(),
                "aside": self.aside, "legend": self.legend}

    def standalone_html(self) -> str:
        """A complete offline page of this map (Leaflet inlined)."""
        p = self.parts
        return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                + assets.style_tag(assets.leaflet_css()) + LEGEND_CSS
                + assets.script_tag(assets.leaflet_js()) + p["header"]
                + "</head><body style='margin:0'>" + p["html"]
                + assets.script_tag(p["script"]) + "</body></html>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        frame = (f'<figure class="stat-map"><figcaption><strong>{html.escape(self.title)}'
                 f'</strong></figcaption><iframe srcdoc="{html.escape(self.standalone_html())}" '
                 f'style="width:100%;height:500px;border:none"></iframe>{self.aside}</figure>')
        return {MAP_MIME: self.payload(), "text/html": frame,
                "text/plain": f"<map: {self.title}>"}


def _walk(el):
    yield el
    for child in getattr(el, "_children", {}).values():
        yield from _walk(child)


def _clean_header(text: str) -> str:
    """Drop folium's page-level rules (viewport, ``html, body`` size, ``#map``): a packet page
    holds several maps and its own layout."""
    import re
    text = re.sub(r"<meta name=\"viewport\"[^>]*>", "", text)
    return re.sub(r"<style>\s*(html, body|#map)\s*\{[^}]*\}\s*</style>", "", text)


# --- building blocks ------------------------------------------------------------------------

def _base_map(gdf, basemap: str | None, height: int) -> folium.Map:
    m = folium.Map(tiles=None, height=height, control_scale=True, prefer_canvas=False)
    m.options.update(maxZoom=18, zoomSnap=0.25)  # markercluster needs maxZoom without tiles
    if basemap:
        folium.TileLayer(tiles=basemap, attr="Basemap").add_to(m)
    minx, miny, maxx, maxy = gdf.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _features(gdf, props: list[str], simplify: float) -> dict:
    """A GeoJSON FeatureCollection with only ``props``, simplified, coordinates rounded."""
    feats = []
    # the row values as ``iterrows`` gives them (one dtype per row), without a Series per row
    for g, values in zip(_geojson_geometries(gdf.geometry, simplify), gdf[props].to_numpy()):
        if g is None:
            continue
        feats.append({"type": "Feature", "geometry": g,
                      "properties": {k: _jsonable(v) for k, v in zip(props, values)}})
    return {"type": "FeatureCollection", "features": feats}


_GEOMETRY_CACHE: dict = {}
_GEOMETRY_CACHE_SIZE = 16


def _geojson_geometries(geoms, simplify: float) -> list:
    """Simplified, rounded GeoJSON geometry of each shape (None when empty), computed once per
    kernel for each boundary layer: cached by content (WKB digest) and tolerance. The dicts are
    shared between maps; nothing downstream modifies a geometry."""
    import hashlib

    import shapely
    arr = np.asarray(geoms.values if hasattr(geoms, "values") else geoms, dtype=object)
    key = (float(simplify), len(arr),
           hashlib.blake2b(b"".join(w or b"" for w in shapely.to_wkb(arr))).hexdigest())
    if key not in _GEOMETRY_CACHE:
        simple = shapely.set_precision(
            shapely.simplify(arr, simplify, preserve_topology=True), 1e-5)
        _GEOMETRY_CACHE[key] = [None if g is None or g.is_empty else g.__geo_interface__
                                for g in simple]
        while len(_GEOMETRY_CACHE) > _GEOMETRY_CACHE_SIZE:
            _GEOMETRY_CACHE.pop(next(iter(_GEOMETRY_CACHE)))
    return _GEOMETRY_CACHE[key]


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    return v if isinstance(v, (int, str, bool)) or v is None else str(v)


def _polygons(fmap, fc: dict, legend: str, weight: float = 1) -> None:
    folium.GeoJson(
        fc, style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555",
                                      "weight": weight, "fillOpacity": 0.8},
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(fmap)
    fmap.add_child(_Legend(legend))


class StaticMap:
    """The vega-lite geoshape twin of a map (see :func:`_static`); ``to_dict()`` gives the spec.

    The polygons go into the spec as plain GeoJSON: built through altair they would be walked
    and validated object by object (about 0.1 s per 10,000 coordinates); the spec is the same.
    """

    def __init__(self, chart: alt.TopLevelMixin, features: list, extra: dict | None = None):
        self.chart, self.features, self.extra = chart, features, extra or {}

    def to_dict(self, validate: bool = True) -> dict:
        spec = self.chart.to_dict(validate=validate)
        spec["layer"][0]["data"] = {"values": _plain(self.features)}
        for i, features in self.extra.items():  # further polygon layers (an outline)
            spec["layer"][i]["data"] = {"values": _plain(features)}
        return spec


def _plain(value):
    """JSON-like copy with lists for tuples (what altair's ``to_dict`` makes of GeoJSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _static(fc: dict, title: str, labels: list[str], colors: list[str], points=None,
            line_weight: float = 0.5, outline: dict | None = None, numbers=None
            ) -> StaticMap:
    """Vega-lite geoshape of the classified polygons (and optional points), for SVG.

    ``outline``: polygons drawn unfilled over the shapes (the city's districts under a grid);
    ``numbers``: a frame of ``lon, lat, n`` printed as district labels. No legend in the SVG:
    the map's HTML legend prints under it (readable at any size)."""
    data = alt.Data(values=[])  # the features are set in the spec by StaticMap.to_dict
    shapes = alt.Chart(data).mark_geoshape(stroke="#555", strokeWidth=line_weight,
                                           aria=False).encode(
        color=alt.Color("properties.cls:N", title=title,
                        scale=alt.Scale(domain=labels, range=colors),
                        legend=None))
    layers, extra = [shapes], {}
    if outline is not None:
        extra[len(layers)] = outline["features"]
        layers.append(alt.Chart(alt.Data(values=[])).mark_geoshape(
            fill=None, filled=False, stroke="#444", strokeWidth=0.6, aria=False))
    if points is not None and len(points):
        enc = {"longitude": "lon:Q", "latitude": "lat:Q"}
        layers.append(alt.Chart(points).mark_circle(size=14, color="#b2182b", opacity=0.7,
                                                    aria=False).encode(**enc))
    if numbers is not None and len(numbers):
        text = alt.Chart(numbers).encode(longitude="lon:Q", latitude="lat:Q", text="n:N")
        layers += [text.mark_text(fontSize=8, fontWeight="bold", stroke="#fff",
                                  strokeWidth=2.5, aria=False),
                   text.mark_text(fontSize=8, fontWeight="bold", color="#111", aria=False)]
    chart = alt.layer(*layers).properties(width=440, height=420).project(type="mercator")
    return StaticMap(chart, fc["features"], extra)


def _tip(label: str, lines: list[tuple[str, str]]) -> str:
    rows = "".join(f"<br>{html.escape(k)}: {html.escape(v)}" for k, v in lines)
    return f"<strong>{html.escape(str(label))}</strong>{rows}"


# --- the maps -------------------------------------------------------------------------------

def choropleth(districts, values: pd.DataFrame, *, value: str, title: str, key: str = "key",
               label: str = "label", fmt: str = ".0%", value_title: str = "",
               count: str | None = None, higher_is_better: bool | None = True,
               basemap: str | None = None, classes: int = 5, simplify: float = 0.0003,
               height: int = 460, line_weight: float = 1, tips: list[str] | None = None,
               numbers: dict | None = None, outline=None, aside: str = ""
               ) -> PacketMap:
    """Districts coloured by ``value`` (on-time rate, volume...), with a legend.

    Parameters
    ----------
    districts : GeoDataFrame with ``key``, ``label`` and polygon geometry (WGS84), e.g.
        ``stat_lib.store.load_districts(params, layer)``.
    values : one row per district ``key`` with ``value`` (and optional ``count``). Districts
        with no row show as "no data"; value rows for keys not in ``districts`` (such as
        ``unassigned``) are counted in the map's note.
    higher_is_better : True red->green, False green->red, None a volume ramp (blues).
    tips : tooltip HTML per district row (already escaped); default: label, value, count.
    numbers : district key -> the number printed on it (the key of the table beside the map).
    outline : GeoDataFrame of polygons drawn unfilled over the map (the city's districts).
    aside : escaped HTML shown beside the map (see :func:`district_table`).

    Whole counts (``fmt`` without ``%``) get classes that never overlap (:func:`count_classes`).
    """
    _need(districts, [key, label, "geometry"], "choropleth districts")
    _need(values, [key, value] + ([count] if count else []), "choropleth values")
    cols = [key, value] + ([count] if count else [])
    gdf = districts[[key, label, "geometry"]].merge(values[cols], on=key, how="left")
    note = _unmapped_note(values, districts, key, count or (value if "%" not in fmt else None))
    ramp = VOLUME if higher_is_better is None else (
        PERFORMANCE if higher_is_better else PERFORMANCE[::-1])
    if "%" not in fmt and _is_counts(gdf[value]):
        idx, labels = count_classes(gdf[value], classes)
    else:
        edges = class_edges(gdf[value], classes)
        idx, labels = classify(gdf[value], edges), (class_labels(edges, fmt) if len(edges)
                                                    else [])
    colors = _palette(ramp, max(len(labels), 1))
    gdf["fill"] = [colors[i] if i >= 0 else NO_DATA for i in idx]
    gdf["cls"] = [labels[i] if i >= 0 else "no data" for i in idx]
    gdf["tip"] = tips if tips is not None else [
        _tip(lab, [(value_title or value, _fmt(v, fmt))]
             + ([("Requests", f"{c:,.0f}" if pd.notna(c) else "0")] if count else []))
        for lab, v, c in zip(gdf[label], gdf[value], gdf[count] if count else [None] * len(gdf))]
    if (idx < 0).any():
        labels, colors = labels + ["no data"], colors + [NO_DATA]
    return _assemble(gdf, key, title, note, value_title or value, labels, colors,
                     basemap=basemap, height=height, simplify=simplify, line_weight=line_weight,
                     numbers=numbers, outline=outline, aside=aside)


def _assemble(gdf, key: str, title: str, note: str, legend_title: str, labels, colors, *,
              basemap, height, simplify, line_weight, numbers, outline, aside,
              legend: str | None = None) -> PacketMap:
    """The folium map and its static twin of classified polygons (``fill``, ``cls``, ``tip``)."""
    fmap = _base_map(gdf, basemap, height)
    legend = legend or legend_html(legend_title, labels, colors)
    _polygons(fmap, _features(gdf, ["tip", "fill"], simplify), legend, line_weight)
    out_fc = None
    if outline is not None:
        out_fc = _features(outline.assign(tip=""), ["tip"], 0.0003)
        folium.GeoJson(out_fc, style_function=lambda f: {"fill": False, "color": "#444",
                                                         "weight": 1}).add_to(fmap)
    if outline is not None and not numbers:  # name the districts of the outline
        spots = _label_points(outline, "key", outline_labels(outline))
    else:
        spots = _label_points(gdf, key, numbers)
    _add_labels(fmap, spots)
    static = _static(_features(gdf, ["cls"], simplify), legend_title, labels, colors,
                     line_weight=min(line_weight, 0.5), outline=out_fc, numbers=spots)
    pmap = PacketMap(fmap, static, title, note, aside)
    pmap.legend = legend
    return pmap


def _label_points(gdf, key: str, numbers: dict | None) -> pd.DataFrame:
    """``lon, lat, n`` of each numbered district: a point inside its polygon."""
    if not numbers:
        return pd.DataFrame(columns=["lon", "lat", "n"])
    rows = []
    for k, geom in zip(gdf[key], gdf.geometry):
        if k in numbers and geom is not None and not geom.is_empty:
            p = geom.representative_point()
            rows.append({"lon": round(p.x, 5), "lat": round(p.y, 5), "n": str(numbers[k])})
    return pd.DataFrame(rows, columns=["lon", "lat", "n"])


def _add_labels(fmap, spots: pd.DataFrame) -> None:
    for r in spots.itertuples():
        folium.Marker([r.lat, r.lon], icon=folium.DivIcon(
            html=f'<div class="stat-district-no">{html.escape(r.n)}</div>', icon_size=(22, 14),
            icon_anchor=(11, 7), class_name="stat-district-label")).add_to(fmap)


def map_labels(districts, numbers: dict) -> dict:
    """What each district shows on a map: its own short name when every name is short (council
    districts "1".."15", all named), else its number in the table beside (``numbers``)."""
    return outline_labels(districts) or numbers


def outline_labels(districts, longest: int = 4) -> dict:
    """District key -> its label printed on an outline map, when every label is short (council
    districts "1".."15"); none when labels are names (a numbered key would need a table)."""
    labels = districts["label"].astype(str)
    return dict(zip(districts["key"], labels)) if labels.str.len().max() <= longest else {}


def _unmapped_note(values, districts, key: str, count: str | None) -> str:
    """A reader's note on requests the map cannot place (outside every mapped district)."""
    unknown = values.loc[~values[key].isin(districts[key])]
    if unknown.empty:
        return ""
    if count and count in unknown:
        n = pd.to_numeric(unknown[count], errors="coerce").fillna(0).sum()
        return f"{n:,.0f} request(s) outside the mapped districts are not drawn."
    return "Requests outside the mapped districts are not drawn."


def grid_cells(points: pd.DataFrame, cell_m: float = 1000.0, lat: str = "lat",
               lon: str = "lon"):
    """Count points per square grid cell of about ``cell_m`` metres (aggregated in Python).

    Returns a GeoDataFrame (``key``, ``label``, ``count``, geometry); ``attrs["missing"]``
    counts the points without coordinates, which are not placed.
    """
    import geopandas as gpd
    from shapely.geometry import box
    _need(points, [lat, lon], "grid_cells")
    xy = points[[lat, lon]].apply(pd.to_numeric, errors="coerce")
    ok = xy.notna().all(axis=1)
    xy = xy[ok]
    lat0 = float(xy[lat].mean()) if len(xy) else 0.0
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * max(math.cos(math.radians(lat0)), 0.01))
    cells = pd.DataFrame({"i": np.floor(xy[lat] / dlat).astype(int),
                          "j": np.floor(xy[lon] / dlon).astype(int)})
    counts = cells.value_counts().rename("count").reset_index()
    geoms = [box(j * dlon, i * dlat, (j + 1) * dlon, (i + 1) * dlat)
             for i, j in zip(counts["i"], counts["j"])]
    out = gpd.GeoDataFrame({"key": [f"{i}:{j}" for i, j in zip(counts["i"], counts["j"])],
                            "label": "Grid cell", "count": counts["count"].astype(int)},
                           geometry=geoms, crs="EPSG:4326")
    out.attrs["missing"] = int((~ok).sum())
    return out


def density_map(points: pd.DataFrame, *, title: str = "Where requests came from",
                cell_m: float = 1000.0, basemap: str | None = None, height: int = 460,
                outline=None) -> PacketMap:
    """Requests per grid cell of about ``cell_m`` metres (no marker per request), with the
    ``outline`` polygons (the city's districts) drawn over the grid."""
    cells = grid_cells(points, cell_m)
    if cells.empty:
        raise StatLibError(f"density_map has no requests with coordinates to place "
                           f"({cells.attrs['missing']} without); expected columns lat/lon with "
                           f"WGS84 values")
    pmap = choropleth(cells, cells[["key", "count"]], value="count", title=title,
                      fmt=",.0f", value_title="Requests per cell", higher_is_better=None,
                      basemap=basemap, simplify=0, height=height, line_weight=0,
                      tips=[f"{c:,} requests" for c in cells["count"]], outline=outline)
    if cells.attrs["missing"]:
        pmap.note = f"{cells.attrs['missing']:,} request(s) without coordinates are not shown."
    return pmap


_CLUSTER_CALLBACK = """function (row) {
  var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
      {radius: 6, color: "#7f0000", weight: 1, fillColor: "#d7301f", fillOpacity: 0.85});
  marker.bindPopup(row[2]);
  return marker;
}"""


def overdue_map(requests: pd.DataFrame, *, districts=None, title: str = "Overdue open requests",
                max_points: int = 1500, basemap: str | None = None, height: int = 460
                ) -> PacketMap:
    """Overdue open requests, clustered (Leaflet.markercluster), with escaped popups.

    ``requests`` needs ``lat``, ``lon``, ``request_id``, ``service_name``, ``address``,
    ``days_overdue``; the most overdue ``max_points`` are drawn and the rest counted in the note.
    """
    cols = ["lat", "lon", "request_id", "service_name", "address", "days_overdue"]
    _need(requests, cols, "overdue_map")
    df = requests[cols].copy()
    df[["lat", "lon"]] = df[["lat", "lon"]].apply(pd.to_numeric, errors="coerce")
    located = df.dropna(subset=["lat", "lon"]).sort_values("days_overdue", ascending=False)
    shown = located.head(max_points)
    notes = []
    if len(df) - len(located):
        notes.append(f"{len(df) - len(located):,} without coordinates")
    if len(located) > len(shown):
        notes.append(f"{len(located) - len(shown):,} less overdue not drawn")
    note = f"{len(shown):,} of {len(df):,} shown" + (f" ({'; '.join(notes)})." if notes else ".")
    frame = districts if districts is not None else _bbox(shown)
    fmap = _base_map(frame, basemap, height)
    fc = {"type": "FeatureCollection", "features": []}
    if districts is not None:
        outl = districts.assign(tip=[_tip(x, []) for x in districts["label"]], fill="#ffffff",
                                cls="district")
        fc = _features(outl, ["tip", "fill", "cls"], 0.0003)
        folium.GeoJson(fc, style_function=lambda f: {"fillColor": "#ffffff", "color": "#777",
                                                     "weight": 1, "fillOpacity": 0.3},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(fmap)
    rows = [[round(r.lat, 5), round(r.lon, 5), _popup(r)] for r in shown.itertuples()]
    FastMarkerCluster(rows, callback=_CLUSTER_CALLBACK).add_to(fmap)
    legend = legend_html("Overdue open requests", ["one request (clustered on screen)"],
                         ["#d7301f"])
    fmap.add_child(_Legend(legend))
    spots = _label_points(districts, "key", outline_labels(districts)) \
        if districts is not None else None
    if spots is not None:
        _add_labels(fmap, spots)
    static = _static(fc, "", ["district"] if districts is not None else [], ["#f4f4f4"],
                     shown[["lat", "lon"]], numbers=spots)
    pmap = PacketMap(fmap, static, title, note)
    pmap.legend = legend
    return pmap


def _popup(r) -> str:
    days = f"{float(r.days_overdue):,.1f}" if pd.notna(r.days_overdue) else "?"
    return _tip(r.service_name, [("Request", str(r.request_id)), ("Address", str(r.address)),
                                 ("Days overdue", days)])


def _bbox(points: pd.DataFrame):
    import geopandas as gpd
    from shapely.geometry import box
    if points.empty:
        raise StatLibError("overdue_map has nothing to frame: no districts were given and no "
                           "request has coordinates; pass districts=load_districts(...)")
    b = box(points["lon"].min(), points["lat"].min(), points["lon"].max(), points["lat"].max())
    return gpd.GeoDataFrame(geometry=[b.buffer(0.01)], crs="EPSG:4326")


def _need(df, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise StatLibError(f"{what} needs columns {', '.join(map(repr, columns))}; missing "
                           f"{', '.join(map(repr, missing))} (found "
                           f"{', '.join(map(str, df.columns))})")


# --- maps against a target, numbered districts, the ranked table beside ---------------------

def target_map(districts, values: pd.DataFrame, *, target, title: str, value: str = "value",
               count: str = "count", key: str = "key", label: str = "label", fmt: str = ".0%",
               value_title: str = "On time", count_title: str = "Requests judged",
               min_count: int | None = None, basemap: str | None = None,
               simplify: float = 0.0003, height: int = 460, table_rows: int = 12
               ) -> PacketMap:
    """Districts coloured against ``target`` (met / near / missed, the scorecard's rule), too
    few to judge (under ``min_count`` requests) and no requests marked as such, each district
    numbered by its rank, and the ranked table beside the map (worst first, the count behind
    each rate). The districts of the table (the first ``table_rows``) carry their number on
    the map. ``target`` is a ``params.models.Target``."""
    from . import district_classes as dc
    _need(districts, [key, label, "geometry"], "target_map districts")
    _need(values, [key, value, count], "target_map values")
    min_count = dc.MIN_COUNT if min_count is None else min_count
    gdf = districts[[key, label, "geometry"]].merge(values[[key, value, count]], on=key,
                                                    how="left")
    gdf["cls"] = dc.judge(gdf[value], gdf[count], target, min_count)
    ranked = dc.rank(gdf.drop(columns="geometry"), "cls", value, target.direction)
    numbers = dict(zip(ranked[key], ranked["rank"]))
    gdf["fill"] = [dc.CLASSES[c][0] for c in gdf["cls"]]
    gdf["tip"] = [_tip(f"{numbers[k]}. {lab}", [
        (value_title, _fmt(v, fmt) if c not in ("too_few", "none") else "not judged"),
        (count_title, f"{n:,.0f}" if pd.notna(n) else "0"), ("Status", dc.word(c))])
        for k, lab, v, n, c in zip(gdf[key], gdf[label], gdf[value], gdf[count], gdf["cls"])]
    rows = dc.legend_rows(target, fmt, min_count, set(gdf["cls"]))
    legend_title = f"{value_title} against the {format(target.target, fmt)} target"
    texts, colors = [r[0] for r in rows], [r[1] for r in rows]
    aside = district_table(ranked, value=value, count=count, label=label, fmt=fmt,
                           value_title=value_title, count_title=count_title,
                           max_rows=table_rows)
    note = _unmapped_note(values, districts, key, count)
    shown = map_labels(districts, {k: n for k, n in numbers.items() if n <= table_rows})
    pmap = _assemble(gdf.assign(cls=[dc.word(c) for c in gdf["cls"]]), key, title, note,
                     legend_title, [dc.word(c) for c in dc.ORDER if c in set(gdf["cls"])],
                     [dc.CLASSES[c][0] for c in dc.ORDER if c in set(gdf["cls"])],
                     basemap=basemap, height=height, simplify=simplify, line_weight=1,
                     numbers=shown, outline=None, aside=aside,
                     legend=legend_html(legend_title, texts, colors))
    pmap.numbers = numbers  # district key -> its number (rank), for maps numbered alike
    return pmap


def district_table(ranked: pd.DataFrame, *, value: str, count: str, label: str = "label",
                   fmt: str = ".0%", value_title: str = "On time",
                   count_title: str = "Requests judged", max_rows: int = 12) -> str:
    """The ranked districts as an escaped HTML table (``rank``, name, value, count, status);
    rows past ``max_rows`` are summed up in one line by status (they carry no number on the
    map: a numbered key of 99 districts would be unreadable)."""
    from . import district_classes as dc
    from .html import table
    shown = ranked.head(max_rows).assign(
        value_text=[_fmt(v, fmt) if c not in ("too_few", "none") else "—"
                    for v, c in zip(ranked[value], ranked["cls"])][:max_rows],
        count_text=[f"{n:,.0f}" if pd.notna(n) else "0" for n in ranked[count]][:max_rows],
        status=[dc.word(c) for c in ranked["cls"]][:max_rows])
    out = table(shown, {"rank": "#", label: "District", "value_text": value_title,
                        "count_text": count_title, "status": "Status"},
                caption="Districts, worst first")
    rest = ranked.iloc[max_rows:]
    if len(rest):
        counts = rest["cls"].value_counts()
        parts = ", ".join(f"{counts[c]:,} {dc.CLASSES[c][2].lower()}" for c in dc.ORDER
                          if c in counts)
        out += (f'<p class="stat-map-note">Not listed, ranks {max_rows + 1}–{len(ranked)}: '
                f'{html.escape(parts)}.</p>')
    return f'<div class="stat-district-table">{out}</div>'
