"""CSV lines DuckDB's reader cannot take as they are: a header naming a column twice, and a
stray (unbalanced) quote that would swallow the rest of the file into one field.

A stray quote is found by walking the physical lines: a line with an odd number of quotes
opens a quoted field, which a legitimate export closes within a few lines (a newline inside
an address or a description) with a record of the header's number of fields. When it does not
close that way, the opening line alone is the stray one: it is rewritten (same line number)
so the reader counts it as a malformed line and every other line loads; the original text is
kept for the rejects table.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from ..core.atomic_write import temp_path

MAX_RECORD_LINES = 50  # a quoted field spanning more physical lines than this is not one
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """The file is gzip-compressed (a ``.csv.gz`` export), told by its first bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_bytes(path: Path):
    """A binary handle on the file's text: decompressed when it is gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def open_text(path: Path, encoding: str, errors: str = "strict"):
    """A text handle on the file (decompressed when it is gzip), newlines as they are."""
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, errors=errors, newline="")


def plain_name(path: Path) -> str:
    """The file's name without a ``.gz`` (a decompressed copy's name)."""
    return path.name[:-3] if path.name.lower().endswith(".gz") else path.name


def header(path: Path, delimiter: str, encoding: str) -> list[str]:
    """The header row's field names."""
    with open_text(path, encoding, errors="replace") as fh:
        return next(csv.reader(fh, delimiter=delimiter), [])


def named_twice(names: list[str]) -> dict[str, list[int]]:
    """Column names given more than once (compared trimmed, ignoring case) -> 1-based places."""
    places: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        places.setdefault(name.strip().lower(), []).append(i)
    return {names[p[0] - 1].strip(): p for p in places.values() if len(p) > 1}


def isolate_stray_quotes(path: Path, delimiter: str, encoding: str):
    """A copy of ``path`` with each stray-quote line made malformed, and those lines.

    Returns ``(copy, {line number: original text})``; ``copy`` (uncompressed, also for a
    gzip file) is None when no line has a stray quote (the file's problem is another).
    """
    with open_text(path, encoding) as fh:
        lines = fh.read().splitlines(keepends=True)
    width = len(header(path, delimiter, encoding))
    stray, i = {}, 1  # line 1 is the header
    while i < len(lines):
        end = _record_end(lines, i, delimiter, width)
        if end is None:
            stray[i + 1] = lines[i].rstrip("\r\n")
            i += 1
        else:
            i = end
    if not stray:
        return None, {}
    for number in stray:  # quotes out, one field too many: the reader rejects the line
        lines[number - 1] = (lines[number - 1].rstrip("\r\n").replace('"', "")
                             + (delimiter + "~") * (width + 1) + "\n")
    copy = temp_path(path.with_name(plain_name(path)))  # written plain, read as such
    copy.write_text("".join(lines), encoding=encoding)
    return copy, stray


def _record_end(lines: list[str], start: int, delimiter: str, width: int) -> int | None:
    """The index after the record starting at ``lines[start]``, or None for a stray quote."""
    quotes, stop = 0, min(len(lines), start + MAX_RECORD_LINES)
    for j in range(start, stop):
        quotes += lines[j].count('"')
        if quotes % 2 == 0:
            if quotes == 0 or j == start:
                return j + 1
            fields = next(csv.reader(io.StringIO("".join(lines[start:j + 1])),
                                     delimiter=delimiter), [])
            return j + 1 if len(fields) == width else None
    return None
