"""Safe outputs: atomic writes and one run at a time per outputs folder.

Every file a batch writes goes to a temporary name in the same folder and is renamed into
place with ``os.replace`` (atomic on POSIX), so an interrupted run (Ctrl-C, SIGKILL, a full
disk) never leaves a truncated packet and the previous good file stays until a new good one
replaces it. ``outputs_lock`` holds an OS file lock (``filelock``; released by the kernel
when the process dies, so a killed run leaves no stale lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path

from .errors import OutputsBusyError

TMP_MARK = ".tmp-"
LOCK_NAME = ".stat-lib.lock"
HOLDER_NAME = ".stat-lib.lock.holder"


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


@contextlib.contextmanager
def outputs_lock(outputs: str | Path, timeout: float = 0):
    """Hold the lock of an outputs folder for the duration of a run.

    Parameters
    ----------
    outputs : path
        The outputs folder (``<home>/outputs``); created if missing.
    timeout : float
        Seconds to wait for another run to finish; 0 fails at once.

    Raises
    ------
    OutputsBusyError
        Another run still holds the lock after ``timeout`` seconds.
    """
    from filelock import FileLock, Timeout

    outputs = Path(outputs)
    outputs.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(outputs / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise OutputsBusyError(
            f"another stat-lib run is writing this outputs folder ({_holder(outputs)}); "
            f"waited {timeout:g} s. Let it finish and run again, or wait for it with "
            f"`stat-lib run --wait SECONDS` (nightly waits 15 min)",
            path=outputs) from None
    try:
        (outputs / HOLDER_NAME).write_text(f"pid {os.getpid()} since {time.strftime('%F %T')}")
        yield outputs
    finally:
        (outputs / HOLDER_NAME).unlink(missing_ok=True)
        lock.release()


def _holder(outputs: Path) -> str:
    try:
        return (outputs / HOLDER_NAME).read_text().strip()
    except OSError:
        return "holder unknown"
