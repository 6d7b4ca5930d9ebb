"""Charts and maps of a slice with the packet's look (:mod:`stat_lib.present.charts`,
:mod:`stat_lib.present.maps`); imported on first use, so loading data stays light."""

from __future__ import annotations

import pandas as pd

from ..core.errors import UsageError
from ..metrics import scoring
from ..metrics.registry import metric_def
from ..present import charts
from ..present import maps
from ..present.html import use_branding

FORMATS = {"rate": ".0%", "days": ",.1f", "business_days": ",.1f", "dollars": "$,.0f"}


def _fmt(unit: str) -> str:
    return FORMATS.get(unit, ",.0f")


def _title(home, metric: str, department: str, slice_: dict, suffix: str = "") -> str:
    what = home._slice(slice_).describe()
    name = home.params.department(department).name
    return f"{metric_def(metric).label}{suffix}: {name}" + ("" if what == "all requests"
                                                           else f" ({what})")


def chart(home, metric: str, department: str, period, by: str, slice_: dict):
    """:meth:`stat_lib.explore.Home.chart`."""
    use_branding(home.params)
    d = metric_def(metric)
    target = scoring.target_for(home.params.department(department), metric)
    target = target.target if target else None
    if by == "trend":
        w = home.window(department, period, **slice_)
        rows = [{"period": p.label, "value": w.other(p).value(metric)}
                for p in home.period(period).trailing(13)]
        data = pd.DataFrame(rows).astype({"value": float})
        return charts.trend_chart(data, target=target, fmt=_fmt(d.unit),
                                  title=_title(home, metric, department, slice_))
    table = home.metric(metric, department, period, by=by, **slice_)
    table = table.assign(value=table["value"].astype(float))
    return charts.bars(table, title=_title(home, metric, department, slice_, f" by {by}"),
                       value_title=d.label, fmt=_fmt(d.unit), target=target,
                       largest_first=by != "week")


def map_of(home, department: str, period, what: str, slice_: dict):
    """:meth:`stat_lib.explore.Home.map`."""
    from ..store import load_districts
    use_branding(home.params)
    basemap = home.params.city.basemap
    layer = slice_.get("layer") or (home.layers[0] if home.layers else None)
    districts = load_districts(home.params, layer) if layer else None
    if what == "overdue_open":
        over = home.behind("overdue_open", department, period, **slice_)
        if over.empty:
            raise UsageError(f"no request is open and overdue at the end of {period} in "
                             f"{home._slice(slice_).describe()}; nothing to map")
        return maps.overdue_map(over, districts=districts, basemap=basemap,
                                title=_title(home, "overdue_open", department, slice_))
    if what == "created":
        created = home.behind("created", department, period, **slice_)
        return maps.density_map(created, basemap=basemap,
                                title=_title(home, "created", department, slice_))
    if districts is None:
        raise UsageError("a choropleth needs a boundary layer (city.yaml boundaries:)")
    d = metric_def(what)
    values = home.metric(what, department, period, by="district", **slice_)
    values = values.rename(columns={"group": "key"}).assign(
        value=values["value"].astype(float))
    count = "denominator" if d.numerator else None
    dept = home.params.department(department)
    target = scoring.target_for(dept, what)
    if target is not None and count:  # a rate with a target: judged as the packet's maps are
        return maps.target_map(districts, values, target=target, count=count, fmt=_fmt(d.unit),
                               title=_title(home, what, department, slice_,
                                            " by district, against the target"),
                               value_title=d.label, basemap=basemap,
                               count_title=metric_def(d.denominator).label)
    direction = scoring.direction_of(dept, what)
    return maps.choropleth(districts, values, value="value", count=count,
                           title=_title(home, what, department, slice_, " by district"),
                           value_title=d.label, fmt=_fmt(d.unit), basemap=basemap,
                           higher_is_better=None if direction is None
                           else direction == "higher")
