"""The ``permits`` kind's metrics: the stop-clock, compliance with the standards, redress.

**Stop-clock** (the convention of the 311 business-day SLAs,
:mod:`stat_lib.core.business_calendar`):
the business days a permit took are the business days (Monday-Friday, not a city holiday) in
``(local date of the complete application, local date of issue]``, minus the business days in
any clock stop ``(local date of stop start, local date of stop end]`` (a stop with no end runs
to the issue date; overlapping stops count each day once). A permit complete on Monday and
issued on Tuesday took 1; complete and issued the same day, 0.

**Standard** (``permit_standards:`` in the department's params, one per permit type): met when
the business days taken are at most ``within_business_days``. Compliance = met / measured, over
permits issued in the period whose type has a standard and that have a complete-application
date (``no_complete_date`` permits are counted apart, never silently dropped).

**Redress** per late permit: ``fee x min(cap_percent, percent_per_day x business days late) /
100``, rounded to the cent; delivered = the data's ``redress_paid`` (0 when empty);
outstanding = owed - delivered, at least 0. A late permit with no fee owes an unknown amount
(counted in ``fee_unknown``). The ledger dates each late permit by its issue month.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.periods import Period
from ..params.models import Department
from .registry import Metric, register
from .windows import Window, ints

ONE = np.timedelta64(1, "D")
LEDGER = ["permit_id", "permit_type", "issued_month", "business_days", "within", "days_late",
          "fee", "percent", "owed", "delivered", "outstanding"]


def stop_clock(permits: pd.DataFrame, stops: pd.DataFrame,
               calendar: BusinessCalendar) -> pd.DataFrame:
    """Per permit: ``open_days`` (business days complete -> issue), ``stopped_days`` and
    ``business_days`` (= open - stopped); NaN when not issued or no complete date."""
    start = calendar.local_dates(permits["complete_at"])
    end = calendar.local_dates(permits["issued_at"])
    ok = ~np.isnat(start) & ~np.isnat(end)
    hol = calendar.holidays_for(np.concatenate([start[ok], end[ok]]))
    total = np.full(len(permits), np.nan)
    total[ok] = np.busday_count(start[ok] + ONE, end[ok] + ONE, holidays=hol)
    stopped = _stopped(permits, stops, start, end, ok, calendar)
    out = pd.DataFrame({"open_days": total, "stopped_days": np.where(ok, stopped, np.nan)},
                       index=permits.index)
    out["business_days"] = out["open_days"] - out["stopped_days"]
    return out


def _stopped(permits, stops, start, end, ok, calendar) -> np.ndarray:
    """Business days inside ``(start, end]`` covered by at least one stop, per permit."""
    out = np.zeros(len(permits))
    if stops.empty or not ok.any():
        return out
    row = pd.Series(np.arange(len(permits)), index=permits["permit_id"].to_numpy())
    row = row[~row.index.duplicated()]
    sub = stops[stops["permit_id"].isin(row.index)]
    idx = row.loc[sub["permit_id"]].to_numpy()
    s = calendar.local_dates(sub["stop_start"])
    e = calendar.local_dates(sub["stop_end"])
    e = np.where(np.isnat(e), end[idx], e)  # still stopped: to the issue date
    lo, hi = np.maximum(s, start[idx]), np.minimum(e, end[idx])
    use = ok[idx] & ~np.isnat(lo) & ~np.isnat(hi) & (hi > lo)
    days = [(i, np.arange(a + ONE, b + ONE)) for i, a, b in zip(idx[use], lo[use], hi[use])]
    if not days:
        return out
    perm = np.concatenate([np.full(len(d), i) for i, d in days])
    dates = np.concatenate([d for _, d in days]).astype("datetime64[D]")
    pairs = np.unique(np.stack([perm, dates.astype(np.int64)]), axis=1)  # each day once
    busy = np.is_busday(pairs[1].astype("datetime64[D]"), holidays=calendar.holidays_for(dates))
    np.add.at(out, pairs[0][busy], 1)
    return out


def _standards(permits: pd.DataFrame, department: Department) -> pd.DataFrame:
    by_type = {s.type: s for s in department.permit_standards}
    std = [by_type.get(t) for t in permits["permit_type"]]
    red = [s.redress if s else None for s in std]
    return pd.DataFrame({
        "within": [float(s.within_business_days) if s else np.nan for s in std],
        "percent_per_day": [r.percent_per_day if r else np.nan for r in red],
        "cap_percent": [r.cap_percent if r else np.nan for r in red]}, index=permits.index)


def permit_table(permits: pd.DataFrame, stops: pd.DataFrame, department: Department,
                 calendar: BusinessCalendar) -> pd.DataFrame:
    """Every permit with its stop-clock, standard, lateness and redress (see the module)."""
    df = pd.concat([permits, stop_clock(permits, stops, calendar),
                    _standards(permits, department)], axis=1)
    df["measured"] = df["business_days"].notna() & df["within"].notna()
    df["met"] = df["measured"] & (df["business_days"] <= df["within"])
    df["days_late"] = np.where(df["measured"], np.maximum(df["business_days"] - df["within"], 0),
                               np.nan)
    late = df["measured"] & ~df["met"]
    pct = np.minimum(df["cap_percent"], df["percent_per_day"] * df["days_late"])
    df["percent"] = np.where(late, pct, np.nan)
    fee = pd.to_numeric(df["fee"], errors="coerce")
    df["owed"] = np.where(late, np.round(fee * df["percent"] / 100, 2), np.nan)
    paid = pd.to_numeric(df["redress_paid"], errors="coerce").fillna(0.0)
    df["delivered"] = np.where(late, paid, np.nan)
    df["outstanding"] = np.where(late, np.maximum(df["owed"] - paid, 0), np.nan)
    df["late"] = late
    local = df["issued_at"].dt.tz_localize(None)
    df["issued_month"] = local.dt.strftime("%Y-%m").where(df["issued_at"].notna())
    return df


@dataclass(frozen=True)
class PreparedPermits:
    """A department's permits with the stop-clock and redress computed once; windows on it."""

    table: pd.DataFrame
    department: Department
    calendar: BusinessCalendar

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Window arrays: a permit is created when received and ends when issued."""
        df = self.table
        req, end = ints(df["received_at"]), ints(df["issued_at"])
        out = {"req": req, "end": end, "has_end": df["issued_at"].notna().to_numpy(),
               "pos": end > req}
        for col in ("measured", "met", "late"):
            out[col] = df[col].to_numpy(dtype=bool)
        for col in ("business_days", "owed", "delivered", "outstanding"):
            out[col] = df[col].to_numpy(dtype=float)
        out["no_complete"] = (df["issued_at"].notna() & df["complete_at"].isna()).to_numpy()
        return out

    def window(self, period: Period) -> Window:
        return Window(self.arrays, period, self.calendar.tz, None)

    def issued_in(self, period: Period) -> pd.DataFrame:
        """The permits issued in ``period``."""
        return self.table[self.window(period).ended]


def prepare_permits(permits: pd.DataFrame, stops: pd.DataFrame, department: Department,
                    calendar: BusinessCalendar) -> PreparedPermits:
    """A department's permits (``stat_lib.store.permits.load_permits``) prepared once."""
    return PreparedPermits(permit_table(permits, stops, department, calendar), department,
                           calendar)


