"""Every Stat metric, defined once: pure, vectorized functions on canonical request frames.

Definitions shared by all metrics (period ``[s, e)`` in the city's timezone):

- **end time** of a request: ``closed_at`` for a closed one; ``closed_at`` else ``updated_at`` for a
  cancelled one (a closed one with no ``closed_at`` also falls back to ``updated_at`` and is counted
  in ``undated_closures``); open requests have none.
- **open at t**: ``requested_at < t`` and not ended at or before ``t``.
- **created in the period**: ``s <= requested_at < e``.
- **closed (cancelled) in the period**: ended in ``s < end <= e`` (an end at exactly midnight
  belongs to the day it ends). A request whose end is not after its creation (zero or negative
  duration) is counted in the period of its creation. With these, for every department and period,
  ``backlog_open = backlog_start + created - closed - cancelled`` exactly.
- **due time**: ``due_at`` from the source when present, else the service's SLA from params
  (:mod:`stat_lib.calendar` conventions); no ``due_at`` and no SLA: *no SLA*, counted apart.
- **duplicates**: ``status_raw`` mentioning "duplicate" or a ``duplicate`` quality flag; they count
  in volumes and backlog but not in on-time or time-to-close figures.
- **negative duration**: ended before created (or flagged ``closed_before_created`` by ingest,
  which keeps such rows with ``closed_at`` set to ``requested_at``); excluded from on-time,
  cohort, time-to-close and standards figures, counted in ``negative_durations``.

Rates are ``None`` (rendered "n/a") when their denominator is zero, never 0 or 100%.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from .calendar import BusinessCalendar
from .config import Department, Sla
from .errors import MetricError
from .periods import Period


@dataclass(frozen=True)
class MetricDef:
    """A metric's label, unit (``count``, ``rate``, ``days``, ``business_days``, ``dollars``),
    the direction that is good (``None``: neither) and a one-line definition."""

    label: str
    unit: Literal["count", "rate", "days", "business_days", "dollars"]
    direction: Literal["higher", "lower"] | None
    description: str


M = MetricDef
METRICS: dict[str, MetricDef] = {
    "created": M("Requests created", "count", None, "requests with s <= requested_at < e"),
    "created_change_prior": M("Created vs prior period", "rate", None,
                              "created / created in the prior period - 1"),
    "created_change_year": M("Created vs a year earlier", "rate", None,
                             "created / created in the same period a year earlier - 1"),
    "closed": M("Requests closed", "count", None, "status closed, ended in (s, e]"),
    "cancelled": M("Requests cancelled", "count", None, "status cancelled, ended in (s, e]"),
    "duplicates_closed": M("Duplicates closed", "count", None,
                           "closed in the period and marked duplicate"),
    "on_time_rate": M("Closed on time", "rate", "higher",
                      "on_time_met / on_time_eligible: closed in the period at or before the due "
                      "time; excludes cancelled, duplicates, no SLA, negative durations"),
    "on_time_met": M("Closed on time (count)", "count", "higher",
                     "closed in the period at or before the due time"),
    "on_time_eligible": M("Closed with a due time", "count", None,
                          "closed in the period, not duplicate, with a due time, duration >= 0"),
    "cohort_on_time_rate": M("Created this period, closed on time", "rate", "higher",
                             "cohort_on_time_met / (met + late) among requests created in the "
                             "period with a due time; excludes cancelled, duplicates, negative "
                             "durations, and requests open at as_of and not yet due "
                             "(cohort_pending)"),
    "cohort_on_time_met": M("Cohort closed on time", "count", "higher",
                            "created in the period and closed at or before the due time"),
    "cohort_eligible": M("Cohort with a known outcome", "count", None,
                         "created in the period with a due time: on time or late so far"),
    "cohort_pending": M("Cohort still open, not yet due", "count", None,
                        "created in the period, still open at as_of, due after as_of"),
    "median_days_to_close": M("Median days to close", "days", "lower",
                              "median of closed_at - requested_at (days) over closed in period, "
                              "excluding duplicates and negative durations"),
    "p90_days_to_close": M("90th percentile days to close", "days", "lower",
                           "90th percentile (linear) of the same durations"),
    "mean_days_to_close": M("Mean days to close", "days", "lower", "mean of the same durations"),
    "median_business_days_to_close": M("Median business days to close", "business_days", "lower",
                                       "median of business days in (request date, close date]"),
    "p90_business_days_to_close": M("90th percentile business days to close", "business_days",
                                    "lower", "90th percentile of the same business days"),
    "mean_business_days_to_close": M("Mean business days to close", "business_days", "lower",
                                     "mean of the same business days"),
    "backlog_start": M("Open at period start", "count", "lower", "open at s"),
    "backlog_open": M("Open at period end", "count", "lower", "open at e"),
    "overdue_open": M("Open and overdue at period end", "count", "lower",
                      "open at e with a due time before e"),
    "overdue_share": M("Share of open requests overdue", "rate", "lower",
                       "overdue_open / backlog_open"),
    "backlog_no_sla": M("Open with no SLA", "count", None, "open at e with no due time"),
    "no_sla_closed": M("Closed with no SLA", "count", None,
                       "closed in the period, not duplicate, no due_at and no SLA in params"),
    "negative_durations": M("Closed before created", "count", None,
                            "closed or cancelled in the period with end < requested_at"),
    "undated_closures": M("Closed with no close time", "count", None,
                          "closed/cancelled in the period whose end came from updated_at"),
    "standard_compliance": M("Standard met", "rate", "higher",
                             "closed in the period within the standard's promise / closed in the "
                             "period for the standard's services (excl. duplicates, negatives)"),
    "redress_count": M("Redress owed (requests)", "count", "lower",
                       "closed in the period later than the standard's promise"),
    "redress_dollars": M("Redress owed ($)", "dollars", "lower",
                         "sum of fee x min(cap, rate x units late) over late requests with a "
                         "known fee"),
}
del M

RATE_PARTS = {"on_time_rate": ("on_time_met", "on_time_eligible"),
              "cohort_on_time_rate": ("cohort_on_time_met", "cohort_eligible"),
              "overdue_share": ("overdue_open", "backlog_open")}

REQUIRED = ("request_id", "service_code", "service_name", "status", "requested_at",
            "updated_at", "closed_at")
STATUSES = {"open", "closed", "cancelled"}


def metric_def(metric: str) -> MetricDef:
    """The definition of ``metric`` (``standard_compliance.<id>`` resolves to its family)."""
    base = metric.split(".", 1)[0]
    if base not in METRICS:
        raise MetricError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")
    return METRICS[base]


def format_value(value, unit: str) -> str:
    """Display text: ``'87.5%'``, ``'3.2 days'``, ``'1,204'``, ``'$350'``; ``'n/a'`` for NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if unit == "rate":
        return f"{value:.1%}"
    if unit in ("days", "business_days"):
        return f"{value:,.1f} {'business days' if unit == 'business_days' else 'days'}"
    if unit == "dollars":
        return f"${value:,.0f}"
    return f"{value:,.0f}"


