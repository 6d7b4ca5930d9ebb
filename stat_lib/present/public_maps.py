"""The public edition's maps and tables: requests received per district, small counts withheld.

Values come from :func:`stat_lib.metrics.public_tables.district_tables` (one table per layer
for every department, so every packet withholds the same cells); a withheld district is
drawn grey and its tooltip says "withheld".
"""

from __future__ import annotations

from ..metrics.public_tables import NO_DISTRICT, district_tables, map_values
from ..metrics.suppression import TOTAL
from ..store import load_districts
from .html import HTML, esc


def district_maps(params, period, *, row: str = TOTAL, name: str = "",
                  figures=None) -> list:
    """One choropleth of requests received per published layer for ``row`` (a department
    slug, or the city total), with a line on what is withheld (``figures``: the period's
    :class:`stat_lib.metrics.period_figures.PeriodFigures`, read when not given)."""
    from .maps import _tip, choropleth
    tables = district_tables(params, period, figures)
    n = params.city.public.withhold_up_to
    out = []
    for b in params.city.boundaries:
        if b.layer not in tables:
            continue
        values = map_values(tables[b.layer], row)
        districts = load_districts(params, b.layer)
        shown = dict(zip(values["key"], values["shown"]))
        tips = [_tip(lab, [("Requests received", shown.get(k, "0"))])
                for k, lab in zip(districts["key"], districts["label"])]
        out.append(choropleth(districts, values[values["key"] != NO_DISTRICT], value="value",
                              title=f"Requests received by {b.name.lower()}, {name}",
                              fmt=",.0f", value_title="Requests", higher_is_better=None,
                              basemap=params.city.basemap, tips=tips))
        on_map = values[values["key"].isin(districts["key"])]
        withheld = int((on_map["shown"] == "withheld").sum())
        out.append(HTML(f'<p class="stat-suppression">{withheld} of {len(on_map)} '
                        f'{esc(b.name.lower())} counts withheld (grey, "no data" in the '
                        f'legend): counts of 1 to {n}, and cells that would let them be '
                        f'worked out from the totals. '
                        f'{esc(shown.get(NO_DISTRICT, "0"))} requests had no '
                        f'{esc(b.name.lower())}.</p>'))
    return out
