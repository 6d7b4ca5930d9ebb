"""Charts for packets: altair with one shared theme, offline in HTML, SVG for print.

Importing this module registers the ``stat_lib`` theme and renderer. The renderer displays a
chart as the vega-lite mimetype (JupyterLab draws it) plus a static SVG from ``vl_convert``;
``stat_lib.present.packets`` turns it into a div + JSON spec that uses the vega bundle inlined once
per packet. Every function takes data already aggregated (a few rows per period, service or bucket),
so the page carries summaries, never request rows.
"""

from __future__ import annotations

import os

import altair as alt
import numpy as np
import pandas as pd

from ..core.errors import StatLibError
from . import chart_data

VL_VERSION = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "6.4"
# JupyterLab 4 ships a vega-lite v5 renderer; it draws these specs too.
LAB_MIME = "application/vnd.vegalite.v5+json"
STATUS_COLORS = {"met": "#2e7d32", "near": "#f9a825", "missed": "#c62828"}
AGE_EDGES = (0, 7, 14, 30, 60, 90)
_BRANDING = {"primary": "#1f3b5c", "accent": "#d9822b"}
LABEL_TEXT = "#333333"  # chart labels drawn beside a coloured mark


def theme() -> dict:
    """The shared theme: branding colours, readable fonts, quiet axes."""
    # One metric-compatible family for the browser and vl_convert, so static SVG text fits.
    font = "Liberation Sans, Arial, Helvetica, sans-serif"
    return {"config": {
        "font": font, "background": "white",
        "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 240},
        "range": {"category": [_BRANDING["primary"], _BRANDING["accent"], "#5b8db8",
                               "#9c9c9c", "#7a5195"]},
        "mark": {"color": _BRANDING["primary"]},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#e6e6e6",
                 "domainColor": "#888", "tickColor": "#888"},
        "title": {"fontSize": 15, "anchor": "start", "color": "#222"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12}}}


def use_branding(branding=None) -> None:
    """Apply ``city.branding`` (a ``params.Branding`` or dict) to the shared theme."""
    if branding is not None:
        get = branding.get if isinstance(branding, dict) else lambda k: getattr(branding, k)
        _BRANDING.update(primary=get("primary_color"), accent=get("accent_color"))
    alt.theme.register("stat_lib", enable=True)(theme)


def spec_svg(spec: dict) -> str:
    """Static SVG of a vega-lite spec (``vl_convert``; in a batch kernel, the batch's one
    vl_convert: :mod:`stat_lib.present.svg_server`)."""
    from . import svg_server
    svg = svg_server.convert(spec, VL_VERSION)
    if svg is not None:
        return svg
    import vl_convert as vlc
    return vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """Static SVG of an altair chart, for PDF and other static use."""
    return spec_svg(chart.to_dict())


def _renderer(spec: dict, **_):
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    return {LAB_MIME: spec, "image/svg+xml": spec_svg(spec),
            "text/plain": f"<chart: {title or 'untitled'}>"}


alt.renderers.register("stat_lib", _renderer)
alt.renderers.enable("stat_lib")
chart_data.enable()  # the same values as altair's default transformer, for less CPU
use_branding()

# Packet charts display without altair's schema validation (about 0.05 CPU s a chart, a
# third of its display): their specs are validated in the tests instead, which set
# STAT_LIB_VALIDATE_CHARTS=1 (tests/conftest.py) for every chart any test displays, in its
# kernels too; tests/test_charts.py validates every chart kind. to_dict() still validates.
VALIDATE = os.environ.get("STAT_LIB_VALIDATE_CHARTS", "0") == "1"


class _Shown:
    """Displayed as altair displays a chart, with validation only when ``VALIDATE``."""

    def _repr_mimebundle_(self, *args, **kwds):
        try:
            spec = self.to_dict(validate=VALIDATE, context={"pre_transform": False})
        except Exception:  # as altair does: the traceback shows, the cell goes on
            alt.utils.display_traceback(in_ipython=True)
            return {}
        renderer = alt.renderers.get()
        return renderer(spec) if renderer else None


class Chart(_Shown, alt.Chart):
    """``alt.Chart`` of a packet (see :class:`_Shown`)."""


class LayerChart(_Shown, alt.LayerChart):
    """``alt.LayerChart`` of a packet (see :class:`_Shown`)."""


def layer(*charts, **kwargs) -> LayerChart:
    """``alt.layer`` of a packet (see :class:`_Shown`); packet charts have no facet encodings."""
    return LayerChart(layer=charts, **kwargs)