# ---- preparation (once per department frame) -------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """A department's requests with end, due and duration columns computed once.

    Columns added: ``_req``, ``_end``, ``_pos`` (end after creation), ``_dup``, ``_neg``, ``_due``,
    ``_sla`` (``source``/``params``/``none``), ``_days``, ``_bdays``, ``_undated``.
    """

    frame: pd.DataFrame
    department: Department
    calendar: BusinessCalendar
    as_of: pd.Timestamp

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """numpy columns for the per-period loops: instants as int64 ns (missing: never)."""
        df = self.frame
        out = {"req": _ints(df["_req"]), "end": _ints(df["_end"]), "due": _ints(df["_due"]),
               "has_end": df["_end"].notna().to_numpy(), "has_due": df["_due"].notna().to_numpy(),
               "closed": (df["status"] == "closed").to_numpy(),
               "cancelled": (df["status"] == "cancelled").to_numpy(),
               "days": df["_days"].to_numpy(dtype=float),
               "bdays": df["_bdays"].to_numpy(dtype=float)}
        for col in ("pos", "neg", "dup", "undated"):
            out[col] = df[f"_{col}"].to_numpy(dtype=bool)
        return out


NEVER = np.iinfo(np.int64).max


def _ints(ts: pd.Series) -> np.ndarray:
    """tz-aware timestamps -> int64 ns since the epoch; NaT -> NEVER (after every instant)."""
    values = ts.dt.as_unit("ns").array.asi8.copy()
    values[ts.isna().to_numpy()] = NEVER
    return values


def prepare(requests, department: Department, calendar: BusinessCalendar,
            as_of=None) -> Prepared:
    """Validate ``requests`` and compute the columns every metric uses.

    Parameters
    ----------
    requests : DataFrame or Prepared
        Canonical request columns (docs/architecture.md); rows of other departments are ignored
        when a ``department`` column is present.
    department : config.Department
    calendar : BusinessCalendar
    as_of : timestamp or date, optional
        Cut-off of cohort outcomes (a date means through that local day): requests closed
        after it count as open then. Default: the data's latest timestamp.
    """
    if isinstance(requests, Prepared):
        return requests
    df = _validated(requests, department)
    status = df["status"]
    end = df["closed_at"].where(status != "open")
    undated = (status == "closed") & end.isna() & df["updated_at"].notna()
    end = end.fillna(df["updated_at"].where(status != "open"))
    df = df.assign(_req=df["requested_at"], _end=end, _undated=undated,
                   _dup=_duplicates(df))
    early = (df["_end"] < df["_req"]).fillna(False).astype(bool)
    df["_neg"] = (early | _flagged(df, "closed_before_created")) & (status != "open")
    df["_pos"] = (df["_end"] > df["_req"]).fillna(False).astype(bool)
    df["_due"], df["_sla"] = _due_times(df, department, calendar)
    closed = status == "closed"
    df["_days"] = ((df["_end"] - df["_req"]).dt.total_seconds() / 86400).where(closed)
    df["_bdays"] = calendar.business_days_between(df["_req"], df["_end"]).where(closed)
    return Prepared(df, department, calendar, _as_of(df, as_of, calendar.tz))


def _validated(requests: pd.DataFrame, department: Department) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in requests.columns]
    if missing:
        raise MetricError(f"requests lack column(s) {missing}; expected the canonical columns of "
                          f"docs/architecture.md (load them with stat_lib.store.load_requests)",
                          department=department.slug)
    df = requests
    if "department" in df.columns:
        df = df[df["department"] == department.slug]
    df = df[df["requested_at"].notna()].copy()
    for col in ("requested_at", "updated_at", "closed_at", "due_at"):
        if col in df.columns and not isinstance(df[col].dtype, pd.DatetimeTZDtype):
            raise MetricError(f"expected tz-aware timestamps, found dtype {df[col].dtype}; "
                              f"localize to the city's timezone", column=col,
                              department=department.slug)
    bad = set(df["status"].dropna().unique()) - STATUSES
    if bad or df["status"].isna().any():
        raise MetricError(f"expected status open/closed/cancelled, found {sorted(map(str, bad))}"
                          f" or missing values; map source statuses at ingest", column="status",
                          department=department.slug)
    return df


def _flagged(df: pd.DataFrame, flag: str) -> pd.Series:
    """Rows whose comma-separated ``quality`` holds ``flag``."""
    if "quality" not in df.columns:
        return pd.Series(False, index=df.index)
    pattern = rf"(?:^|,)\s*{flag}\s*(?:,|$)"
    return _per_value(df["quality"], lambda s: s.str.contains(pattern, regex=True))


def _duplicates(df: pd.DataFrame) -> pd.Series:
    dup = _flagged(df, "duplicate")
    if "status_raw" in df.columns:
        dup |= _per_value(df["status_raw"], lambda s: s.str.contains("duplicate", case=False))
    return dup.astype(bool)


def _per_value(values: pd.Series, test) -> pd.Series:
    """``test(values.astype("string")).fillna(False)``, evaluated once per distinct value (a
    few statuses or flags over many rows); missing values are False."""
    index, distinct = pd.factorize(values)  # missing: -1
    hit = test(pd.Series(distinct, dtype=object).astype("string")).fillna(False)
    return pd.Series(np.append(hit.to_numpy(dtype=bool), False)[index], index=values.index,
                     dtype=hit.dtype)


def data_as_of(requests: pd.DataFrame) -> pd.Timestamp:
    """When the data was current: its latest requested/updated/closed timestamp (now if empty)."""
    latest = pd.concat([requests[c] for c in ("requested_at", "updated_at", "closed_at")]).max()
    return latest if pd.notna(latest) else pd.Timestamp.now(tz="UTC")


def _as_of(df: pd.DataFrame, as_of, tz: str) -> pd.Timestamp:
    """A given as_of (a date means through that local day), else the data's latest instant."""
    from .periods import _cutoff
    return _cutoff(as_of, tz) if as_of is not None else data_as_of(df)


