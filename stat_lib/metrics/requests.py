"""The ``requests`` kind's metrics: each registered once, computed on period windows.

Definitions shared by all of them (period ``[s, e)`` in the city's timezone; the window rules
are :mod:`stat_lib.metrics.windows`, the end, due and duplicate rules
:mod:`stat_lib.metrics.prepare`):

- **created in the period**: ``s <= requested_at < e``.
- **closed (cancelled) in the period**: ended in ``s < end <= e`` (an end at exactly midnight
  belongs to the day it ends). A request whose end is not after its creation (zero or negative
  duration) is counted in the period of its creation. With these, for every department and period,
  ``backlog_open = backlog_start + created - closed - cancelled`` exactly.
- **open at t**: ``requested_at < t`` and not ended at or before ``t``.
- **duplicates** count in volumes and backlog but not in on-time or time-to-close figures.
- **negative durations** are excluded from on-time, cohort, time-to-close and standards
  figures, and counted in ``negative_durations``.
- **no SLA**: no ``due_at`` and no SLA in params; counted apart.

Rates are ``None`` (rendered "n/a") when their denominator is zero, never 0 or 100%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.periods import Period
from ..params.models import Department
from .prepare import Prepared, prepare
from .registry import METRICS, Metric, computed, rate, rate_parts, register
from .windows import Window, bounds, ns, open_at, relevant


def _n(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


def _change(now: int, before: int) -> float | None:
    return None if before == 0 else now / before - 1


def cohort_masks(w: Window) -> dict[str, np.ndarray]:
    """Requests created in the period with a due time, by outcome at ``as_of``: masks
    ``met``, ``late`` and ``pending`` (the cohort metrics count them)."""
    def compute() -> dict:
        a, as_of = w.a, pd.Timestamp(w.as_of).as_unit("ns").value
        base = w.created & ~a["cancelled"] & ~a["dup"] & a["has_due"] & ~a["neg"]
        closed = base & a["closed"] & (a["end"] <= as_of)  # closed later: still open at as_of
        met = closed & (a["end"] <= a["due"])
        late = (closed & (a["end"] > a["due"])) | (base & ~closed & (a["due"] < as_of))
        return {"met": met, "late": late, "pending": base & ~met & ~late}
    return w.memo("_cohort_masks", compute)


def _cohort(w: Window) -> dict:
    """Counts of :func:`cohort_masks`: ``met``, ``eligible`` (met + late), ``pending``."""
    def compute() -> dict:
        m = cohort_masks(w)
        met, late = _n(m["met"]), _n(m["late"])
        return {"met": met, "eligible": met + late, "pending": _n(m["pending"])}
    return w.memo("_cohort", compute)


def _stat(column: str, which: str):
    """median / p90 (linear) / mean of ``column`` over the usable closures; None when none."""
    def compute(w: Window):
        values = w.a[column][w.usable]
        if len(values) == 0:
            return None
        if which == "mean":
            return float(values.mean())
        return float(np.percentile(values, 50 if which == "median" else 90))
    return compute


R, M = register, Metric
R(M("created", "Requests created", "count", None, "requests with s <= requested_at < e",
    compute=lambda w: _n(w.created), scorecard=True, tile="Requests received"))
R(M("closed", "Requests closed", "count", None, "status closed, ended in (s, e]",
    compute=lambda w: _n(w.closed), scorecard=True, tile="Closed"))
R(M("cancelled", "Requests cancelled", "count", None, "status cancelled, ended in (s, e]",
    compute=lambda w: _n(w.ended & w.a["cancelled"])))
R(M("duplicates_closed", "Duplicates closed", "count", None,
    "closed in the period and marked duplicate", compute=lambda w: _n(w.closed & w.a["dup"])))
R(M("negative_durations", "Closed before created", "count", None,
    "closed or cancelled in the period with end < requested_at",
    compute=lambda w: _n(w.negative)))
R(M("undated_closures", "Closed with no close time", "count", None,
    "closed/cancelled in the period whose end came from updated_at",
    compute=lambda w: _n(w.ended & w.a["undated"])))
R(M("no_sla_closed", "Closed with no SLA", "count", None,
    "closed in the period, not duplicate, no due_at and no SLA in params",
    compute=lambda w: _n(w.usable & ~w.a["has_due"])))
R(M("on_time_rate", "Closed on time", "rate", "higher",
    "on_time_met / on_time_eligible: closed in the period at or before the due time; excludes "
    "cancelled, duplicates, no SLA, negative durations",
    numerator="on_time_met", denominator="on_time_eligible", scorecard=True,
    tile="Closed on time"))
R(M("on_time_met", "Closed on time (count)", "count", "higher",
    "closed in the period at or before the due time",
    compute=lambda w: _n(w.eligible & (w.a["end"] <= w.a["due"]))))
R(M("on_time_eligible", "Closed with a due time", "count", None,
    "closed in the period, not duplicate, with a due time, duration >= 0",
    compute=lambda w: _n(w.eligible)))
R(M("cohort_on_time_rate", "Created this period, closed on time", "rate", "higher",
    "cohort_on_time_met / (met + late) among requests created in the period with a due time; "
    "excludes cancelled, duplicates, negative durations, and requests open at as_of and not "
    "yet due (cohort_pending)",
    numerator="cohort_on_time_met", denominator="cohort_eligible", scorecard=True))
R(M("cohort_on_time_met", "Cohort closed on time", "count", "higher",
    "created in the period and closed at or before the due time",
    compute=lambda w: _cohort(w)["met"]))
R(M("cohort_eligible", "Cohort with a known outcome", "count", None,
    "created in the period with a due time: on time or late so far",
    compute=lambda w: _cohort(w)["eligible"]))
R(M("cohort_pending", "Cohort still open, not yet due", "count", None,
    "created in the period, still open at as_of, due after as_of",
    compute=lambda w: _cohort(w)["pending"]))
R(M("median_days_to_close", "Median days to close", "days", "lower",
    "median of closed_at - requested_at (days) over closed in period, excluding duplicates and "
    "negative durations", compute=_stat("days", "median"), scorecard=True,
    tile="Median days to close"))
R(M("p90_days_to_close", "90th percentile days to close", "days", "lower",
    "90th percentile (linear) of the same durations", compute=_stat("days", "p90"),
    scorecard=True))
R(M("mean_days_to_close", "Mean days to close", "days", "lower", "mean of the same durations",
    compute=_stat("days", "mean")))
R(M("median_business_days_to_close", "Median business days to close", "business_days",
    "lower", "median of business days in (request date, close date]",
    compute=_stat("bdays", "median")))
R(M("p90_business_days_to_close", "90th percentile business days to close", "business_days",
    "lower", "90th percentile of the same business days", compute=_stat("bdays", "p90")))
R(M("mean_business_days_to_close", "Mean business days to close", "business_days", "lower",
    "mean of the same business days", compute=_stat("bdays", "mean")))
R(M("backlog_start", "Open at period start", "count", "lower", "open at s",
    compute=lambda w: _n(w.open_start)))
R(M("backlog_open", "Open at period end", "count", "lower", "open at e",
    compute=lambda w: _n(w.open_end), scorecard=True, tile="Open at period end"))
R(M("overdue_open", "Open and overdue at period end", "count", "lower",
    "open at e with a due time before e", compute=lambda w: _n(w.overdue_end),
    scorecard=True, tile="Overdue open"))
R(M("overdue_share", "Share of open requests overdue", "rate", "lower",
    "overdue_open / backlog_open", numerator="overdue_open", denominator="backlog_open"))
R(M("backlog_no_sla", "Open with no SLA", "count", None, "open at e with no due time",
    compute=lambda w: _n(w.open_end & ~w.a["has_due"])))
R(M("created_change_prior", "Created vs prior period", "rate", None,
    "created / created in the prior period - 1",
    compute=lambda w: _change(w.value("created"), w.prior.value("created"))))
R(M("created_change_year", "Created vs a year earlier", "rate", None,
    "created / created in the same period a year earlier - 1",
    compute=lambda w: _change(w.value("created"), w.year_ago.value("created"))))
# computed per standard by stat_lib.metrics.standards (tidy ids: <metric>.<standard id>)
R(M("standard_compliance", "Standard met", "rate", "higher",
    "closed in the period within the standard's promise / closed in the period for the "
    "standard's services (excl. duplicates, negatives)"))
R(M("redress_count", "Redress owed (requests)", "count", "lower",
    "closed in the period later than the standard's promise"))
R(M("redress_dollars", "Redress owed ($)", "dollars", "lower",
    "sum of fee x min(cap, rate x units late) over late requests with a known fee"))
del R, M


# ---- the headline ----------------------------------------------------------------------------

def summary(prep: Prepared, period: Period, arrays: dict | None = None) -> dict:
    """Every computed metric of one period: ``department``, ``period``, then the metric ids.

    ``arrays``: a row subset of ``prep.arrays`` (default all rows).
    """
    w = prep.values_window(period, arrays)
    return {"department": prep.department.slug, "period": period.label,
            **{m.id: w.value(m.id) for m in computed("requests")}}


def department_summary(requests, department: Department, period: Period,
                       calendar: BusinessCalendar, as_of=None) -> dict:
    """Headline figures of one department for one period.

    Returns a dict with ``department``, ``period`` and every id of :data:`METRICS` except the
    standards family (see :func:`~stat_lib.metrics.standards.standards_report`): counts as
    ints, rates and durations as floats or ``None`` when undefined. ``created_change_*``
    compare with the prior period and the same period a year earlier.
    """
    return summary(prepare(requests, department, calendar, as_of), period)


GROUP_COUNTS = ("created", "closed", "on_time_met", "on_time_eligible", "backlog_open",
                "overdue_open")


def counts_by(prep: Prepared, period: Period, column: str) -> tuple[list, dict[str, list]]:
    """Headline counts of ``period`` per value of ``column`` (e.g. ``district_council``).

    One pass over the prepared arrays with the window's masks, equal to
    :func:`department_summary` of each group's rows. Groups are the values present, sorted;
    missing values form no group (as ``DataFrame.groupby``).

    Returns
    -------
    (list, dict)
        The group values, and for each name of :data:`GROUP_COUNTS` a list of int counts.
    """
    w = prep.window(period)
    masks = {"created": w.created, "closed": w.closed,
             "on_time_met": w.eligible & (w.a["end"] <= w.a["due"]),
             "on_time_eligible": w.eligible, "backlog_open": w.open_end,
             "overdue_open": w.overdue_end}
    codes, groups = pd.factorize(prep.frame[column], sort=True)
    ok = codes >= 0
    counts = {k: [int(x) for x in np.bincount(codes[ok & mask], minlength=len(groups))]
              for k, mask in masks.items()}
    return list(groups), counts


DISTRICT_COLUMNS = ["key", "created", "closed", "on_time_met", "count", "on_time_rate",
                    "backlog_open", "overdue_open"]


def by_district(prep: Prepared, period: Period, layer: str) -> pd.DataFrame:
    """Headline figures per district of ``layer`` for one prepared department.

    ``count`` is the on-time rate's denominator. One vectorized pass (:func:`counts_by`),
    equal to ``department_summary`` of each district's rows.
    """
    keys, c = counts_by(prep, period, f"district_{layer}")
    rows = [{"key": key, "created": c["created"][i], "closed": c["closed"][i],
             "on_time_met": c["on_time_met"][i], "count": c["on_time_eligible"][i],
             "on_time_rate": rate(c["on_time_met"][i], c["on_time_eligible"][i]),
             "backlog_open": c["backlog_open"][i], "overdue_open": c["overdue_open"][i]}
            for i, key in enumerate(keys)]
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


def combine_districts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Several departments' :func:`by_district` tables summed per district key; ``value`` is
    the combined on-time rate (summed numerators / summed denominators; NaN when none)."""
    parts = [p for p in parts if len(p)] or parts[:1]  # an empty part's columns are objects
    total = pd.concat(parts).groupby("key", as_index=False).sum(numeric_only=True)
    total["value"] = (total["on_time_met"] / total["count"]).where(total["count"] > 0)
    return total


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
    parts = rate_parts()
    rows = []
    for p in period.trailing(n):
        values = summary(prep, p)
        start = bounds(p, calendar.tz)[0]
        rows += [_trend_row(values, p, start, k, parts) for k in METRICS if k in values]
    return pd.DataFrame(rows)


