"""docs/reliability.md: every case of the reliability table is listed and names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"


def _rows() -> list[list[str]]:
    lines = [line for line in DOC.read_text().splitlines() if re.match(r"\| \w", line)]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]


def test_every_case_is_listed_once():
    numbers = [r[0] for r in _rows() if r[0].isdigit()]
    assert sorted(map(int, numbers)) == list(range(1, 56))


def test_every_named_test_exists():
    for row in _rows():
        named = re.findall(r"`(test_\w+\.py)::(test_\w+)`", row[-1])
        assert named, f"case {row[0]} names no test"
        for path, name in named:
            source = (ROOT / "tests" / path).read_text()
            assert re.search(rf"^def {name}\(", source, re.M), f"case {row[0]}: {path}::{name}"
