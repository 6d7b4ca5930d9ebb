"""A period folder's own files: manifest.json, metrics.csv and the index pages.

``metrics.csv`` comes from the store, not from the notebooks, so the batch computes it in a
forked process (:class:`Background`) while the notebooks run.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ..core.atomic_write import write_json, write_text
from ..core.errors import OutOfSpace
from ..core.manifest import manifest_document

log = logging.getLogger("stat_lib.batch")


def write_period(params, period, period_dir, entries, meta, ran: int,
                  metrics: Background | None = None, write_files=None) -> list[str]:
    """manifest.json always; metrics.csv and the index pages when something ran or is missing.

    ``write_files(params, period, period_dir)`` writes metrics.csv (default
    :func:`write_metrics`; the public edition adds its open data)."""
    problems = []
    fresh = ran or not (period_dir / "metrics.csv").exists()
    write = write_files or write_metrics
    if metrics is not None:
        problems += _attempt("metrics.csv", metrics.result)
    elif fresh:
        problems += _attempt("metrics.csv", lambda: write(params, period, period_dir))
    doc = manifest_document(period.label, entries, meta)
    write_json(period_dir / "manifest.json", doc)
    if fresh or not (period_dir / "index.html").exists():
        problems += _attempt("index.html", lambda: _write_indexes(params, period_dir, doc, meta))
    return problems


def _attempt(what: str, fn) -> list[str]:
    try:
        fn()
        return []
    except OutOfSpace:
        raise
    except Exception as exc:
        log.error("could not write %s: %s", what, exc)
        return [f"{what}: {type(exc).__name__}: {exc}"]


class Background:
    """``fn(*args)`` in a forked process; ``result()`` waits and raises what it raised.

    ``gated``: the process is forked now (before the batch starts any thread: forking later,
    beside running threads, could copy a lock one of them holds) but waits for ``release()``
    (or ``result()``) before it calls ``fn``."""

    def __init__(self, fn, *args, gated: bool = False):
        import multiprocessing as mp
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.recv, send = ctx.Pipe(duplex=False)
        wait, self.go = ctx.Pipe(duplex=False) if gated else (None, None)
        self.proc = ctx.Process(target=_report_to, args=(send, fn, args, os.getpid(), wait),
                                daemon=True)
        self.proc.start()
        send.close()
        if wait is not None:
            wait.close()

    def release(self) -> None:
        """Let a gated process start (idempotent)."""
        if self.go is not None:
            self.go.send(True)
            self.go.close()
            self.go = None

    def result(self) -> None:
        self.release()
        self.proc.join()
        message = self.recv.recv() if self.recv.poll() else \
            f"the process computing it exited with code {self.proc.exitcode}"
        if isinstance(message, OutOfSpace):
            raise message
        if message:
            raise RuntimeError(message)

    def stop(self) -> None:
        """End the process without running ``fn`` if it has not started it.

        A gated process is told so through its gate: a SIGTERM sent just after the fork can
        be lost (the child clears the signals caught before Python's after-fork reset, while
        it still has the parent's handler), and it would then wait on its gate for ever."""
        if self.go is not None:
            try:
                self.go.send(False)
            except OSError:  # it has ended already (a Ctrl-C reaches the whole group)
                pass
            self.go.close()
            self.go = None
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(30)
        if self.proc.is_alive():  # a lost SIGTERM while computing: SIGKILL is never lost
            self.proc.kill()
            self.proc.join()


def _report_to(send, fn, args, parent: int, gate=None) -> None:
    import signal

    from ..core.lifeline import die_with_parent
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent=parent)
    try:
        if gate is not None and not _released(gate):
            return  # the batch ended without releasing it (stopped): nothing to compute
        fn(*args)
        send.send(None)
    except OutOfSpace as exc:
        send.send(OutOfSpace(exc.message, path=exc.path))
    except BaseException as exc:  # reported to the parent, which records a batch problem
        send.send(f"{type(exc).__name__}: {exc}")


def _released(gate) -> bool:
    try:
        return bool(gate.recv())
    except EOFError:
        return False


def write_metrics(params, period, period_dir: Path) -> None:
    from ..metrics.tidy import tidy_figures, to_csv
    write_text(period_dir / "metrics.csv", to_csv(tidy_figures(params, period)))


def _write_indexes(params, period_dir: Path, doc: dict, meta: dict) -> None:
    from ..present import index_pages
    index_pages.write_period_index(period_dir, doc["runs"], params, meta)
    index_pages.write_root_index(period_dir.parent, params.home)
