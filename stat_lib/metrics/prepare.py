"""Preparing a department's requests once: end, due and duration columns every metric uses.

- **end time** of a request: ``closed_at`` for a closed one; ``closed_at`` else ``updated_at`` for a
  cancelled one (a closed one with no ``closed_at`` also falls back to ``updated_at`` and is counted
  in ``undated_closures``); open requests have none.
- **due time**: ``due_at`` from the source when present, else the service's SLA from params
  (:mod:`stat_lib.core.business_calendar` conventions), else the department's ``default_sla``;
  no ``due_at`` and no SLA: *no SLA*.
- **duplicates**: ``status_raw`` mentioning "duplicate" or a ``duplicate`` quality flag.
- **negative duration**: ended before created (or flagged ``closed_before_created`` by ingest,
  which keeps such rows with ``closed_at`` set to ``requested_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar
from ..core.errors import MetricError
from ..core.periods import Period, _cutoff
from ..params.models import Department, Sla
from .windows import Window, ints

REQUIRED = ("request_id", "service_code", "service_name", "status", "requested_at",
            "updated_at", "closed_at")
STATUSES = {"open", "closed", "cancelled"}


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
        out = {"req": ints(df["_req"]), "end": ints(df["_end"]), "due": ints(df["_due"]),
               "has_end": df["_end"].notna().to_numpy(), "has_due": df["_due"].notna().to_numpy(),
               "closed": (df["status"] == "closed").to_numpy(),
               "cancelled": (df["status"] == "cancelled").to_numpy(),
               "days": df["_days"].to_numpy(dtype=float),
               "bdays": df["_bdays"].to_numpy(dtype=float)}
        for col in ("pos", "neg", "dup", "undated"):
            out[col] = df[f"_{col}"].to_numpy(dtype=bool)
        return out

    def window(self, period: Period, arrays: dict | None = None) -> Window:
        """The masks of ``period`` over these rows (``arrays``: a row subset of ``arrays``)."""
        return Window(self.arrays if arrays is None else arrays, period, self.calendar.tz,
                      self.as_of)

    def values_window(self, period: Period, arrays: dict | None = None) -> Window:
        """A window for metric values only (:meth:`Window.cut`: its masks are not on these
        rows, but every value is the one :meth:`window` gives)."""
        return Window.cut(self.arrays if arrays is None else arrays, period,
                          self.calendar.tz, self.as_of)


def prepare(requests, department: Department, calendar: BusinessCalendar,
            as_of=None) -> Prepared:
    """Validate ``requests`` and compute the columns every metric uses.

    Parameters
    ----------
    requests : DataFrame or Prepared
        Canonical request columns (docs/architecture.md); rows of other departments are ignored
        when a ``department`` column is present.
    department : stat_lib.params.Department
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
    return _cutoff(as_of, tz) if as_of is not None else data_as_of(df)


def sla_table(requests: pd.DataFrame, department: Department) -> pd.DataFrame:
    """Per row: the params SLA ``amount`` and ``unit`` of its service (NaN/None without one)."""
    index, slas = _sla_codes(requests, department)
    amount = np.array([x.amount if x else np.nan for x in slas] + [np.nan])
    unit = np.array([x.unit if x else None for x in slas] + [None], dtype=object)
    return pd.DataFrame({"amount": amount[index], "unit": unit[index]}, index=requests.index)


def _sla_codes(requests: pd.DataFrame, department: Department) -> tuple[np.ndarray, list]:
    """Each row's index into the SLAs (``Sla`` or None) of its distinct (code, name) pairs."""
    (ci, codes), (ni, names) = (_distinct(requests[c]) for c in ("service_code", "service_name"))
    index, pairs = pd.factorize(ci * len(names) + ni)  # each distinct (code, name) once
    slas = []
    for pair in pairs:
        c, n = (codes[pair // len(names)] + "\x1f" + names[pair % len(names)]).split("\x1f", 1)
        svc = department.service(c) or department.service(n)
        slas.append(department.sla_of(svc))
    return index, slas


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes ``1..k`` of each row's value (0 when missing) and the ``k + 1`` texts
    (``astype("string")``, missing as ``""``)."""
    index, distinct = pd.factorize(values)
    text = pd.Series(distinct, dtype=object).astype("string").fillna("")
    return index.astype(np.int64) + 1, [""] + list(text)


UNITS = ("hours", "calendar_days", "business_days")
SLA_KINDS = pd.array(["source", "params", "none"], dtype="str")


def due_from_sla(requested: pd.Series, amount: pd.Series, unit: pd.Series,
                 calendar: BusinessCalendar) -> pd.Series:
    """Due times of ``requested`` under per-row SLAs (``unit`` None: NaT)."""
    code = np.full(len(requested), -1, dtype=np.int8)
    for k, u in enumerate(UNITS):
        code[(unit == u).fillna(False).to_numpy(dtype=bool)] = k
    return _due(requested, amount.to_numpy(dtype=float), code, calendar)


def _due(requested: pd.Series, amount: np.ndarray, code: np.ndarray,
         calendar: BusinessCalendar) -> pd.Series:
    """Due times under per-row SLAs: ``amount`` of ``UNITS[code]`` (code -1: NaT)."""
    due = _business_due(requested, amount, code == UNITS.index("business_days"), calendar)
    for u, add in (("hours", None), ("calendar_days", calendar.add_calendar_days)):
        m = code == UNITS.index(u)
        if not m.any():
            continue
        n = amount[m]
        if add is None:
            due[m] = requested[m] + pd.to_timedelta(n * 3600, unit="s")
        else:
            due[m] = add(requested[m], n).dt.tz_convert(requested.dt.tz)
    return due


def _business_due(requested: pd.Series, amount: np.ndarray, m: np.ndarray,
                  calendar: BusinessCalendar) -> pd.Series:
    """Business-day due times of the rows ``m`` (NaT elsewhere), in ``requested``'s dtype.

    The due instants are whole seconds (local midnights), so placing them as UTC values of
    ``requested``'s unit is exact; cheaper than a masked assignment over every row.
    """
    unit = f"datetime64[{requested.dt.unit}]"
    utc = np.full(len(requested), np.datetime64("NaT"), dtype=unit)
    if m.any():
        part = calendar.add_business_days(requested[m], amount[m])
        utc[m] = part.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype=unit)
    return pd.Series(utc, index=requested.index).dt.tz_localize("UTC").dt.tz_convert(
        requested.dt.tz)


def due_for(requested: pd.Series, sla: Sla, calendar: BusinessCalendar) -> pd.Series:
    """Due times of ``requested`` under one SLA (a standard's promise)."""
    amount = pd.Series(sla.amount, index=requested.index)
    unit = pd.Series(sla.unit, index=requested.index)
    return due_from_sla(requested, amount, unit, calendar)


def _due_times(df: pd.DataFrame, department: Department, calendar: BusinessCalendar):
    index, slas = _sla_codes(df, department)  # per distinct service, then per row
    amount = np.array([x.amount if x else np.nan for x in slas] + [np.nan])[index]
    code = np.array([UNITS.index(x.unit) if x else -1 for x in slas] + [-1], np.int8)[index]
    due = _due(df["_req"], amount, code, calendar)
    source = pd.Series(False, index=df.index)
    if "due_at" in df.columns:
        source = df["due_at"].notna()
        due = df["due_at"].dt.tz_convert(df["_req"].dt.tz).where(source, due)
    kind = np.where(source, 0, np.where(due.notna(), 1, 2))
    return due, pd.Series(SLA_KINDS.take(kind), index=df.index)  # a take: no per-row strings