# -- views -----------------------------------------------------------------------------------

def permit_summary(prep: PreparedPermits, period: Period) -> dict:
    """Every permits metric of ``period`` (ids of the registry, kind ``permits``)."""
    from .registry import computed
    w = prep.window(period)
    return {"department": prep.department.slug, "period": period.label,
            **{m.id: w.value(m.id) for m in computed("permits")}}


def compliance_by_type(prep: PreparedPermits, period: Period) -> pd.DataFrame:
    """Per standard: issued, measured, met, compliance, median business days, redress."""
    issued = prep.issued_in(period)
    rows = []
    for st in prep.department.permit_standards:
        sub = issued[issued["permit_type"] == st.type]
        measured = sub[sub["measured"]]
        late = sub[sub["late"]]
        rows.append({"permit_type": st.type, "within": st.within_business_days,
                     "target": st.target, "issued": len(sub), "measured": len(measured),
                     "met": int(measured["met"].sum()),
                     "compliance": (measured["met"].mean() if len(measured) else None),
                     "median_business_days": (float(measured["business_days"].median())
                                              if len(measured) else None),
                     "late": len(late), "owed": _total(late["owed"]),
                     "outstanding": _total(late["outstanding"])})
    return pd.DataFrame(rows, columns=["permit_type", "within", "target", "issued", "measured",
                                       "met", "compliance", "median_business_days", "late",
                                       "owed", "outstanding"])


def clock_distribution(prep: PreparedPermits, period: Period, top: int = 20) -> pd.DataFrame:
    """Permits issued in ``period`` by business days taken (``top`` and more in one bucket)."""
    days = prep.issued_in(period)["business_days"].dropna().astype(int)
    labels = days.clip(upper=top).map(lambda d: f"{top}+" if d >= top else str(d))
    counts = labels.value_counts()
    order = [str(d) for d in range(top)] + [f"{top}+"]
    return pd.DataFrame({"business_days": order,
                         "permits": [int(counts.get(k, 0)) for k in order]})


def redress_ledger(prep: PreparedPermits, period: Period) -> pd.DataFrame:
    """The late permits issued in ``period``: owed by the schedule, delivered, outstanding."""
    late = prep.issued_in(period)
    return late.loc[late["late"], LEDGER].reset_index(drop=True)


