"""Customer service standards: a promise per service group, compliance and the redress owed.

The ``standard_compliance``, ``redress_count`` and ``redress_dollars`` metrics are computed
here, one value per standard (``standard_compliance.<id>`` in tidy figures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.periods import Period
from ..params.models import Department
from .prepare import Prepared, due_for, prepare
from .registry import rate


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
    usable = (prep.window(period).usable
              & df["service_code"].isin(codes).to_numpy(dtype=bool))
    fee = st.redress.fee_column if st.redress and st.redress.fee_column in df.columns else None
    sub = df.loc[usable, list(dict.fromkeys(["_req", "_end"] + ([fee] if fee else [])))]
    due = due_for(sub["_req"], st.within, cal)
    late = sub["_end"] > due
    dollars, unknown = _redress(sub[late], due[late], st.redress, cal)
    met = int((~late).sum())
    return {"standard": st.id, "promise": st.promise, "services": ", ".join(st.services),
            "within": str(st.within), "target": st.target, "closed": len(sub), "met": met,
            "standard_compliance": rate(met, len(sub)), "redress_count": int(late.sum()),
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
