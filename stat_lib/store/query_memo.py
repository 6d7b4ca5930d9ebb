"""Store-wide answers kept beside the store until its file changes.

Every notebook of a batch asks the same store-wide questions (the city's latest change, every
department's fingerprint and data-quality counts): each is a scan of every row (a quarter to
half a second at six million rows). The first process to ask keeps the answer in
``<store folder>/cache/queries/<question>.json`` with the store's file state (size and
modification time of the DuckDB file and its write-ahead log); any later process reads it
while that state is unchanged. An ingest changes the state, so the next question scans again.
A home that cannot be written still gets its answers, computed each time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..core.atomic_write import write_text


def remembered(params, question: str, args: tuple, compute, encode=None, decode=None):
    """``compute()``'s answer to ``question`` with ``args``, read from the memo while the store
    is unchanged. ``encode``/``decode`` turn the answer into JSON values and back."""
    state = json.loads(json.dumps(file_state(params.store_path)))
    path = _path(params, question, args)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept["state"] == state and kept["args"] == _jsonable(args):
            return decode(kept["answer"]) if decode else kept["answer"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    answer = compute()
    try:
        value = encode(answer) if encode else answer
        write_text(path, json.dumps({"state": state, "args": _jsonable(args), "answer": value}))
    except OSError:
        pass  # a read-only home: answered, not kept
    return answer


def file_state(path: Path) -> tuple:
    """Size and mtime of the store and its write-ahead log (absent: None)."""
    out = []
    for p in (Path(path), Path(str(path) + ".wal")):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def _path(params, question: str, args: tuple) -> Path:
    digest = hashlib.sha256(repr((question, _jsonable(args))).encode()).hexdigest()[:16]
    return Path(params.store_path).parent / "cache" / "queries" / f"{question}-{digest}.json"


def _jsonable(args: tuple):
    return json.loads(json.dumps([str(a) if a is not None else None for a in args]))
