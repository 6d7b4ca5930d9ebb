"""Who a packet is for: the internal edition (personal data) or the public edition (none).

The same notebooks serve both; the batch passes ``audience`` as a notebook parameter and the
report classes ask their :class:`Audience` which sections and columns exist:

- internal: everything, and a cover notice that the packet holds personal data;
- public: no request ids, addresses, coordinates, individual requests, notes or reviews
  (KPI submission remarks), no executed notebooks; locations only as district counts with
  small counts withheld (:mod:`stat_lib.metrics.public_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import UsageError

# columns that name or place a person's request, or carry what people wrote
PERSONAL_COLUMNS = frozenset({"request_id", "address", "lat", "lon", "remark", "note",
                              "review", "comment", "comments", "owner", "notes"})


@dataclass(frozen=True)
class Audience:
    """``personal_data``: the edition may show what :data:`PERSONAL_COLUMNS` hold and single
    requests (markers, lists); ``notice``: the cover's line (``{n}``: the withholding
    threshold)."""

    name: str
    personal_data: bool
    notice: str

    @property
    def public(self) -> bool:
        return not self.personal_data

    def columns(self, cols: dict) -> dict:
        """A table's ``{column: heading}`` without the columns this audience may not see."""
        return cols if self.personal_data else {
            k: v for k, v in cols.items() if k not in PERSONAL_COLUMNS}

    def cover_notice(self, params) -> str:
        return self.notice.format(n=params.city.public.withhold_up_to)


INTERNAL = Audience("internal", True,
                    "Internal: this packet holds personal data (request ids, street addresses, "
                    "exact locations, notes). Not for publication; the public edition is "
                    "`stat-lib run --audience public`.")
PUBLIC = Audience("public", False,
                  "Public edition: no personal data. Locations are shown only as district "
                  "counts; counts of 1 to {n}, and cells that would reveal them, are withheld.")
AUDIENCES = {a.name: a for a in (INTERNAL, PUBLIC)}


def get_audience(name: str | Audience) -> Audience:
    """The audience named ``name``; an unknown name is a ``UsageError`` listing the known."""
    if isinstance(name, Audience):
        return name
    try:
        return AUDIENCES[name]
    except KeyError:
        raise UsageError(f"unknown audience {name!r}; expected one of: "
                         f"{', '.join(AUDIENCES)}") from None
