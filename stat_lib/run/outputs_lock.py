"""One run at a time per outputs folder.

``outputs_lock`` holds an OS file lock (``filelock``; released by the kernel when the process
dies, so a killed run leaves no stale lock) and records its holder for the busy message.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from ..core.errors import OutputsBusyError, out_of_space

LOCK_NAME = ".stat-lib.lock"
HOLDER_NAME = ".stat-lib.lock.holder"


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
        _note_holder(outputs)
        yield outputs
    finally:
        (outputs / HOLDER_NAME).unlink(missing_ok=True)
        lock.release()


def _note_holder(outputs: Path) -> None:
    """Who holds the lock, for the busy message; a full disk stops the run here, before work."""
    holder = outputs / HOLDER_NAME
    try:
        holder.write_text(f"pid {os.getpid()} since {time.strftime('%F %T')}")
    except OSError as exc:
        holder.unlink(missing_ok=True)
        full = out_of_space(exc, holder)
        if full is None:
            raise
        raise full from None


def _holder(outputs: Path) -> str:
    try:
        return (outputs / HOLDER_NAME).read_text().strip()
    except OSError:
        return "holder unknown"
