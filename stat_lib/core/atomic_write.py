"""Atomic writes: a reader never sees half a file.

Every file stat_lib writes for people (packets, index pages, manifests, metrics.csv, the
sample) goes to a temporary name in the same folder and is renamed into place with
``os.replace`` (atomic on POSIX), so an interrupted run (Ctrl-C, SIGKILL, a full disk) never
leaves a truncated file and the previous good one stays until a new good one replaces it.
``remove_stale_temps`` clears what a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

from .errors import out_of_space

TMP_MARK = ".tmp-"


def temp_path(path: str | Path) -> Path:
    """A unique temporary sibling of ``path`` (same folder, so ``os.replace`` is atomic).

    The suffix is kept (``.sanitation.tmp-<pid>-<hex>.html``) so tools that look at the
    extension (nbconvert, papermill, chromium) still recognise the file.
    """
    path = Path(path)
    return path.with_name(f".{path.stem}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
                          f"{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path to write; on success rename it onto ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched.
    A full disk raises :class:`~stat_lib.core.errors.OutOfSpace` naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp}: the writer produced no file for {path.name}")
        os.chmod(tmp, 0o666 & ~_umask())  # temp-file helpers create 0600; packets are shared
        os.replace(tmp, path)
    except Exception as exc:
        full = out_of_space(exc, path)
        if full is None or full is exc:
            raise
        raise full from exc
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete temporary files left by a killed run in ``folder``; call it holding the lock."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    # ours (.<stem>.tmp-<pid>-<hex><suffix>) and packets.write_atomic's (.<name>.<rand>.tmp)
    stale = [p for p in {*folder.glob(f".*{TMP_MARK}*"), *folder.glob(".*.tmp")} if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale
