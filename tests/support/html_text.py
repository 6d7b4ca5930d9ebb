"""What a reader sees in a packet's HTML: table rows as cell texts, and the text without tags."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    """Every body row (``<td>`` cells) of every table in ``html``, as the cells' text."""
    parser = _Rows()
    parser.feed(html)
    return [row for row in parser.rows if row]


def row_text(html: str) -> list[str]:
    """Each body row as its cells' text joined by `` | `` (for "this row is there" checks)."""
    return [" | ".join(row) for row in table_rows(html)]


def text(html: str) -> str:
    """``html`` as its text: tags removed, runs of whitespace as one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" )", ")")
