"""The public edition's location tables: requests received per department x district, with
small counts withheld (:mod:`stat_lib.metrics.suppression`).

One table per period and boundary layer, for every department at once, so each department's
packet, the citywide packet and the open data publish the same withheld cells: the
department rows total to each department's "Requests created" (published on its scorecard)
and the city row is the citywide map. Requests without a district of the layer form the
column ``(no district)``, so every row adds up to its department's figure.
"""

from __future__ import annotations

import pandas as pd

from .period_figures import NO_DISTRICT, PeriodFigures, period_figures
from .suppression import TOTAL, Suppressed, suppress


def created_by_district(figures: PeriodFigures, layer: str, keys: list[str]) -> pd.DataFrame:
    """Requests created in the period: department slugs x district ``keys`` (every key a
    column, zeros kept), then values not among them (``unassigned``), ``(no district)`` last:
    each row adds up to the department's "Requests created"."""
    rows = {slug: f.created[layer] for slug, f in figures.departments.items()}
    table = pd.DataFrame(rows).T
    others = sorted(str(c) for c in table.columns if c not in set(keys) and c != NO_DISTRICT)
    table = table.reindex(columns=list(keys) + others + [NO_DISTRICT]).fillna(0)
    return table.reindex(list(rows)).fillna(0).astype(int)


def district_table(params, figures: PeriodFigures, layer: str, keys: list[str]) -> Suppressed:
    """The suppressed table of one layer (withheld: counts of 1 to ``public.withhold_up_to``
    and their complements)."""
    cells = created_by_district(figures, layer, keys)
    return suppress(cells, params.city.public.withhold_up_to, table=f"requests_by_{layer}",
                    period=figures.period)


def public_layers(params) -> list:
    """The boundary layers published (city.yaml ``public.layers``, default all)."""
    chosen = params.city.public.layers
    return [b for b in params.city.boundaries if chosen is None or b.layer in chosen]


def map_values(s: Suppressed, row: str = TOTAL) -> pd.DataFrame:
    """One row of the table as choropleth values: ``key``, ``value`` (NaN when withheld),
    ``shown`` (the text: a count, or "withheld")."""
    pub = s.published().loc[row].drop(TOTAL)
    return pd.DataFrame({"key": pub.index, "value": pub.astype("Float64").astype(float).values,
                         "shown": ["withheld" if pd.isna(v) else f"{int(v):,}" for v in pub]})



def district_tables(params, period, figures: PeriodFigures | None = None,
                    ) -> dict[str, Suppressed]:
    """Every published layer's suppressed table for ``period``, by layer name (from each
    department's figures of the period: :mod:`stat_lib.metrics.period_figures`)."""
    from ..store import load_districts
    figures = figures if figures is not None else period_figures(params, period)
    return {b.layer: district_table(params, figures, b.layer,
                                    list(load_districts(params, b.layer)["key"]))
            for b in public_layers(params)}