def _trend_row(values: dict, period: Period, start, metric: str, parts: dict) -> dict:
    num = den = np.nan
    if metric in parts:
        num, den = (values[k] for k in parts[metric])
    value = values[metric]
    return {"department": values["department"], "period": period.label, "period_start": start,
            "metric": metric, "value": np.nan if value is None else float(value),
            "numerator": num, "denominator": den}


SERVICE_COLUMNS = ("closed", "on_time_met", "on_time_eligible", "on_time_rate",
                   "median_days_to_close", "backlog_open", "overdue_open", "no_sla_closed")


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
    # each service's rows as a mask on the prepared arrays (no per-service frame), among
    # the rows the period's masks can select (windows.relevant; the columns below are of this
    # period alone)
    index, present = pd.factorize(df["service_code"])
    position = {code: i for i, code in enumerate(present)}
    s, e = (ns(t) for t in bounds(period, calendar.tz))
    near = relevant(prep.arrays["req"], prep.arrays["end"], s, e)
    arrays, near_index = {k: v[near] for k, v in prep.arrays.items()}, index[near]
    for code in codes:
        of = near_index == position.get(code, -2)
        svc = department.service(code)
        w = prep.window(period, {k: v[of] for k, v in arrays.items()})
        sla = department.sla_of(svc)
        rows.append({"service_code": code, "service_name": svc.name if svc else
                     _source_name(df["service_name"][index == position.get(code, -2)], code),
                     "sla": str(sla) if sla else "no SLA",
                     **{k: w.value(k) for k in SERVICE_COLUMNS}})
    return pd.DataFrame(rows)


