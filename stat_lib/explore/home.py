"""A liaison's way into a home: load any slice, compute any metric, list what is behind it.

Every figure comes from :mod:`stat_lib.metrics` with the packet's own steps: a department's
requests are loaded up to the period's end and prepared once (``metrics.prepare``), a period is
a :class:`~stat_lib.metrics.windows.Window`, a metric is its registry entry
(``metrics.registry.METRICS``). A slice (district, service, channel) restricts the window to
its rows, as the packet's per-service table does. Nothing here imports folium or altair: charts
and maps are in :mod:`stat_lib.explore.views`, imported on first use.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics as m
from ..core.business_calendar import BusinessCalendar
from ..core.errors import MetricError, UsageError
from ..core.periods import Period
from ..metrics import behind as behind_
from ..metrics import scoring
from ..metrics.registry import change, computed, format_value, metric_def, tiles
from ..params import load_params
from ..present.html import change_text
from . import loaders
from .slices import GROUPS, Slice, district_column, group_codes

PUBLIC_EXTRA = {"_due": "due", "_end": "ended_at"}
# per-standard figures a liaison may ask for (``<family>.<standard id>``)
STANDARD_METRICS = ("standard_compliance", "redress_count", "redress_dollars")


def find_home(path=None) -> Path:
    """``path``, else ``STAT_LIB_HOME``, else the nearest folder at or above the working
    directory holding ``params/city.yaml`` (a notebook in ``notebooks/`` finds its home)."""
    if path is None and os.environ.get("STAT_LIB_HOME"):
        path = os.environ["STAT_LIB_HOME"]
    if path is not None:
        return Path(path).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "city.yaml").exists():
            return folder
    raise UsageError(f"no home found at or above {here} (a folder holding params/city.yaml); "
                     f"pass open_home('path/to/home') or set STAT_LIB_HOME")


def open_home(path=None) -> Home:
    """Open a home (see :func:`find_home`) for exploring: ``home = open_home()``."""
    return Home(load_params(find_home(path)))


class Home:
    """A home's data and figures, for notebooks. See docs/liaisons.md for one example per call.

    Every method takes a ``department`` slug and a ``period`` (``"2026-10"``, ``"2026-W42"``,
    ``"2026-Q3"``) and optional slice filters ``district=`` (with ``layer=``, default the first
    boundary layer), ``service=`` (code or name) and ``channel=``; each takes a value or a list.
    """

    def __init__(self, params):
        self.params = params
        self.calendar = BusinessCalendar.from_city(params.city)
        self._prepared = lru_cache(maxsize=8)(self._prepare)

    def __repr__(self) -> str:
        return f"<Home {self.params.city.name}: {', '.join(self.departments)}>"

    # --- what there is --------------------------------------------------------------------------

    @property
    def departments(self) -> list[str]:
        """The department slugs."""
        return sorted(self.params.departments)

    @property
    def layers(self) -> list[str]:
        """The boundary layers (``district_<layer>`` columns)."""
        return [b.layer for b in self.params.city.boundaries]

    def period(self, period) -> Period:
        """``period`` as a :class:`~stat_lib.core.periods.Period` in the city's timezone."""
        tz = self.params.city.timezone
        if isinstance(period, Period):
            return period if period.tz else period.with_tz(tz)
        return Period.parse(period, tz)

    def prepared(self, department: str, period) -> m.Prepared:
        """The department's requests up to the period's end, prepared as the packet does."""
        self.params.department(department)  # unknown slug: UsageError listing the known ones
        return self._prepared(department, self.period(period).end)

    def _prepare(self, department: str, end) -> m.Prepared:
        from ..store import load_requests
        requests = load_requests(self.params, [department], end=end)
        return m.prepare(requests, self.params.department(department), self.calendar)

    # --- loading --------------------------------------------------------------------------------

    def load(self, kind: str = "requests", department: str | None = None, period=None, *,
             table: str | None = None) -> pd.DataFrame:
        """The stored rows of any dataset kind (:mod:`stat_lib.explore.loaders`): one
        department's, created in ``period`` when given; ``table`` one of the kind's tables
        (``requests``: ``requests``, ``rejects``, ``districts``, ``ingests``)."""
        return loaders.load(self.params, kind, department=department, period=period,
                            table=table)

    def requests(self, department: str, period=None, **slice_) -> pd.DataFrame:
        """The department's requests created in ``period`` (all of them when None) in the
        slice; canonical columns plus ``due`` (the due time the metrics use) and
        ``ended_at`` (closed, or cancelled, time)."""
        if period is None:
            from ..store import load_requests
            frame = m.prepare(load_requests(self.params, [department]),
                              self.params.department(department), self.calendar).frame
            keep = self._slice(slice_).mask(frame, self.params.department(department),
                                            self.layers)
            return public(frame[keep])
        return self.behind("created", department, period, **slice_)

    # --- figures ----------------------------------------------------------------------------------

    def metric(self, metric: str, department: str, period, *, by: str | None = None,
               **slice_):
        """One registered metric for the slice: its value (None when undefined), or with
        ``by`` (``district``, ``service``, ``channel``, ``week``) a DataFrame, one row per
        group: ``group, value, display`` (+ ``numerator, denominator`` for a rate)."""
        if "." in metric and by is None:  # one standard's figure: standard_compliance.<id>
            return self._standard_value(metric, department, period, slice_)
        if by is None:
            self._check_metric(metric)
            return self.window(department, period, **slice_).value(metric)
        table = self.figures(department, period, metrics=[metric], by=by, **slice_)
        d = metric_def(metric)
        out = table[["group", metric]].rename(columns={metric: "value"})
        out["display"] = [format_value(v, d.unit) for v in out["value"]]
        if d.numerator:
            out["numerator"], out["denominator"] = table[d.numerator], table[d.denominator]
        return out

    def figures(self, department: str, period, *, metrics=None, by: str | None = None,
                **slice_) -> pd.DataFrame:
        """Several metrics (default every computed one) for the slice, one row (or one row per
        group of ``by``), one column per metric id (a rate brings its parts along)."""
        ids = self._ids(metrics)
        if by is None:
            w = self.window(department, period, **slice_)
            return pd.DataFrame([{"group": "all", **{k: w.value(k) for k in ids}}])
        if by not in GROUPS:
            raise UsageError(f"cannot group by {by!r}; expected one of {', '.join(GROUPS)}")
        layer = slice_.get("layer")
        rows = [{"group": g, **{k: w.value(k) for k in ids}}
                for g, w in self._groups(department, period, by, layer, slice_)]
        out = pd.DataFrame(rows, columns=["group", *ids])
        if by == "service":
            out.insert(1, "name", self._service_names(department, period, out["group"]))
        return out

    def window(self, department: str, period, **slice_) -> m.windows.Window:
        """The period's :class:`~stat_lib.metrics.windows.Window` over the slice's rows."""
        prep, rows = self._rows(department, period, slice_)
        arrays = None if rows is None else {k: v[rows] for k, v in prep.arrays.items()}
        return prep.window(self.period(period), arrays)

    def headline(self, department: str, period) -> pd.DataFrame:
        """The packet's headline tiles: ``metric, tile, value, display, prior, year_ago``
        and the tiles' change texts ``vs_prior``, ``vs_last_year``."""
        card = self.scorecard(department, period).set_index("metric")
        w = self.window(department, period)
        rows = []
        for metric, tile in tiles():
            value, unit = w.value(metric), metric_def(metric).unit
            prior = card["prior"].get(metric) if metric in card.index else None
            year = card["year_ago"].get(metric) if metric in card.index else None
            rows.append({"metric": metric, "tile": tile, "value": value,
                         "display": format_value(value, unit), "prior": prior,
                         "year_ago": year, "vs_prior": change_text(value, prior, unit),
                         "vs_last_year": change_text(value, year, unit)})
        return pd.DataFrame(rows)

    def scorecard(self, department: str, period) -> pd.DataFrame:
        """The packet's scorecard (:func:`stat_lib.metrics.scoring.department_scorecard`),
        with ``prior_display``, ``year_ago_display`` and ``target_display`` texts."""
        from ..metrics.kpis import with_kpis
        prep = self.prepared(department, period)
        p = self.period(period)
        card, _ = scoring.department_scorecard(prep, prep.department, p, self.calendar)
        card, _ = with_kpis(self.params, prep.department, p, prep, card)  # submitted KPIs
        for col in ("prior", "year_ago", "target"):
            card[f"{col}_display"] = [format_value(v, u) if v is not None and not pd.isna(v)
                                      else "n/a" for v, u in zip(card[col], card["unit"])]
        return card

    def standards(self, department: str, period, **slice_) -> pd.DataFrame:
        """Customer service standards and redress of the slice, one row per standard
        (:func:`stat_lib.metrics.standards_report`, as the packet's standards section)."""
        prep, rows = self._rows(department, period, slice_)
        if rows is not None:
            prep = m.Prepared(prep.frame[rows], prep.department, prep.calendar, prep.as_of)
        return m.standards_report(prep, prep.department, self.period(period), self.calendar)

    def _standard_value(self, metric: str, department: str, period, slice_: dict):
        family, sid = metric.split(".", 1)
        if family == "kpi":
            return self._kpi_value(sid, department, period, slice_)
        if family not in STANDARD_METRICS:
            raise MetricError(f"unknown metric {metric!r}; per-standard figures are "
                              f"{', '.join(f'{f}.<standard id>' for f in STANDARD_METRICS)}")
        table = self.standards(department, period, **slice_).set_index("standard")
        if sid not in table.index:
            raise UsageError(f"unknown standard {sid!r} in {department}; its standards: "
                             f"{', '.join(table.index) or 'none'}")
        value = table.loc[sid, family]
        return None if value is None or pd.isna(value) else value

    def _kpi_value(self, kpi: str, department: str, period, slice_: dict):
        """A submitted KPI's figure for the period (the department's own, not sliceable)."""
        from ..metrics.kpis import kpi_scorecard
        if slice_:
            raise UsageError(f"kpi.{kpi} is a figure the department submits: it has no "
                             f"district, service or channel slices")
        prep = self.prepared(department, period)
        card = kpi_scorecard(self.params, prep.department, self.period(period), prep)
        row = card[card["metric"] == f"kpi.{kpi}"]
        if row.empty:
            raise UsageError(f"unknown KPI {kpi!r} in {department}; its KPIs: "
                             f"{', '.join(k.id for k in prep.department.kpis) or 'none'}")
        value = row["value"].iloc[0]
        return None if value is None or pd.isna(value) else value

    def compare(self, department: str, period_a, period_b, *, metrics=None,
                **slice_) -> pd.DataFrame:
        """Two periods side by side: ``metric, label, a, b, change`` (points for a rate,
        relative otherwise) and their display texts."""
        a = self.figures(department, period_a, metrics=metrics, **slice_).iloc[0]
        b = self.figures(department, period_b, metrics=metrics, **slice_).iloc[0]
        rows = []
        for k in self._ids(metrics):
            d = metric_def(k)
            rows.append({"metric": k, "label": d.label, "a": a[k], "b": b[k],
                         "change": change(b[k], a[k], d.unit),
                         "change_display": change_text(b[k], a[k], d.unit),
                         "a_display": format_value(a[k], d.unit),
                         "b_display": format_value(b[k], d.unit)})
        return pd.DataFrame(rows)

    # --- what is behind a figure ------------------------------------------------------------------

    def behind(self, metric: str, department: str, period, **slice_) -> pd.DataFrame:
        """The requests behind a figure: for a count, the rows counted (``overdue_open``: the
        requests open and overdue at the period's end, most overdue first); for a rate, its
        denominator's rows with ``in_numerator``; see :mod:`stat_lib.metrics.behind`."""
        prep, rows = self._rows(department, period, slice_)
        w = self.window(department, period, **slice_)
        return public(behind_.behind(prep, w, metric, rows))

    # --- charts, maps, Excel (heavier imports on first use) ---------------------------------------

    def chart(self, metric: str, department: str, period, *, by: str = "trend", **slice_):
        """A chart of ``metric`` with the packet's look: ``by="trend"`` (13 periods) or a
        group (bars per district, service, channel or week)."""
        from .views import chart
        return chart(self, metric, department, period, by, slice_)

    def map(self, department: str, period, *, what: str = "overdue_open", **slice_):
        """A map of the slice with the packet's look: ``what="overdue_open"`` (clustered
        requests), ``"created"`` (density), or any metric id (a choropleth by district)."""
        from .views import map_of
        return map_of(self, department, period, what, slice_)

    def to_excel(self, frame: pd.DataFrame, path, *, sheet: str = "Requests") -> Path:
        """Write ``frame`` (e.g. :meth:`behind`) as an Excel workbook for a field crew: text
        made formula-safe (:mod:`stat_lib.core.cells`), times as local wall times."""
        from .export import to_excel
        return to_excel(frame, path, sheet=sheet, tz=self.params.city.timezone)

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _slice(slice_: dict) -> Slice:
        unknown = set(slice_) - {"district", "layer", "service", "channel"}
        if unknown:
            raise UsageError(f"unknown slice filter(s) {', '.join(sorted(unknown))}; expected "
                             f"district (with layer), service, channel")
        return Slice(**slice_)

    def _rows(self, department, period, slice_) -> tuple[m.Prepared, np.ndarray | None]:
        prep = self.prepared(department, period)
        sl = self._slice(slice_)
        if sl == Slice(layer=sl.layer):
            return prep, None
        return prep, sl.mask(prep.frame, prep.department, self.layers)

    def _groups(self, department, period, by, layer, slice_):
        """(group, window) pairs of ``by`` over the slice."""
        prep, rows = self._rows(department, period, slice_)
        p = self.period(period)
        if by == "week":
            w = self.window(department, period, **slice_)
            return [(wk.label, w.other(wk)) for wk in weeks_of(p)]
        frame = prep.frame if rows is None else prep.frame[rows]
        column = {"district": district_column(layer, self.layers) if by == "district" else "",
                  "service": "service_code", "channel": "channel"}[by]
        codes, groups = group_codes(frame, column)
        if by == "service":  # the params' services with no rows appear too (as the packet's)
            groups, codes = _with_params_services(prep.department, groups, codes)
        base = prep.arrays if rows is None else {k: v[rows] for k, v in prep.arrays.items()}
        return [(g, prep.window(p, {k: v[codes == i] for k, v in base.items()}))
                for i, g in enumerate(groups)]

    def _service_names(self, department, period, codes) -> list[str]:
        prep = self.prepared(department, period)
        names = dict(zip(prep.frame["service_code"], prep.frame["service_name"]))
        svc = prep.department.service
        return [svc(c).name if svc(c) else names.get(c, c) for c in codes]

    def _ids(self, metrics) -> list[str]:
        ids = [x.id for x in computed("requests")] if metrics is None else list(metrics)
        for k in ids:
            self._check_metric(k)
        out = []
        for k in ids:  # a rate brings its numerator and denominator
            d = metric_def(k)
            out += [k] + ([d.numerator, d.denominator] if d.numerator and metrics else [])
        return list(dict.fromkeys(out))

    @staticmethod
    def _check_metric(metric: str) -> None:
        d = metric_def(metric)  # unknown: MetricError listing the known ones
        if d.compute is None and d.numerator is None:
            raise MetricError(f"{metric!r} is computed per customer service standard: ask "
                              f"for '{metric}.<standard id>' or use home.standards(...)")


def weeks_of(period: Period) -> list[Period]:
    """The ISO weeks overlapping ``period`` (each a whole week, in order)."""
    tz = period.tz
    week = Period.containing(period.start, "week", tz)
    out = []
    while week.start < period.end:
        out.append(week)
        week = week.next()
    return out


def _with_params_services(department, groups: list, codes: np.ndarray):
    extra = [s.code for s in department.services if s.code not in groups]
    return groups + extra, codes


def public(frame: pd.DataFrame) -> pd.DataFrame:
    """Prepared rows with the prepared columns dropped (``_due``, ``_end`` kept as ``due``,
    ``ended_at``); index reset."""
    out = frame.rename(columns=PUBLIC_EXTRA)
    out = out[[c for c in out.columns if not c.startswith("_")]]
    return out.reset_index(drop=True)
