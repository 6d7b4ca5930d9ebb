"""Boundary layers: read GeoJSON, Shapefile or GeoPackage in any CRS, and place points in them.

Each layer becomes a GeoDataFrame of ``key, label, geometry`` in WGS84. A layer is checked as
it is read: no features, or coordinates that are not longitude/latitude with no CRS declared,
are errors; features sharing a key and label (a district in several parts) are merged, the same
key with different labels is an error; invalid polygons (self-intersections) are repaired with
a warning. Points are placed per
layer by prepared polygons tested on numpy coordinate arrays; a point on a shared edge belongs to
the polygon with the smallest key (sorted as text), so the answer never depends on file order.
"""

from __future__ import annotations

import logging

import numpy as np

from ..core.errors import SourceError

log = logging.getLogger(__name__)


def read_layer(boundary, params):
    """Read one ``Boundary`` from city.yaml as a GeoDataFrame (key, label, geometry), EPSG:4326.

    Raises
    ------
    SourceError
        The file is missing or unreadable, or lacks the key/label columns.
    """
    import geopandas as gpd
    path = params.path(boundary.path)
    if not path.exists():
        raise SourceError(f"boundary file not found for layer {boundary.layer!r}; fix "
                          f"'boundaries[].path' in city.yaml", path=path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SourceError(f"cannot read boundary layer {boundary.layer!r} ({exc}); expected "
                          f"GeoJSON, Shapefile or GeoPackage", path=path) from None
    if len(gdf) == 0:
        raise SourceError(f"layer {boundary.layer!r} has no features (the file holds no "
                          f"polygons); check that 'boundaries[].path' in city.yaml names the "
                          f"right file, or export the layer again", path=path)
    for what, col in (("key", boundary.key), ("label", boundary.label)):
        if col not in gdf.columns:
            found = ", ".join(c for c in gdf.columns if c != "geometry")
            raise SourceError(f"layer {boundary.layer!r} has no {what} column {col!r}; found: "
                              f"{found}. Fix 'boundaries[].{what}' in city.yaml", path=path)
    gdf = _with_crs(gdf, boundary, path)
    out = gdf[[boundary.key, boundary.label, "geometry"]].to_crs("EPSG:4326")
    out.columns = ["key", "label", "geometry"]
    out["key"] = out["key"].map(_key_text)
    out["label"] = out["label"].astype(str)
    out = _repaired(_one_row_per_key(out, boundary, path), boundary)
    return out.sort_values("key", kind="stable").reset_index(drop=True)


def _with_crs(gdf, boundary, path):
    """The file's CRS, else city.yaml's ``crs:``, else WGS84 when the numbers are lon/lat.

    GeoJSON readers assume WGS84 when a file says nothing, so a "geographic" layer whose
    numbers are not longitude/latitude is treated as declaring no CRS.
    """
    xmin, ymin, xmax, ymax = gdf.total_bounds
    lonlat = -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90
    if gdf.crs is not None and (lonlat or not gdf.crs.is_geographic):
        return gdf
    if boundary.crs:
        return gdf.set_crs(boundary.crs, allow_override=True)
    if lonlat:
        return gdf.set_crs("EPSG:4326")
    raise SourceError(
        f"layer {boundary.layer!r} declares no CRS and its coordinates (x {xmin:,.0f} to "
        f"{xmax:,.0f}, y {ymin:,.0f} to {ymax:,.0f}) are not longitude/latitude; say which CRS "
        f"they are in with 'boundaries[].crs' in city.yaml (e.g. crs: EPSG:2229), or "
        f"reproject the file to EPSG:4326", path=path)


def _one_row_per_key(layer, boundary, path):
    """Features sharing key and label are one district in parts (merged); a key shared by
    different labels is an error."""
    dup = layer["key"].duplicated(keep=False)
    if not dup.any():
        return layer
    labels = layer[dup].groupby("key")["label"].nunique()
    clash = labels[labels > 1]
    if len(clash):
        keys = ", ".join(repr(k) for k in clash.index[:10])
        raise SourceError(
            f"layer {boundary.layer!r}: {len(clash)} key(s) name more than one district "
            f"({keys}); each district needs its own key: fix the file or choose another "
            f"'boundaries[].key' column", path=path)
    parts = int(dup.sum())
    log.warning("layer %r: %d features share %d key(s) and are merged into one district each",
                boundary.layer, parts, layer.loc[dup, "key"].nunique())
    return layer.dissolve(by="key", as_index=False, aggfunc="first")[
        ["key", "label", "geometry"]]


def _repaired(layer, boundary):
    """Invalid polygons (self-intersections, bow ties) repaired with shapely.make_valid."""
    import shapely
    bad = ~layer.geometry.is_valid
    if bad.any():
        keys = ", ".join(repr(k) for k in layer.loc[bad, "key"][:10])
        log.warning("layer %r: %d invalid polygon(s) repaired (keys %s); check the file if "
                    "districts look wrong on the maps", boundary.layer, int(bad.sum()), keys)
        layer = layer.copy()
        layer.loc[bad, "geometry"] = shapely.make_valid(layer.loc[bad, "geometry"].values)
    return layer


def _key_text(value) -> str:
    """Keys are text; ``10.0`` from a numeric column becomes ``'10'``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_layers(params) -> dict:
    """Every layer in city.yaml: ``{layer: GeoDataFrame}``."""
    return {b.layer: read_layer(b, params) for b in params.city.boundaries}


def place(layer, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The key of the polygon holding each point (object array; None when outside all)."""
    keys = np.full(len(lon), None, dtype=object)
    idx = place_index(layer, lon, lat)
    keys[idx >= 0] = layer["key"].to_numpy()[idx[idx >= 0]]
    return keys


def private_copy(layers: dict) -> dict:
    """``layers`` with shapes of their own (the same coordinates, new GEOS objects), for one
    thread: GEOS builds a prepared shape's index on first use, so two threads must never
    place points in the very same shape at once (that corrupts the heap)."""
    import shapely
    out = {}
    for name, layer in layers.items():
        shapes = np.asarray(layer.geometry.values, dtype=object)
        out[name] = layer.set_geometry(shapely.from_wkb(shapely.to_wkb(shapes)), crs=layer.crs)
    return out


def place_index(layer, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The row of ``layer`` holding each point (int array; -1 when outside all).

    Points are sorted by longitude once; each polygon, prepared, tests only the points inside
    its bounding box (a binary search on longitude, then a latitude mask) that no earlier
    polygon holds. The layer is sorted by key, so a point on a shared edge, which two polygons
    hold, goes to the smallest key.
    """
    import shapely
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), -1, dtype=np.int64)
    if len(lon) == 0 or len(layer) == 0:
        return out
    order = np.argsort(lon, kind="stable")
    xs, ys = lon[order], lat[order]
    found = np.full(len(xs), -1, dtype=np.int64)
    for i, poly in enumerate(layer.geometry.values):
        if poly is None or poly.is_empty:
            continue
        xmin, ymin, xmax, ymax = poly.bounds
        lo, hi = np.searchsorted(xs, xmin, "left"), np.searchsorted(xs, xmax, "right")
        cand = lo + np.flatnonzero((found[lo:hi] < 0) & (ys[lo:hi] >= ymin)
                                   & (ys[lo:hi] <= ymax))
        if len(cand):
            shapely.prepare(poly)
            found[cand[shapely.intersects_xy(poly, xs[cand], ys[cand])]] = i
    out[order] = found
    return out
