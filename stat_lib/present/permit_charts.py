"""Charts of the permits section (altair, the packets' shared theme)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .charts import Chart, layer


def business_days_chart(dist: pd.DataFrame, *,
                        title: str = "Permits issued by business days to issue") -> alt.Chart:
    """Bars of ``dist`` (``business_days`` label, ``permits`` count), in the given order."""
    return Chart(dist).mark_bar().encode(
        x=alt.X("business_days:N", sort=None, title="Business days (stop-clock)",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("permits:Q", title="Permits"),
        tooltip=[alt.Tooltip("business_days:N", title="Business days"),
                 alt.Tooltip("permits:Q", format=",")]).properties(
        title=title, width=560, height=200)
