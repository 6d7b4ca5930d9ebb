"""The hook for "Since last session": sections that report on the previous session's commitments.

The sessions kind registers its renderer here (``register(fn)``, ``fn(params, departments,
period) -> str`` of escaped HTML for those department slugs); a roundtable packet shows it once
for its whole group. With nothing registered the packet says that commitments are not tracked.
"""

from __future__ import annotations

from collections.abc import Callable

Section = Callable[..., str]
SINCE_LAST_SESSION: list[Section] = []


def register(fn: Section) -> Section:
    """Add a "since last session" renderer (decorator)."""
    SINCE_LAST_SESSION.append(fn)
    return fn


def since_last_session_html(params, departments: list[str], period) -> str | None:
    """Every registered renderer's HTML for ``departments``; None when none is registered."""
    if not SINCE_LAST_SESSION:
        return None
    return "".join(fn(params, departments, period) for fn in SINCE_LAST_SESSION)
