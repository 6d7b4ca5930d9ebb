"""A department's maps of one boundary layer: on time against the target, requests received.

Both maps number the districts alike (1 = the worst on time, :mod:`district_classes`), so the
ranked table beside the first map is the key to both. Without an on-time target the rate map
falls back to value classes (and says there is no target to judge against); when no district
has enough requests to be judged, one sentence says so instead of a map of grey.
"""

from __future__ import annotations

import pandas as pd

from .html import esc, table
from ..metrics.registry import metric_def
from . import district_classes as dc
from .html import HTML
from .maps import choropleth, map_labels, outline_labels, target_map

ON_TIME = metric_def("on_time_rate").label  # "Closed on time": one name per measure


def district_maps(districts, values: pd.DataFrame, layer_name: str, target,
                  basemap: str | None = None) -> list:
    """``[on-time map, requests map]`` of one layer; ``values`` is
    :func:`stat_lib.metrics.by_district` (``key, created, count, on_time_rate, ...``)."""
    name = layer_name.lower()
    rates = values.assign(value=values["on_time_rate"].astype(float))
    if target is not None and not _any_judged(districts, rates, target):
        rate_map, numbers = HTML(f'<p class="stat-lede">{esc(ON_TIME)} by {esc(name)}: no '
                                 f'{esc(name)} had {dc.MIN_COUNT:,} or more requests behind '
                                 f'its rate this period, too few to judge any of them on a '
                                 f'map.</p>'), None
    elif target is not None:
        rate_map = target_map(districts, rates, target=target, basemap=basemap,
                              title=f"{ON_TIME} by {name}, against the target",
                              value_title=ON_TIME,
                              count_title=metric_def("on_time_eligible").label)
        numbers = rate_map.numbers
    else:
        rate_map = choropleth(districts, rates, value="value", count="count",
                              title=f"{ON_TIME} by {name} (no target set)",
                              value_title=ON_TIME, basemap=basemap)
        numbers = None
    counts = districts[["key"]].merge(values[["key", "created"]], on="key", how="left")
    counts["created"] = counts["created"].fillna(0).astype(int)
    top = volume_rows(districts, counts)
    by_volume = numbers is None  # no on-time ranks: number the districts by requests
    if by_volume:
        order = volume_rows(districts, counts, len(districts))
        numbers = dict(zip(order["key"], range(1, len(order) + 1)))
    labelled = map_labels(districts, {k: numbers[k] for k in top["key"]})
    volume = choropleth(districts, counts.rename(columns={"created": "value"}), value="value",
                        title=f"{metric_def('created').label} by {name}", fmt=",.0f",
                        value_title=metric_def("created").label, higher_is_better=None,
                        basemap=basemap, numbers=labelled,
                        aside=volume_table(top, len(districts), numbers, by_volume))
    return [rate_map, volume]


def _any_judged(districts, rates: pd.DataFrame, target) -> bool:
    """Whether any mapped district has enough requests behind its rate to be judged."""
    rows = districts[["key"]].merge(rates[["key", "value", "count"]], on="key", how="left")
    return any(c not in ("too_few", "none")
               for c in dc.judge(rows["value"], rows["count"], target))


def volume_rows(districts, counts: pd.DataFrame, max_rows: int = 8) -> pd.DataFrame:
    """The ``max_rows`` districts with the most requests, most first (ties by name)."""
    rows = districts[["key", "label"]].merge(counts, on="key", how="left")
    return rows.sort_values(["created", "label"], ascending=[False, True]).head(max_rows)


def volume_table(rows: pd.DataFrame, n_districts: int, numbers: dict | None,
                 by_volume: bool = False) -> str:
    """The districts with the most requests with their numbers on the maps (``by_volume``:
    numbered by requests, 1 = the most, when there is no on-time ranking)."""
    rows = rows.assign(no=[numbers.get(k, "") if numbers else "" for k in rows["key"]],
                       n=[f"{v:,}" for v in rows["created"]])
    cols = ({"no": "#"} if numbers else {}) | {"label": "District", "n": "Requests"}
    out = table(rows, cols, caption=f"Most requests ({len(rows)} of {n_districts:,} "
                                    f"districts)")
    names = bool(outline_labels(rows))
    note = ("Districts are named on the map." if names else
            "# is the district's number on the map (1 = the most requests)." if by_volume
            else "# is the district's number on both maps (1 = the worst on time).")
    return f'<div class="stat-district-table">{out}</div>' + (
        f'<p class="stat-map-note">{esc(note)}</p>' if numbers else "")
