"""Small text helpers shared by every layer."""

from __future__ import annotations

import re


def slugify(text: str) -> str:
    """``'Bulky Items'`` -> ``'bulky-items'``."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "unnamed"
