"""Every department's figures of one period, computed once and read by the period-wide readers.

The citywide packet, the cabinet briefing, ``metrics.csv`` and the public edition's district
tables need a few figures of *every* department: the tidy rows of the CityScore windows, the
trend its "what moved" judges, the month and fiscal-year summaries, the per-district
numerators and denominators and the requests created per district. They read them here
instead of the rows: a department's rows are loaded and prepared once per period (one at a
time, so memory does not grow with the number of departments) and its
:class:`DepartmentFigures` are cached on disk, in ``<store folder>/cache/figures/<period>/``,
under a key of everything they are computed from (the department's data and permits
fingerprints, the city's as-of instant, the params files it reads, stat_lib's version and
sources). A changed department recomputes only its own figures; two processes asking for the
same department at once compute it once (a file lock).

The figures use the same as-of instants as before this module: the CityScore windows (and so
``metrics.csv``) one for the whole city (a period to date: its cut-off; else the latest
change in the city's data), the rest the department's own (as its packet).

A job shipped to a worker without the home's disk (:mod:`stat_lib.run.job_bundle`) carries
the client's :class:`PeriodFigures` as one file (:func:`ship`); such a home has no request
rows and reads that file.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.atomic_write import write_bytes
from ..core.business_calendar import BusinessCalendar
from ..core.manifest import file_digest, input_hash, library_digest, one_pass
from ..core.periods import Period
from .moved import period_is_partial, since_data_start
from .prepare import Prepared, _as_of, prepare
from .requests import by_district, department_summary, trend
from .spc import periods_needed, spc_settings
from .tidy import _period, _tidy

log = logging.getLogger("stat_lib.figures")
SHIPPED = "shipped.pkl"  # a shipped job's figures (no request rows in its home)
PRIVATE_HOME = "private-home"  # marks a shipped job's home: its packet caches no figures
NO_DISTRICT = "(no district)"


@dataclass
class DepartmentFigures:
    """One department's figures of one period (see the module docstring).

    ``windows``: tidy rows (:data:`stat_lib.metrics.tidy.COLUMNS`) of the month, quarter- and
    year-to-date with a ``window`` column, at the city's as-of, no KPI rows; ``trend``: the
    trend "what moved" judges (``max(13, periods the SPC baseline needs)`` periods, from the
    period of the first request on); ``summary``/``fiscal``: ``department_summary`` of the
    period and of the fiscal year to date; ``districts``: layer -> ``by_district``;
    ``created``: layer -> requests created in the period per district key
    (``(no district)`` for none); ``empty``: no 311 request; ``as_of``: the department's own.
    """

    slug: str
    empty: bool
    as_of: pd.Timestamp
    windows: pd.DataFrame
    trend: pd.DataFrame
    summary: dict
    fiscal: dict
    districts: dict[str, pd.DataFrame]
    created: dict[str, pd.Series]


@dataclass
class PeriodFigures:
    """Every department's figures of one period, with the period's own facts."""

    period: str
    city_as_of: pd.Timestamp | None
    partial: bool
    departments: dict[str, DepartmentFigures]

    def window_rows(self, window: str) -> pd.DataFrame:
        """Every department's tidy rows of one window (``month``, ``quarter``, ``year``)."""
        parts = [f.windows[f.windows["window"] == window] for f in self.departments.values()]
        parts = [p for p in parts if len(p)] or parts[:1]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def period_figures(params, period, departments=None) -> PeriodFigures:
    """The figures of every (selected) department of ``period``, from the cache when their
    inputs are unchanged (computed and cached otherwise)."""
    period = _period(period, params.city.timezone)
    shipped = figures_folder(params, period) / SHIPPED
    if shipped.exists():
        return pickle.loads(shipped.read_bytes())
    slugs = list(departments or params.departments)
    calendar = BusinessCalendar.from_city(params.city)
    with one_pass():  # the store's fingerprints (one scan) and file digests: once, not per slug
        city_as_of = city_as_of_for(params, period)
        figures = {slug: department_figures(params, period, slug, city_as_of, calendar)
                   for slug in slugs}
    return PeriodFigures(period.label, city_as_of, period_is_partial(params, period), figures)


def ship(params, period) -> bytes:
    """``period``'s figures, every department, as the bytes of a :data:`SHIPPED` file (for a
    job's private home that has no request rows)."""
    return pickle.dumps(period_figures(params, period))


def city_as_of_for(params, period: Period):
    """The as-of instant of the CityScore windows and ``metrics.csv``: a period to date's
    cut-off, else the latest change in the city's data before the period ends."""
    if period.is_to_date:
        return period.as_of
    from ..store import latest_change
    return latest_change(params, None, period.end)


def figures_folder(params, period: Period) -> Path:
    """Where ``period``'s figures are cached (a period to date: one folder per cut-off)."""
    name = period.label if not period.is_to_date else \
        f"{period.label}-to-{period.as_of.strftime('%Y%m%dT%H%M%S')}"
    return params.store_path.parent / "cache" / "figures" / re.sub(r"[^\w.-]", "_", name)


