"""Coordinates that land outside every boundary layer: most often a wrong or missing CRS.

After placement (``requests._geo``), the rows of each source that carry coordinates (not
0/0) are counted, and those left outside every layer (or out of range once read): when more
than the source's ``max_outside_boundaries`` share are, ingest refuses the source
(``SourceError``, the store unchanged) and validate says so on its sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import SourceError
from . import profiles


@dataclass(frozen=True)
class Outside:
    """One source's located rows and how many of them fall outside every layer."""

    source_index: int
    located: int
    outside: int
    xy: bool  # the coordinates came from x/y columns (projected), not lat/lon

    @property
    def share(self) -> float:
        return self.outside / self.located if self.located else 0.0


def counts(con) -> list[Outside]:
    """Per source: located loadable rows, those outside every layer, and x/y or lat/lon."""
    rows = con.execute("""
        SELECT r.source_index, count(*), count(*) FILTER (WHERE g.lat IS NULL),
               bool_or(r.lat_in IS NULL OR r.lon_in IS NULL)
        FROM classified r JOIN geo g ON g.crs = r.crs
          AND g.lat_in IS NOT DISTINCT FROM r.lat_in AND g.lon_in IS NOT DISTINCT FROM r.lon_in
          AND g.x_in IS NOT DISTINCT FROM r.x_in AND g.y_in IS NOT DISTINCT FROM r.y_in
        WHERE r.reason IS NULL
          AND NOT (coalesce(r.lat_in, r.x_in) = 0 AND coalesce(r.lon_in, r.y_in) = 0)
        GROUP BY 1 ORDER BY 1""").fetchall()
    return [Outside(i, n, out, bool(xy)) for i, n, out, xy in rows]


def message(name: str, source, o: Outside, layers, sample: str = "") -> str:
    """What a city reads: how many fell outside, the CRS the source is read with, the fix."""
    crs = profiles.resolve(source).xy_crs
    read = (f"x/y read as {crs}" if o.xy else
            "lat/lon read as WGS84 degrees (EPSG:4326)")
    return (f"source {name!r}: {o.outside:,} of {o.located:,} rows with coordinates{sample} "
            f"({o.share:.0%}) fall outside every district ({', '.join(layers)}): is the CRS "
            f"right? Its coordinates are {read}. Fix: give the export's CRS with 'columns: "
            f"{{coordinates: {{kind: xy, x: <column>, y: <column>, crs: \"EPSG:<code>\"}}}}' "
            f"on the source (state-plane feet, e.g. EPSG:2229), or raise its "
            f"max_outside_boundaries (now {source.max_outside_boundaries:.0%})")


def refuse_wrong_crs(con, params, layers) -> None:
    """Raise ``SourceError`` for the first source whose outside share is over its limit."""
    from .readers import source_name
    if not layers:
        return
    for o in counts(con):
        source = params.city.sources[o.source_index]
        if o.share > source.max_outside_boundaries:
            raise SourceError(message(source_name(source), source, o, list(layers))
                              + "; the store is unchanged", path=source.path)