def _need(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        found = ", ".join(map(str, df.columns))
        raise StatLibError(f"{what} needs columns {', '.join(map(repr, columns))}; missing "
                           f"{', '.join(map(repr, missing))} (found {found})")


def trend_chart(df: pd.DataFrame, *, period: str = "period", value: str = "value",
                target: float | None = None, title: str = "", value_title: str = "",
                fmt: str = ".0%", periods: int = 13) -> alt.LayerChart:
    """The last ``periods`` periods as a line, the target as a dashed rule.

    Parameters
    ----------
    df : one row per period (``period`` label, ``value``), any order.
    target : drawn as a horizontal rule and in the tooltip; None draws no rule.
    fmt : d3 format of the value axis and tooltips (``.0%``, ``,.0f``, ``.1f``).
    """
    _need(df, [period, value], "trend_chart")
    data = df[[period, value]].sort_values(period).tail(periods)
    data = data.assign(**{period: data[period].astype(str)})
    x = alt.X(f"{period}:O", title=None, sort=None, axis=alt.Axis(labelAngle=-40))
    y = alt.Y(f"{value}:Q", title=value_title or None, axis=alt.Axis(format=fmt))
    tip = [alt.Tooltip(f"{period}:O", title="Period"),
           alt.Tooltip(f"{value}:Q", title=value_title or "Value", format=fmt)]
    line = Chart(data).mark_line(point=True, strokeWidth=2.5).encode(x=x, y=y, tooltip=tip)
    layers = [line]
    if target is not None:
        layers.append(target_rule(target, fmt))
    return layer(*layers).properties(title=title, width=560, height=220)


def target_rule(target: float, fmt: str, axis: str = "y") -> alt.LayerChart:
    """The target as a dashed rule with its label ("Target 85%") at the end of the line."""
    data = pd.DataFrame({"target": [target], "label": [f"Target {format(target, fmt)}"]})
    base = Chart(data).encode(**{axis: alt.X("target:Q") if axis == "x"
                                     else alt.Y("target:Q")})
    rule = base.mark_rule(color=_BRANDING["accent"], strokeDash=[6, 4], strokeWidth=2).encode(
        tooltip=[alt.Tooltip("target:Q", title="Target", format=fmt)])
    # the line in the accent colour; its words dark, so they read (WCAG AA) on any accent
    text = (base.mark_text(align="left", dx=4, dy=-6, fontSize=11, fontWeight="bold",
                           color=LABEL_TEXT, y=0)
            if axis == "x" else
            base.mark_text(align="right", dy=-6, fontSize=11, fontWeight="bold",
                           color=LABEL_TEXT, x="width"))
    return layer(rule, text.encode(text="label:N"))


SIGNAL_COLORS = {"concerning": "#e8710a", "improving": "#1f77b4", "no good direction": "#7a5195"}


def spc_chart(points: pd.DataFrame, *, target: float | None = None, title: str = "",
              subtitle: str | list[str] = "", fmt: str = ".0%") -> alt.LayerChart:
    """A process behaviour chart: the values, their mean and process limits, the target.

    Parameters
    ----------
    points : :attr:`stat_lib.metrics.methods.Assessment.points` (``period, value, mean,
        lower, upper, signal, signal_kind, partial``); limits NaN when there is no verdict.
    target : drawn as a dashed rule; None draws none.
    subtitle : what the method did (baseline, verdict), one line or a list of lines.

    Signal points are filled orange (concerning), blue (improving) or purple (a signal on a
    measure with no good direction); a partial period's point is hollow grey.
    """
    _need(points, ["period", "value", "mean", "lower", "upper", "signal", "partial"],
          "spc_chart")
    kind = points["signal_kind"] if "signal_kind" in points else pd.Series("", points.index)
    data = points.assign(period=points["period"].astype(str),
                         kind=kind.where(points["signal"], "").replace("neither",
                                                                       "no good direction"))
    x = alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=-40))
    tip = [alt.Tooltip("period:O", title="Period"),
           alt.Tooltip("value:Q", title="Value", format=fmt),
           alt.Tooltip("lower:Q", title="Lower limit", format=fmt),
           alt.Tooltip("upper:Q", title="Upper limit", format=fmt)]
    base = Chart(data).encode(x=x)
    layers = [base.mark_line(color="#9c9c9c", strokeWidth=1.5).encode(
                  y=alt.Y("mean:Q", title=None, axis=alt.Axis(format=fmt),
                          scale=alt.Scale(zero=False))),
              *[base.mark_line(color="#9c9c9c", strokeDash=[4, 3], strokeWidth=1.5).encode(
                  y=f"{k}:Q") for k in ("lower", "upper")],
              base.mark_line(point=True, strokeWidth=2.5).encode(y="value:Q", tooltip=tip)]
    signals = data[data["signal"]]
    if len(signals):
        kinds = [k for k in SIGNAL_COLORS if k in set(signals["kind"])]  # the legend's entries
        layers.append(Chart(signals).mark_point(filled=True, size=110, opacity=1).encode(
            x=x, y="value:Q", tooltip=tip, color=alt.Color(
                "kind:N", title="Signal", legend=alt.Legend(orient="top", direction="horizontal"),
                scale=alt.Scale(domain=kinds, range=[SIGNAL_COLORS[k] for k in kinds]))))
    partial = data[data["partial"]]
    if len(partial):
        layers.append(Chart(partial).mark_point(filled=True, size=110, color="white",
                                                    stroke="#666", strokeWidth=2).encode(
            x=x, y="value:Q", tooltip=tip))
    if target is not None:
        layers.append(target_rule(target, fmt))
    return layer(*layers).properties(
        title=alt.TitleParams(title, subtitle=subtitle or alt.Undefined), width=560, height=220)