def _source_name(names: pd.Series, code: str) -> str:
    """A service missing from params is shown by the source's own name (its most common)."""
    names = names.dropna()
    return str(names.mode().iloc[0]) if len(names) else code


SLA_BUCKETS = ("within SLA", "1-2x SLA", "over 2x SLA", "no SLA")
DAY_BUCKETS = ("0-7", "8-30", "31-90", "90+")


def open_requests(prep: Prepared, period: Period) -> pd.DataFrame:
    """The prepared rows open at the period's end."""
    return prep.frame[prep.window(period).open_end]


def open_ages(prep: Prepared, period: Period) -> np.ndarray:
    """Age in days (period end - requested_at) of each request open at the period's end."""
    live = open_requests(prep, period)
    return ((period.end - live["_req"]).dt.total_seconds() / 86400).to_numpy(dtype=float)


def overdue_requests(prep: Prepared, period: Period) -> pd.DataFrame:
    """Requests open and overdue at the period's end, most overdue first, with
    ``days_overdue`` = (period end - due time) in days."""
    df = prep.frame[prep.window(period).overdue_end].copy()
    df["days_overdue"] = (period.end - df["_due"]).dt.total_seconds() / 86400
    return df.sort_values("days_overdue", ascending=False)


def created_requests(prep: Prepared, period: Period) -> pd.DataFrame:
    """The prepared rows created in the period."""
    return prep.frame[prep.window(period).created]


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
    _, e = bounds(period, calendar.tz)
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
    sub = prep.frame[prep.window(period).usable]
    on_time = (sub["_end"] <= sub["_due"]).astype("boolean").where(sub["_due"].notna())
    return pd.DataFrame({"request_id": sub["request_id"], "service_code": sub["service_code"],
                         "days_to_close": sub["_days"], "business_days_to_close": sub["_bdays"],
                         "due_at": sub["_due"], "on_time": on_time}).reset_index(drop=True)
