"""The run manifest (``outputs/<period>/manifest.json``) and the input hashes behind skips.

A contract between layers: the batch (``stat_lib.run``) writes it, the index pages
(``stat_lib.present.index_pages``) read it, so it lives in core. Import-light on purpose: the
"nothing changed" re-run path imports it, so it uses the standard library only.

A notebook's summary (``stat_lib.present.summary``) becomes its entry's ``summary``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
STATUSES = ("ok", "failed", "skipped")


@dataclass
class Entry:
    """One notebook run of a period, as written to ``manifest.json``.

    ``html``/``pdf``/``notebook`` are file names relative to the period folder; ``failed_notebook``
    is the executed notebook kept for diagnosis when ``status`` is ``failed``.
    """

    department: str
    notebook: str
    parameters: dict
    status: str
    seconds: float
    html: str | None
    pdf: str | None
    error: str | None
    input_hash: str
    summary: dict | None = None
    template: str | None = None
    failed_notebook: str | None = None
    failed_html: str | None = None
    attempts: int = 0
    ran_at: str | None = None
    inputs: dict = field(default_factory=dict)  # the hashed parts, to tell why a notebook re-ran
    extra: dict = field(default_factory=dict)
    slides: str | None = None  # the deck (``stat-lib run --slides``)

    def to_dict(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        for key in ("summary", "slides"):  # absent rather than null
            if data[key] is None:
                data.pop(key)
        return {**data, **extra}

    @classmethod
    def from_dict(cls, data: dict) -> "Entry":
        known = set(cls.__dataclass_fields__) - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in known},
                   extra={k: v for k, v in data.items() if k not in known})


def read_manifest(period_dir: str | Path) -> dict:
    """The manifest of a period folder as a dict (``{}`` when missing or unreadable)."""
    path = Path(period_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def previous_entries(period_dir: str | Path) -> dict[str, Entry]:
    """Entries of the last manifest of a period folder, by department slug."""
    runs = read_manifest(period_dir).get("runs", [])
    return {r["department"]: Entry.from_dict(r) for r in runs
            if isinstance(r, dict) and "department" in r}


def manifest_document(period: str, entries: list[Entry], meta: dict) -> dict:
    """The JSON document written to ``manifest.json``."""
    return {"manifest_version": MANIFEST_VERSION, "period": period, **meta,
            "runs": [e.to_dict() for e in entries]}


# --- input hashes -------------------------------------------------------------------------

# Answers kept for one planning pass (``one_pass``): None outside a pass.
_PASS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("stat_lib_pass",
                                                                    default=None)


@contextlib.contextmanager
def one_pass():
    """Inside, each digest and store fingerprint is computed once (``once``) and read again.

    The batch's plan asks every run of a period for the same files and store-wide queries; a
    pass ends with the plan, so whatever changes afterwards is read afresh by the next one.
    """
    token = _PASS.set({} if _PASS.get() is None else _PASS.get())
    try:
        yield
    finally:
        _PASS.reset(token)


def once(key: tuple, compute):
    """``compute()``, or inside ``one_pass`` the answer an earlier call with ``key`` got."""
    memo = _PASS.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def file_digest(path: str | Path) -> str:
    """sha256 of one file's bytes (``missing`` when it does not exist)."""
    return once(("file", str(path)), lambda: _file_digest(path))


def _file_digest(path: str | Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def tree_digest(root: str | Path, pattern: str = "**/*") -> str:
    """sha256 over the relative names and bytes of every file under ``root``."""
    return once(("tree", str(root), pattern), lambda: _tree_digest(root, pattern))


def _tree_digest(root: str | Path, pattern: str) -> str:
    root = Path(root)
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(x for x in root.glob(pattern) if x.is_file()
                        and "__pycache__" not in x.parts):
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            h.update(file_digest(p).encode())
    return h.hexdigest()


_LIB_DIGEST: str | None = None


def library_digest() -> str:
    """stat_lib's version plus a hash of its source files (cached per process)."""
    global _LIB_DIGEST
    if _LIB_DIGEST is None:
        import stat_lib
        root = Path(stat_lib.__file__).parent  # every module of every layer
        _LIB_DIGEST = f"{stat_lib.__version__}:{tree_digest(root, '**/*.py')}"
    return _LIB_DIGEST


def input_hash(parts: dict) -> str:
    """sha256 of a JSON rendering of ``parts`` (keys sorted), the entry's ``input_hash``."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