def ontime_by_service(df: pd.DataFrame, *, service: str = "service_name",
                      on_time: str = "on_time_rate", closed: str = "closed",
                      target: float | None = None, title: str = "On time by service type"
                      ) -> alt.LayerChart:
    """Horizontal bars of the on-time rate per service type, worst first; with a target, the
    services below it in red and the rest in blue (the legend says which is which) and the
    target as a labelled rule."""
    _need(df, [service, on_time, closed], "ontime_by_service")
    data = df[[service, on_time, closed]].sort_values(on_time)
    y = alt.Y(f"{service}:N", title=None, sort=None)
    color = alt.value(_BRANDING["primary"])
    if target is not None:
        below, above = (f"Below the {format(target, '.0%')} target",
                        "At or above the target")
        data = data.assign(against=[below if v < target else above for v in data[on_time]])
        shown = [(w, c) for w, c in ((below, "#ca0020"), (above, "#4393c3"))
                 if w in set(data["against"])]  # the legend lists only what is drawn
        color = alt.Color("against:N", title=None, legend=alt.Legend(orient="bottom"),
                          scale=alt.Scale(domain=[w for w, _ in shown],
                                          range=[c for _, c in shown]))
    bars = Chart(data).mark_bar().encode(
        x=alt.X(f"{on_time}:Q", title="Closed on time", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])), y=y, color=color,
        tooltip=[alt.Tooltip(f"{service}:N", title="Service"),
                 alt.Tooltip(f"{on_time}:Q", title="On time", format=".1%"),
                 alt.Tooltip(f"{closed}:Q", title="Closed", format=",")])
    layers = [bars]
    if target is not None:
        layers.append(target_rule(target, ".0%", axis="x"))
    height = max(60, 24 * len(data))
    return layer(*layers).properties(title=title, width=480, height=height)


def histogram(values, edges) -> pd.DataFrame:
    """Counts of ``values`` in ``[edges[i], edges[i+1])``; the last bin is open (``edge+``).

    NaN values are not counted (an open request has no time to close). Values below the first
    edge (a negative duration is a data problem) get their own first bucket, never dropped.
    """
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").dropna().to_numpy()
    edges = np.asarray(edges, dtype=float)
    idx = np.searchsorted(edges, v, side="right") - 1
    counts = np.bincount(idx[idx >= 0], minlength=len(edges))[:len(edges)]
    labels = [f"{_num(a)}–{_num(b)}" for a, b in zip(edges[:-1], edges[1:])]
    labels.append(f"{_num(edges[-1])}+")
    below = int((idx < 0).sum())
    if below:
        labels, counts = [f"< {_num(edges[0])}"] + labels, np.concatenate([[below], counts])
    return pd.DataFrame({"bucket": labels, "count": counts.astype(int),
                         "order": range(len(labels))})


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def time_to_close_chart(days, *, edges=(0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 60),
                        sla_days: float | None = None, title: str = "Time to close (days)"
                        ) -> alt.Chart:
    """Distribution of days to close, binned in Python (the page carries counts only)."""
    data = histogram(days, edges)
    bars = Chart(data).mark_bar().encode(
        x=alt.X("bucket:N", sort=None, title="Days to close", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="Requests"),
        tooltip=[alt.Tooltip("bucket:N", title="Days"), alt.Tooltip("count:Q", format=",")])
    subtitle = f"SLA: {_num(sla_days)} days" if sla_days is not None else ""
    return bars.properties(title=alt.TitleParams(title, subtitle=subtitle), width=560, height=200)