def keep_own(params, period, own: Prepared) -> None:
    """Cache the figures of ``own``'s department from rows a packet has already loaded and
    prepared (the period-wide readers then find them: no second load). Nothing in a job's
    private home (:mod:`stat_lib.run.job_bundle`: it holds one department's rows only)."""
    period = _period(period, params.city.timezone)
    if (figures_folder(params, period) / PRIVATE_HOME).exists():
        return
    with one_pass():
        department_figures(params, period, own.department.slug,
                           city_as_of_for(params, period), own.calendar, own=own)


def department_figures(params, period: Period, slug: str, city_as_of,
                       calendar: BusinessCalendar, own: Prepared | None = None
                       ) -> DepartmentFigures:
    """One department's figures: from the cache when its key matches, else computed
    (from ``own``, its rows already prepared, when they are the ones :func:`compute` loads)."""
    key = _key(params, period, slug, city_as_of)
    path = figures_folder(params, period) / f"{slug}.pkl"
    found = _read(path, key)
    if found is not None:
        return found
    with _locked(path):
        found = _read(path, key)  # computed by another process while this one waited
        if found is None:
            found = compute(params, period, slug, city_as_of, calendar, own)
            _write(path, key, found)
    return found


def compute(params, period: Period, slug: str, city_as_of, calendar: BusinessCalendar,
            own: Prepared | None = None) -> DepartmentFigures:
    """One department's figures from its rows before the period's end, prepared at the
    period's as-of: ``own`` when it is that (a packet's), else loaded by SQL, then dropped."""
    from ..store import load_requests
    dept, tz = params.departments[slug], params.city.timezone
    if own is None or own.as_of != _as_of(own.frame, period.as_of, tz):
        own = prepare(load_requests(params, [slug], end=period.end), dept, calendar,
                      period.as_of)
    city = Prepared(own.frame, dept, calendar, _as_of(own.frame, city_as_of, tz))
    n = max(13, periods_needed(spc_settings(params.city.spc, dept), period.kind))
    first = own.frame["requested_at"].min() if len(own.frame) else None
    fiscal = period.fiscal_to_date(params.city.fiscal_year_start_month)
    layers = [b.layer for b in params.city.boundaries]
    return DepartmentFigures(
        slug=slug, empty=own.frame.empty, as_of=own.as_of,
        windows=_windows(params, period, city, calendar),
        trend=since_data_start(trend(own, dept, period, calendar, n=n), first, tz),
        summary=department_summary(own, dept, period, calendar),
        fiscal=department_summary(own, dept, fiscal, calendar),
        districts={layer: by_district(own, period, layer) for layer in layers},
        created={layer: _created(own, period, layer) for layer in layers})


def _windows(params, period: Period, prep: Prepared, calendar) -> pd.DataFrame:
    permits: dict = {}
    return pd.concat([_tidy({prep.department.slug: prep}, _period(p, params.city.timezone),
                            calendar, params, permits).assign(window=name)
                      for name, p in period.windows().items()], ignore_index=True)


def _created(prep: Prepared, period: Period, layer: str) -> pd.Series:
    """Requests created in ``period`` per district key of ``layer`` (none: ``(no district)``)."""
    column = prep.frame[f"district_{layer}"]
    district = column.where(column.notna(), NO_DISTRICT)
    return district[prep.window(period).created].value_counts()


# --- the cache ------------------------------------------------------------------------------

def _key(params, period: Period, slug: str, city_as_of) -> str:
    from ..store import data_fingerprint
    from ..store.permits import permit_fingerprint
    files = {f"{f.parent.name}/{f.name}": file_digest(f) for f in params.files
             if f.parent.name != "departments" or f.stem == slug}
    return input_hash({"period": period.label, "as_of": str(period.as_of),
                       "city_as_of": str(city_as_of), "params_files": files,
                       "data": data_fingerprint(params, department=slug, end=period.end),
                       "permits": permit_fingerprint(params, slug)
                       if params.departments[slug].permit_standards else "",
                       "library": library_digest()})


def _read(path: Path, key: str) -> DepartmentFigures | None:
    """The cached figures when the file holds ``key`` (the cache is the home's own, as
    trusted as its store and notebooks); None when absent, stale or unreadable."""
    try:
        cached_key, figures = pickle.loads(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError,
            AttributeError, ImportError):
        return None
    return figures if cached_key == key and isinstance(figures, DepartmentFigures) else None


def _write(path: Path, key: str, figures: DepartmentFigures) -> None:
    try:
        write_bytes(path, pickle.dumps((key, figures)))
    except OSError as exc:  # a read-only home still gets its figures, uncached
        log.warning("could not cache the figures of %s in %s: %s", figures.slug, path, exc)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock beside ``path`` (no lock when the folder cannot be written)."""
    import fcntl
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