def sla_table(requests: pd.DataFrame, department: Department) -> pd.DataFrame:
    """Per row: the params SLA ``amount`` and ``unit`` of its service (NaN/None without one)."""
    (ci, codes), (ni, names) = (_distinct(requests[c]) for c in ("service_code", "service_name"))
    index, pairs = pd.factorize(ci * len(names) + ni)  # each distinct (code, name) once
    slas = []
    for pair in pairs:
        c, n = (codes[pair // len(names)] + "\x1f" + names[pair % len(names)]).split("\x1f", 1)
        svc = department.service(c) or department.service(n)
        slas.append(svc.sla if svc else None)
    amount = np.array([x.amount if x else np.nan for x in slas] + [np.nan])
    unit = np.array([x.unit if x else None for x in slas] + [None], dtype=object)
    return pd.DataFrame({"amount": amount[index], "unit": unit[index]}, index=requests.index)


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes ``1..k`` of each row's value (0 when missing) and the ``k + 1`` texts
    (``astype("string")``, missing as ``""``)."""
    index, distinct = pd.factorize(values)
    text = pd.Series(distinct, dtype=object).astype("string").fillna("")
    return index.astype(np.int64) + 1, [""] + list(text)


def due_from_sla(requested: pd.Series, amount: pd.Series, unit: pd.Series,
                 calendar: BusinessCalendar) -> pd.Series:
    """Due times of ``requested`` under per-row SLAs (``unit`` None: NaT)."""
    due = pd.Series(pd.NaT, index=requested.index, dtype=requested.dtype)
    for u, add in (("hours", None), ("calendar_days", calendar.add_calendar_days),
                   ("business_days", calendar.add_business_days)):
        m = (unit == u).fillna(False).to_numpy(dtype=bool)
        if not m.any():
            continue
        n = amount[m].to_numpy(dtype=float)
        if add is None:
            due[m] = requested[m] + pd.to_timedelta(n * 3600, unit="s")
        else:
            due[m] = add(requested[m], n).dt.tz_convert(requested.dt.tz)
    return due


def due_for(requested: pd.Series, sla: Sla, calendar: BusinessCalendar) -> pd.Series:
    """Due times of ``requested`` under one SLA (a standard's promise)."""
    amount = pd.Series(sla.amount, index=requested.index)
    unit = pd.Series(sla.unit, index=requested.index)
    return due_from_sla(requested, amount, unit, calendar)


def _due_times(df: pd.DataFrame, department: Department, calendar: BusinessCalendar):
    sla = sla_table(df, department)
    due = due_from_sla(df["_req"], sla["amount"], sla["unit"], calendar)
    source = pd.Series(False, index=df.index)
    if "due_at" in df.columns:
        source = df["due_at"].notna()
        due = df["due_at"].dt.tz_convert(df["_req"].dt.tz).where(source, due)
    kind = np.where(source, "source", np.where(due.notna(), "params", "none"))
    return due, pd.Series(kind, index=df.index)


# ---- period masks --------------------------------------------------------------------------

def _bounds(period: Period, calendar: BusinessCalendar) -> tuple[pd.Timestamp, pd.Timestamp]:
    if period.tz is None:
        period = period.with_tz(calendar.tz)
    return period.start, period.end


def open_at(df: pd.DataFrame, t: pd.Timestamp) -> pd.Series:
    """Open at ``t``: ``requested_at < t`` and not ended at or before ``t`` (prepared frame)."""
    return (df["_req"] < t) & ~(df["_end"] <= t).fillna(False)


def created_in(df: pd.DataFrame, s, e) -> pd.Series:
    return (df["_req"] >= s) & (df["_req"] < e)


def ended_in(df: pd.DataFrame, s, e) -> pd.Series:
    """Ended in ``(s, e]``; zero/negative durations count in their creation's period."""
    after = (df["_end"] > s) & (df["_end"] <= e) & df["_pos"]
    instant = df["_end"].notna() & ~df["_pos"] & created_in(df, s, e)
    return (after | instant).fillna(False)


def closed_in(df: pd.DataFrame, s, e) -> pd.Series:
    return ended_in(df, s, e) & (df["status"] == "closed")


# ---- the headline ----------------------------------------------------------------------------

def department_summary(requests, department: Department, period: Period,
                       calendar: BusinessCalendar, as_of=None) -> dict:
    """Headline figures of one department for one period.

    Returns a dict with ``department``, ``period`` and every id of :data:`METRICS` except the
    standards family (see :func:`standards_report`): counts as ints, rates and durations as
    floats or ``None`` when undefined. ``created_change_*`` compare with the prior period and the
    same period a year earlier.
    """
    prep = prepare(requests, department, calendar, as_of)
    out = _summary(prep, period)
    created_prior = _created(prep, period.prior())
    created_year = _created(prep, period.year_ago())
    out["created_change_prior"] = _change(out["created"], created_prior)
    out["created_change_year"] = _change(out["created"], created_year)
    return out


def _created(prep: Prepared, period: Period) -> int:
    s, e = (_ns(t) for t in _bounds(period, prep.calendar))
    req = prep.arrays["req"]
    return _n((req >= s) & (req < e))


def _change(now: int, before: int) -> float | None:
    return None if before == 0 else now / before - 1


def _summary(prep: Prepared, period: Period, a: dict | None = None) -> dict:
    """The headline of one period, on the prepared numpy columns (same rules as the frame
    masks :func:`created_in`, :func:`ended_in`, :func:`open_at`); ``a``: a row subset of
    ``prep.arrays`` (default all rows)."""
    a = prep.arrays if a is None else a
    s, e = (_ns(t) for t in _bounds(period, prep.calendar))
    created = (a["req"] >= s) & (a["req"] < e)
    ended = a["has_end"] & np.where(a["pos"], (a["end"] > s) & (a["end"] <= e), created)
    closed = ended & a["closed"]
    neg = ended & a["neg"]
    usable = closed & ~a["dup"] & ~neg
    out = {"department": prep.department.slug, "period": period.label,
           "created": _n(created), "closed": _n(closed),
           "cancelled": _n(ended & a["cancelled"]), "duplicates_closed": _n(closed & a["dup"]),
           "negative_durations": _n(neg), "undated_closures": _n(ended & a["undated"]),
           "no_sla_closed": _n(usable & ~a["has_due"])}
    out.update(_on_time(a, usable))
    out.update(_cohort(a, created, _ns(prep.as_of)))
    out.update(_durations(a, usable))
    out.update(_backlog(a, s, e))
    return out


GROUP_COUNTS = ("created", "closed", "on_time_met", "on_time_eligible", "backlog_open",
                "overdue_open")


def counts_by(prep: Prepared, period: Period, column: str) -> tuple[list, dict[str, list]]:
    """Headline counts of ``period`` per value of ``column`` (e.g. ``district_council``).

    One pass over the prepared arrays, equal to :func:`department_summary` of each group's
    rows (the same masks as :func:`_summary`, counted per group). Groups are the values
    present, sorted; missing values form no group (as ``DataFrame.groupby``).

    Returns
    -------
    (list, dict)
        The group values, and for each name of :data:`GROUP_COUNTS` a list of int counts.
    """
    a = prep.arrays
    s, e = (_ns(t) for t in _bounds(period, prep.calendar))
    created = (a["req"] >= s) & (a["req"] < e)
    ended = a["has_end"] & np.where(a["pos"], (a["end"] > s) & (a["end"] <= e), created)
    closed = ended & a["closed"]
    eligible = closed & ~a["dup"] & ~(ended & a["neg"]) & a["has_due"]
    open_end = _open(a, e)
    masks = {"created": created, "closed": closed,
             "on_time_met": eligible & (a["end"] <= a["due"]), "on_time_eligible": eligible,
             "backlog_open": open_end, "overdue_open": open_end & (a["due"] < e)}
    codes, groups = pd.factorize(prep.frame[column], sort=True)
    ok = codes >= 0
    counts = {k: [int(x) for x in np.bincount(codes[ok & mask], minlength=len(groups))]
              for k, mask in masks.items()}
    return list(groups), counts


def _ns(ts) -> int:
    return pd.Timestamp(ts).as_unit("ns").value


def _n(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _on_time(a: dict, usable: np.ndarray) -> dict:
    eligible = usable & a["has_due"]
    n, m = _n(eligible), _n(eligible & (a["end"] <= a["due"]))
    return {"on_time_rate": _rate(m, n), "on_time_met": m, "on_time_eligible": n}


def _cohort(a: dict, created: np.ndarray, as_of: int) -> dict:
    base = created & ~a["cancelled"] & ~a["dup"] & a["has_due"] & ~a["neg"]
    closed = base & a["closed"] & (a["end"] <= as_of)  # closed later: still open at as_of
    n_met = _n(closed & (a["end"] <= a["due"]))
    n_late = _n(closed & (a["end"] > a["due"])) + _n(base & ~closed & (a["due"] < as_of))
    return {"cohort_on_time_rate": _rate(n_met, n_met + n_late), "cohort_on_time_met": n_met,
            "cohort_eligible": n_met + n_late, "cohort_pending": _n(base) - n_met - n_late}


def _stats(values: np.ndarray, prefix: str, suffix: str) -> dict:
    if len(values) == 0:
        return {f"{k}_{prefix}{suffix}": None for k in ("median", "p90", "mean")}
    q50, q90 = np.percentile(values, [50, 90])
    return {f"median_{prefix}{suffix}": float(q50), f"p90_{prefix}{suffix}": float(q90),
            f"mean_{prefix}{suffix}": float(values.mean())}


def _durations(a: dict, usable: np.ndarray) -> dict:
    out = _stats(a["days"][usable], "days", "_to_close")
    out.update(_stats(a["bdays"][usable], "business_days", "_to_close"))
    return out


def _open(a: dict, t: int) -> np.ndarray:
    return (a["req"] < t) & ~(a["end"] <= t)


def _backlog(a: dict, s: int, e: int) -> dict:
    open_end = _open(a, e)
    n_open, n_over = _n(open_end), _n(open_end & (a["due"] < e))
    return {"backlog_start": _n(_open(a, s)), "backlog_open": n_open,
            "overdue_open": n_over, "overdue_share": _rate(n_over, n_open),
            "backlog_no_sla": _n(open_end & ~a["has_due"])}


# ---- views for notebooks ---------------------------------------------------------------------

def trend(requests, department: Department, period: Period, calendar: BusinessCalendar,
          n: int = 13, as_of=None) -> pd.DataFrame:
    """Every summary metric over the ``n`` periods ending with ``period``.

    Returns
    -------
    DataFrame
        One row per period per metric: ``department, period, period_start, metric, value,
        numerator, denominator`` (the last two for rates, else NaN), oldest period first.
    """
    prep = prepare(requests, department, calendar, as_of)
    periods = period.trailing(n + 12)
    created = [_created(prep, p) for p in periods]
    rows = []
    for i, p in enumerate(periods[12:], start=12):
        summary = _summary(prep, p)
        summary["created_change_prior"] = _change(created[i], created[i - 1])
        summary["created_change_year"] = _change(created[i], created[i - 12])
        start = _bounds(p, calendar)[0]
        rows += [_trend_row(summary, p, start, k) for k in METRICS if k in summary]
    return pd.DataFrame(rows)


def _trend_row(summary: dict, period: Period, start, metric: str) -> dict:
    num = den = np.nan
    if metric in RATE_PARTS:
        num, den = (summary[k] for k in RATE_PARTS[metric])
    value = summary[metric]
    return {"department": summary["department"], "period": period.label, "period_start": start,
            "metric": metric, "value": np.nan if value is None else float(value),
            "numerator": num, "denominator": den}


def on_time_by_service(requests, department: Department, period: Period,
                       calendar: BusinessCalendar) -> pd.DataFrame:
    """Per service: SLA, closed, on-time rate, median days to close, backlog, overdue.

    Same definitions as :func:`department_summary`, restricted to each service; services of the
    department's params with no requests appear with zeros and n/a rates.
    """
    prep = prepare(requests, department, calendar)
    rows = []
    df = prep.frame
    codes = list(dict.fromkeys([s.code for s in department.services]
                               + sorted(df["service_code"].dropna().unique())))
    # each service's rows as a mask on the prepared arrays (no per-service frame)
    index, present = pd.factorize(df["service_code"])
    position = {code: i for i, code in enumerate(present)}
    for code in codes:
        rows_of = index == position.get(code, -2)
        svc = department.service(code)
        summary = _summary(prep, period, {k: v[rows_of] for k, v in prep.arrays.items()})
        rows.append({"service_code": code, "service_name": svc.name if svc else code,
                     "sla": str(svc.sla) if svc and svc.sla else "no SLA",
                     **{k: summary[k] for k in ("closed", "on_time_met", "on_time_eligible",
                                                "on_time_rate", "median_days_to_close",
                                                "backlog_open", "overdue_open",
                                                "no_sla_closed")}})
    return pd.DataFrame(rows)


SLA_BUCKETS = ("within SLA", "1-2x SLA", "over 2x SLA", "no SLA")
DAY_BUCKETS = ("0-7", "8-30", "31-90", "90+")


def aging(requests, department: Department, period: Period,
          calendar: BusinessCalendar) -> pd.DataFrame:
    """Requests open at period end, bucketed by age relative to SLA and in days.

    Age = period end - requested_at. SLA buckets: within SLA (end <= due), 1-2x SLA (age up to
    twice the time allowed), over 2x SLA, no SLA. Day buckets use whole days of age:
    0-7, 8-30, 31-90, 90+ (91 days and more).

    Returns
    -------
    DataFrame
        ``scheme`` (``sla``/``days``), ``bucket``, ``requests``, ``share`` (of the open backlog;
        NaN when nothing is open); every bucket present, in order.
    """
    prep = prepare(requests, department, calendar)
    df = prep.frame
    _, e = _bounds(period, calendar)
    live = df[open_at(df, e)]
    age = (e - live["_req"]).dt.total_seconds()
    allowed = (live["_due"] - live["_req"]).dt.total_seconds()
    sla = np.select([live["_due"].isna(), live["_due"] >= e, age <= 2 * allowed],
                    ["no SLA", "within SLA", "1-2x SLA"], "over 2x SLA")
    days = np.floor(age / 86400)
    day = np.select([days <= 7, days <= 30, days <= 90], DAY_BUCKETS[:3], DAY_BUCKETS[3])
    return pd.concat([_bucket_counts("sla", sla, SLA_BUCKETS),
                      _bucket_counts("days", day, DAY_BUCKETS)], ignore_index=True)


def _bucket_counts(scheme: str, values, order) -> pd.DataFrame:
    counts = pd.Series(values, dtype="object").value_counts().reindex(order, fill_value=0)
    total = counts.sum()
    return pd.DataFrame({"scheme": scheme, "bucket": list(order),
                         "requests": counts.to_numpy(dtype=int),
                         "share": counts.to_numpy() / total if total else np.nan})


def time_to_close_distribution(requests, department: Department, period: Period,
                               calendar: BusinessCalendar) -> pd.DataFrame:
    """One row per request closed in the period (excl. duplicates, negative durations):
    ``request_id, service_code, days_to_close, business_days_to_close, due_at, on_time``
    (``on_time`` is NA without a due time)."""
    prep = prepare(requests, department, calendar)
    df = prep.frame
    s, e = _bounds(period, calendar)
    usable = closed_in(df, s, e) & ~df["_dup"] & ~df["_neg"]
    sub = df[usable]
    on_time = (sub["_end"] <= sub["_due"]).astype("boolean").where(sub["_due"].notna())
    return pd.DataFrame({"request_id": sub["request_id"], "service_code": sub["service_code"],
                         "days_to_close": sub["_days"], "business_days_to_close": sub["_bdays"],
                         "due_at": sub["_due"], "on_time": on_time}).reset_index(drop=True)


def standards_report(requests, department: Department, period: Period,
                     calendar: BusinessCalendar, fees: pd.Series | None = None) -> pd.DataFrame:
    """Customer service standards: compliance and redress owed, one row per standard.

    compliance = met / closed, over requests of the standard's services closed in the period
    (excl. duplicates and negative durations), against the standard's own promise (``within``,
    not the service SLA or source ``due_at``). A late request owes
    ``fee x min(cap, per_business_day_late x business days late + per_calendar_day_late x
    calendar days late)`` (``fee x cap`` when no rate is set); business days late are business
    days from the due date to the close date inclusive, calendar days late are whole days
    (rounded up), each at least 1. The fee is the row's ``redress.fee_column`` value, else
    ``redress.fee``; ``redress_dollars`` is None when no late request has a known fee.
    """
    prep = prepare(requests, department, calendar)
    rows = [_standard_row(prep, st, period) for st in department.standards]
    cols = ["standard", "promise", "services", "within", "target", "closed", "met",
            "standard_compliance", "redress_count", "redress_dollars", "fee_unknown"]
    return pd.DataFrame(rows, columns=cols)


def _standard_row(prep: Prepared, st, period: Period) -> dict:
    df, cal = prep.frame, prep.calendar
    codes = {prep.department.service(s).code for s in st.services if prep.department.service(s)}
    s, e = (_ns(t) for t in _bounds(period, cal))
    a = prep.arrays  # closed_in(df, s, e) & ~_dup & ~_neg, on the numpy columns
    ended = a["has_end"] & np.where(a["pos"], (a["end"] > s) & (a["end"] <= e),
                                    (a["req"] >= s) & (a["req"] < e))
    usable = (ended & a["closed"] & ~a["dup"] & ~a["neg"]
              & df["service_code"].isin(codes).to_numpy(dtype=bool))
    fee = st.redress.fee_column if st.redress and st.redress.fee_column in df.columns else None
    sub = df.loc[usable, list(dict.fromkeys(["_req", "_end"] + ([fee] if fee else [])))]
    due = due_for(sub["_req"], st.within, cal)
    late = sub["_end"] > due
    dollars, unknown = _redress(sub[late], due[late], st.redress, cal)
    met = int((~late).sum())
    return {"standard": st.id, "promise": st.promise, "services": ", ".join(st.services),
            "within": str(st.within), "target": st.target, "closed": len(sub), "met": met,
            "standard_compliance": _rate(met, len(sub)), "redress_count": int(late.sum()),
            "redress_dollars": dollars, "fee_unknown": unknown}


def _redress(late: pd.DataFrame, due: pd.Series, redress, cal: BusinessCalendar):
    if redress is None:
        return None, 0
    fee = pd.Series(redress.fee if redress.fee is not None else np.nan, index=late.index,
                    dtype=float)
    if redress.fee_column and redress.fee_column in late.columns:
        fee = pd.to_numeric(late[redress.fee_column], errors="coerce").fillna(fee)
    cdays = np.maximum(1, np.ceil((late["_end"] - due).dt.total_seconds() / 86400))
    due_dates, end_dates = cal.local_dates(due), cal.local_dates(late["_end"])
    hol = cal.holidays_for(np.concatenate([due_dates, end_dates]))
    bdays = np.maximum(1, np.busday_count(due_dates, end_dates + np.timedelta64(1, "D"),
                                          holidays=hol))
    rates = (redress.per_business_day_late, redress.per_calendar_day_late)
    units = (rates[0] or 0) * bdays + (rates[1] or 0) * cdays
    share = np.minimum(redress.cap, units) if any(r is not None for r in rates) else redress.cap
    owed = fee * share
    known = fee.notna()
    if len(late) == 0:
        fee_known = redress.fee is not None or bool(redress.fee_column)
        return (0.0 if fee_known else None), 0
    return (float(owed[known].sum()) if known.any() else None), int((~known).sum())