def aging_chart(ages_days, *, edges=AGE_EDGES, title: str = "Open requests by age (days)"
                ) -> alt.Chart:
    """Open requests counted per age bucket; older buckets in the accent colour."""
    data = histogram(ages_days, edges)
    old = _num(edges[-3]) if len(edges) >= 3 else _num(edges[0])
    words = (f"Under {old} days old", f"{old} days or older")  # the colours, explained
    data["older"] = [words[o >= len(data) - 3] for o in data["order"]]
    return Chart(data).mark_bar().encode(
        x=alt.X("bucket:N", sort=None, title="Age (days)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="Open requests"),
        color=alt.Color("older:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(words), range=[_BRANDING["primary"],
                                                                   _BRANDING["accent"]])),
        tooltip=[alt.Tooltip("bucket:N", title="Age"), alt.Tooltip("count:Q", format=",")],
    ).properties(title=title, width=480, height=200)


def status_bars(counts: dict, *, title: str = "Measures by status") -> alt.Chart:
    """Met / near / missed counts as coloured bars (the scorecard's summary)."""
    data = pd.DataFrame({"status": list(STATUS_COLORS),
                         "count": [int(counts.get(s, 0)) for s in STATUS_COLORS]})
    return Chart(data).mark_bar().encode(
        x=alt.X("count:Q", title="Measures"), y=alt.Y("status:N", sort=None, title=None),
        color=alt.Color("status:N", legend=None, scale=alt.Scale(
            domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))),
        tooltip=["status:N", "count:Q"]).properties(title=title, width=360, height=90)


def cityscore_chart(df: pd.DataFrame, *, name: str = "name", score: str = "score",
                    title: str = "CityScore by department") -> alt.LayerChart:
    """Horizontal bars of scores (1.00 = on target, drawn as a rule), lowest first."""
    _need(df, [name, score], "cityscore_chart")
    data = df[[name, score]].sort_values(score)
    bars = Chart(data).mark_bar().encode(
        x=alt.X(f"{score}:Q", title="Score (1.00 = on target)"),
        y=alt.Y(f"{name}:N", title=None, sort=None),
        color=alt.condition(alt.datum[score] >= 1, alt.value(_BRANDING["primary"]),
                            alt.value(_BRANDING["accent"])),
        tooltip=[alt.Tooltip(f"{name}:N", title="Department"),
                 alt.Tooltip(f"{score}:Q", title="Score", format=".2f")])
    rule = Chart(pd.DataFrame({"on_target": [1.0]})).mark_rule(
        color="#444", strokeDash=[4, 3]).encode(x="on_target:Q")
    return layer(bars, rule).properties(title=title, width=480,
                                            height=max(60, 26 * len(data)))


def bars(df: pd.DataFrame, *, category: str = "group", value: str = "value",
         title: str = "", value_title: str = "", fmt: str = ",.0f",
         target: float | None = None, largest_first: bool = True) -> alt.LayerChart:
    """Horizontal bars of ``value`` per ``category`` (largest first, else in the frame's
    order, e.g. weeks); target as a rule."""
    _need(df, [category, value], "bars")
    data = df[[category, value]].dropna()
    if largest_first:
        data = data.sort_values(value, ascending=False)
    data = data.assign(**{category: data[category].astype(str)})
    x = alt.X(f"{value}:Q", title=value_title or None, axis=alt.Axis(format=fmt))
    layers = [Chart(data).mark_bar().encode(
        x=x, y=alt.Y(f"{category}:N", title=None, sort=None),
        tooltip=[alt.Tooltip(f"{category}:N", title="Group"),
                 alt.Tooltip(f"{value}:Q", title=value_title or "Value", format=fmt)])]
    if target is not None:
        layers.append(Chart(pd.DataFrame({"target": [target]})).mark_rule(
            color=_BRANDING["accent"], strokeDash=[6, 4], strokeWidth=2).encode(x="target:Q"))
    return layer(*layers).properties(title=title, width=480,
                                         height=max(60, 24 * len(data)))
