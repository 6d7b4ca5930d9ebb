"""Boundary layers: read GeoJSON, Shapefile or GeoPackage in any CRS, and place points in them.

Each layer becomes a GeoDataFrame of ``key, label, geometry`` in WGS84. Points are placed by one
vectorised spatial query per layer; a point on a shared edge belongs to the polygon with the
smallest key (sorted as text), so the answer never depends on file order.
"""

from __future__ import annotations

import numpy as np

from .errors import SourceError


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
    for what, col in (("key", boundary.key), ("label", boundary.label)):
        if col not in gdf.columns:
            found = ", ".join(c for c in gdf.columns if c != "geometry")
            raise SourceError(f"layer {boundary.layer!r} has no {what} column {col!r}; found: "
                              f"{found}. Fix 'boundaries[].{what}' in city.yaml", path=path)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    out = gdf[[boundary.key, boundary.label, "geometry"]].to_crs("EPSG:4326")
    out.columns = ["key", "label", "geometry"]
    out["key"] = out["key"].map(_key_text)
    out["label"] = out["label"].astype(str)
    return out.sort_values("key", kind="stable").reset_index(drop=True)


def _key_text(value) -> str:
    """Keys are text; ``10.0`` from a numeric column becomes ``'10'``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_layers(params) -> dict:
    """Every layer in city.yaml: ``{layer: GeoDataFrame}``."""
    return {b.layer: read_layer(b, params) for b in params.city.boundaries}


def place(layer, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The key of the polygon holding each point (object array; None when outside all).

    Bounding boxes narrow the candidates (STRtree); each polygon, prepared once, then tests its
    candidates. Points exactly on a shared edge touch two polygons; the smallest key wins
    because the layer is sorted by key and the first hit per point is kept.
    """
    import shapely
    keys = np.full(len(lon), None, dtype=object)
    if len(lon) == 0 or len(layer) == 0:
        return keys
    geoms = layer.geometry.values
    tree = shapely.STRtree(geoms)
    point_idx, poly_idx = tree.query(shapely.points(lon, lat))
    if len(point_idx) == 0:
        return keys
    order = np.lexsort((point_idx, poly_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    hit = np.zeros(len(point_idx), dtype=bool)
    starts = np.flatnonzero(np.r_[True, poly_idx[1:] != poly_idx[:-1]])
    for lo, hi in zip(starts, np.r_[starts[1:], len(poly_idx)]):
        poly = geoms[poly_idx[lo]]
        shapely.prepare(poly)
        pts = point_idx[lo:hi]
        hit[lo:hi] = shapely.intersects_xy(poly, lon[pts], lat[pts])
    point_idx, poly_idx = point_idx[hit], poly_idx[hit]
    order = np.lexsort((poly_idx, point_idx))  # per point, lowest polygon (= smallest key) first
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    keys[point_idx[first]] = layer["key"].to_numpy()[poly_idx[first]]
    return keys
