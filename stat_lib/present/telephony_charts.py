"""Charts of the contact-center packet (altair, the packets' shared theme)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..metrics.telephony import DAYS
from .charts import Chart, layer


def heatmap(cells: pd.DataFrame, value: str, *, title: str, subtitle: str | list[str] = "",
            fmt: str = ",.0f", legend: str = "", scheme: str = "blues") -> alt.Chart:
    """Hour of day x day of week, one cell per ``weekday, hour`` coloured by ``value``, its
    value written in the cell (never colour alone)."""
    data = cells.assign(hour_label=cells["hour"].map(lambda h: f"{h:02d}:00"))
    x = alt.X("hour_label:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=0))
    y = alt.Y("day:O", title=None, sort=list(DAYS))
    tip = [alt.Tooltip("day:O", title="Day"), alt.Tooltip("hour_label:O", title="Hour"),
           alt.Tooltip(f"{value}:Q", title=legend or value, format=fmt)]
    base = Chart(data).encode(x=x, y=y)
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", title=legend or None,
                                                   scale=alt.Scale(scheme=scheme),
                                                   legend=alt.Legend(format=fmt)),
                                   tooltip=tip)
    text = base.mark_text(fontSize=9).encode(
        text=alt.Text(f"{value}:Q", format=fmt),
        color=alt.condition(f"datum.{value} > {_middle(data[value])}", alt.value("white"),
                            alt.value("#1a1a1a")))
    return layer(rect, text).properties(
        title=alt.TitleParams(title, subtitle=subtitle or alt.Undefined), width=600, height=200)


def _middle(values: pd.Series) -> float:
    values = values.dropna()
    return float((values.min() + values.max()) / 2) if len(values) else 0.0


def staffing_chart(hours: pd.DataFrame, *, title: str = "Calls offered and agent hours by "
                   "hour of day", subtitle: str | list[str] = "") -> alt.LayerChart:
    """Bars of calls offered per day in each hour, a line of agent hours per day (right axis)."""
    data = hours.assign(hour_label=hours["hour"].map(lambda h: f"{h:02d}:00"))
    x = alt.X("hour_label:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=0))
    tip = [alt.Tooltip("hour_label:O", title="Hour"),
           alt.Tooltip("offered_per_day:Q", title="Calls offered per day", format=",.0f"),
           alt.Tooltip("agent_hours_per_day:Q", title="Agent hours per day", format=",.1f"),
           alt.Tooltip("offered_per_agent_hour:Q", title="Calls per agent hour", format=".1f")]
    bars = Chart(data).mark_bar(opacity=0.8).encode(
        x=x, y=alt.Y("offered_per_day:Q", title="Calls offered per day"), tooltip=tip)
    line = Chart(data).mark_line(point=True, strokeWidth=2.5, color="#d9822b").encode(
        x=x, y=alt.Y("agent_hours_per_day:Q", title="Agent hours per day (line)"),
        tooltip=tip)
    return layer(bars, line).resolve_scale(y="independent").properties(
        title=alt.TitleParams(title, subtitle=subtitle or alt.Undefined), width=560, height=220)
