"""Child processes that end with their parent, even when the parent is killed with SIGKILL.

A batch's workers, kernel template and Chromium are children of ``stat-lib run``. When that
process is killed (``kill -9``, the OOM killer) nothing of it can clean up, so each child asks
the kernel to signal it when its parent dies (Linux ``PR_SET_PDEATHSIG``). Elsewhere the
children's own parent checks (ipykernel's poller, the template's loop) remain the fallback.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL, parent: int | None = None) -> bool:
    """Have this process receive ``sig`` when its parent exits; True when it is set.

    ``parent``: the pid the parent had when this process was made; if it is already gone
    (the parent died before this call), exit now rather than live on as an orphan.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    return done


def preexec(sig: int = signal.SIGKILL):
    """A ``subprocess.Popen(preexec_fn=...)`` that makes the child end with this process."""
    parent = os.getpid()

    def set_lifeline() -> None:
        die_with_parent(sig, parent)
    return set_lifeline if sys.platform.startswith("linux") else None
