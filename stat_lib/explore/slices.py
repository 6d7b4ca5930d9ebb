"""Slices of a department's requests: by district, service and channel, as row masks.

A slice keeps the department's prepared rows (so the data's ``as_of`` and every rule are the
packet's) and restricts the period masks to the rows it selects, as the packet's per-service
table does. Each filter takes one value or a list; a value the department's rows and params do
not know is an error listing the known ones (a typo never gives a silent zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import UsageError

MISSING = "(missing)"  # the group of rows with no value (grouping never drops a row)
GROUPS = ("district", "service", "channel", "week")


@dataclass(frozen=True)
class Slice:
    """Which rows of a department: ``district`` (of boundary ``layer``), ``service`` (code or
    name), ``channel``; None keeps every row."""

    district: str | list | None = None
    layer: str | None = None
    service: str | list | None = None
    channel: str | list | None = None

    def mask(self, frame: pd.DataFrame, department, layers: list[str]) -> np.ndarray:
        """Rows of ``frame`` in this slice (bool array)."""
        keep = np.ones(len(frame), dtype=bool)
        if self.district is not None:
            col = district_column(self.layer, layers)
            keep &= _isin(frame[col], self.district, "district", f"layer {col[9:]!r}")
        if self.service is not None:
            keep &= _services(frame, self.service, department)
        if self.channel is not None:
            keep &= _isin(frame["channel"], self.channel, "channel", "these requests")
        return keep

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in (("district", self.district), ("service", self.service),
                                         ("channel", self.channel)) if v is not None]
        return ", ".join(parts) or "all requests"


def district_column(layer: str | None, layers: list[str]) -> str:
    """``district_<layer>``; default the first boundary layer of city.yaml."""
    if not layers:
        raise UsageError("no boundary layer in city.yaml (boundaries:), so there are no "
                         "districts to slice or group by")
    layer = layer or layers[0]
    if layer not in layers:
        raise UsageError(f"unknown boundary layer {layer!r}; city.yaml defines: "
                         f"{', '.join(layers)}")
    return f"district_{layer}"


def _values(value) -> list:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _isin(column: pd.Series, value, what: str, where: str) -> np.ndarray:
    wanted = _values(value)
    known = set(column.dropna().astype(str))
    unknown = [v for v in wanted if str(v) not in known and v != MISSING]
    if unknown:
        raise UsageError(f"unknown {what} {', '.join(map(repr, unknown))} in {where}; known: "
                         f"{', '.join(sorted(known)) or 'none'}")
    text = column.astype("string")
    hit = text.isin([str(v) for v in wanted]).fillna(False).to_numpy(dtype=bool)
    if MISSING in wanted:
        hit |= column.isna().to_numpy()
    return hit


def _services(frame: pd.DataFrame, value, department) -> np.ndarray:
    """Rows whose service code or name is one of ``value`` (params names resolve to codes)."""
    codes = []
    for v in _values(value):
        svc = department.service(v)
        in_rows = (frame["service_code"] == v).any() or (frame["service_name"] == v).any()
        if svc is None and not in_rows:
            known = sorted({*frame["service_name"].dropna(), *(s.name for s in
                                                               department.services)})
            raise UsageError(f"unknown service {v!r} in {department.slug}; known: "
                             f"{', '.join(known)}")
        codes += [v] + ([svc.code, svc.name, *svc.aliases] if svc else [])
    hit = frame["service_code"].isin(codes) | frame["service_name"].isin(codes)
    return hit.to_numpy(dtype=bool)


def group_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list]:
    """Codes of each row's group and the groups (in natural order, "2" before "10"; missing
    values form ``MISSING``, last)."""
    codes, found = pd.factorize(frame[column])
    order = sorted(range(len(found)), key=lambda i: _natural(str(found[i])))
    rank = np.empty(len(found) + 1, dtype=np.int64)
    rank[order], rank[-1] = np.arange(len(found)), -1
    codes, groups = rank[codes], [str(found[i]) for i in order]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(groups), codes)
        groups.append(MISSING)
    return codes, groups


def _natural(text: str) -> tuple:
    """Sort key: runs of digits compare as numbers ("CD 2" before "CD 10")."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)
