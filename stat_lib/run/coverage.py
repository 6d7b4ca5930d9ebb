"""Is there data for a period? A run of a period the store does not reach is refused.

Without this check ``stat-lib run --period 2099-01`` wrote an "ok" packet of zeros claiming
26,780 days overdue. A period that starts after the newest request, or ends before the oldest,
is refused with the span the store holds; ``--allow-empty`` runs it anyway (e.g. to show a new
city's empty packet). A period the data covers only in part is run (its packets say as of when).
"""

from __future__ import annotations

from ..core.errors import UsageError
from ..store import requested_span


def check_covered(params, period, allow_empty: bool = False) -> None:
    """Raise ``UsageError`` when the store holds no request in or before ``period``'s span."""
    if allow_empty:
        return
    oldest, newest = requested_span(params)
    p = period if period.tz else period.with_tz(params.city.timezone)
    if newest is None:
        raise UsageError("the store holds no requests; run `stat-lib ingest` first (or pass "
                         "--allow-empty to publish empty packets)")
    tz = params.city.timezone
    span = f"{oldest.tz_convert(tz):%Y-%m-%d} to {newest.tz_convert(tz):%Y-%m-%d}"
    if p.start > newest:
        raise UsageError(f"period {p} starts after the newest request in the store (the data "
                         f"spans {span}); choose a period the data covers, or pass "
                         f"--allow-empty to run it anyway")
    if p.end <= oldest:
        raise UsageError(f"period {p} ends before the oldest request in the store (the data "
                         f"spans {span}); choose a period the data covers, or pass "
                         f"--allow-empty to run it anyway")