def ledger_by_month(prep: PreparedPermits, end: Period | None = None,
                    months: int | None = None) -> pd.DataFrame:
    """Redress totals in dollars per issue month (late permits, owed, delivered, outstanding),
    every month with a late permit up to ``end`` (the last ``months`` when given)."""
    late = prep.table[prep.table["late"]]
    if end is not None:
        late = late[late["issued_at"] < end.end]
    g = late.groupby("issued_month")
    out = pd.DataFrame({"late": g.size(), "owed": g["owed"].sum(min_count=1),
                        "delivered": g["delivered"].sum(), "outstanding":
                        g["outstanding"].sum(min_count=1),
                        "fee_unknown": g["owed"].apply(lambda s: int(s.isna().sum()))})
    out = out.reset_index().rename(columns={"issued_month": "month"})
    return out.tail(months).reset_index(drop=True) if months else out


def _total(values: pd.Series) -> float | None:
    return float(values.sum()) if values.notna().any() else (0.0 if values.empty else None)


def _sum(w: Window, col: str) -> float:
    sel = w.ended & w.a["late"]
    values = w.a[col][sel]
    return float(np.nansum(values)) if len(values) else 0.0


# -- the registry ----------------------------------------------------------------------------

register(Metric("permits_received", "Permit applications received", "count", None,
                "permits with received_at in [s, e)", kind="permits",
                compute=lambda w: int(w.created.sum())))
register(Metric("permits_issued", "Permits issued", "count", None,
                "permits with issued_at in (s, e]", kind="permits",
                compute=lambda w: int(w.ended.sum())))
register(Metric("permits_pending", "Permit applications pending at period end", "count",
                "lower", "received before e and not issued at or before e", kind="permits",
                compute=lambda w: int(w.open_end.sum())))
register(Metric("permits_measured", "Permits measured against a standard", "count", None,
                "issued in the period, type with a permit standard, complete-application date "
                "known", kind="permits",
                compute=lambda w: int((w.ended & w.a["measured"]).sum())))
register(Metric("permits_met", "Permits issued within the standard", "count", "higher",
                "measured permits whose stop-clock business days <= within_business_days",
                kind="permits", compute=lambda w: int((w.ended & w.a["met"]).sum())))
register(Metric("permit_compliance", "Permits issued within the standard", "rate", "higher",
                "permits_met / permits_measured (stop-clock business days: weekends, city "
                "holidays and clock stops excluded)", kind="permits",
                numerator="permits_met", denominator="permits_measured"))
register(Metric("permits_no_complete_date", "Permits issued without a complete-application "
                "date", "count", "lower", "issued in the period, no complete_at: not measured",
                kind="permits", compute=lambda w: int((w.ended & w.a["no_complete"]).sum())))
register(Metric("median_permit_business_days", "Median business days to issue",
                "business_days", "lower", "median stop-clock business days of the measured "
                "permits issued in the period; None when none", kind="permits",
                compute=lambda w: (float(np.median(w.a["business_days"][w.ended & w.a[
                    "measured"]])) if (w.ended & w.a["measured"]).any() else None)))
register(Metric("permits_late", "Permits issued late", "count", "lower",
                "measured permits issued in the period past their standard", kind="permits",
                compute=lambda w: int((w.ended & w.a["late"]).sum())))
register(Metric("permit_redress_owed", "Redress owed", "dollars", "lower",
                "sum over late permits issued in the period of fee x min(cap, percent per day "
                "x business days late) / 100; late permits without a fee add nothing",
                kind="permits", compute=lambda w: _sum(w, "owed")))
register(Metric("permit_redress_delivered", "Redress delivered", "dollars", None,
                "sum of redress_paid over late permits issued in the period", kind="permits",
                compute=lambda w: _sum(w, "delivered")))
register(Metric("permit_redress_outstanding", "Redress outstanding", "dollars", "lower",
                "sum over late permits issued in the period of max(owed - delivered, 0)",
                kind="permits", compute=lambda w: _sum(w, "outstanding")))


def permit_trend(prep: PreparedPermits, period: Period, n: int = 13) -> pd.DataFrame:
    """Every permits metric over the ``n`` periods to ``period``, in the long form of
    :func:`stat_lib.metrics.trend` (``department, period, period_start, metric, value,
    numerator, denominator``), so :func:`stat_lib.metrics.scoring.what_moved` reads it."""
    from .registry import rate_parts
    from .windows import bounds
    parts = rate_parts()
    rows = []
    for p in period.trailing(n):
        s = permit_summary(prep, p)
        start = bounds(p, prep.calendar.tz)[0]
        for k, v in s.items():
            if k in ("department", "period"):
                continue
            num, den = (s[x] for x in parts[k]) if k in parts else (np.nan, np.nan)
            rows.append({"department": prep.department.slug, "period": p.label,
                         "period_start": start, "metric": k,
                         "value": np.nan if v is None else float(v),
                         "numerator": num, "denominator": den})
    return pd.DataFrame(rows, columns=["department", "period", "period_start", "metric",
                                       "value", "numerator", "denominator"])
