"""Typed jobs and results: what the batch hands an executor, and what comes back.

Both are plain dataclasses (picklable for the Dask executor); nothing mutates a job in
flight: a retry or an executor's own settings are a copy made with :meth:`Job.but`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Job:
    """One notebook run: which notebook, its parameters, where it writes, its limits.

    ``department`` is the run's slug (a department, or ``citywide``); ``meta`` the cover
    values; ``ipc_root`` and ``kernel_template`` are set by the local executor (a private
    IPC folder, the warm kernel template's socket).
    """

    department: str
    kind: str
    notebook: Path
    out_dir: Path
    parameters: dict
    params: object
    meta: dict
    pdf: bool
    cell_timeout: int
    notebook_timeout: int
    cwd: Path
    kernel_name: str | None = None
    start_timeout: int = 60
    slides: bool = False  # also <slug>.slides.html (stat_lib.present.deck)
    ipc_root: str | None = None
    kernel_template: str | None = None
    keep_notebook: bool = True  # False (public edition): no executed notebook in out_dir
    evidence_dir: Path | None = None  # where a failed run's notebook goes (default out_dir)

    def but(self, **changes) -> Job:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)


@dataclass
class JobResult:
    """What one run did: ``status`` ok or failed, its files (names in the period folder),
    the error, the notebook's summary, and how many kernel starts it took."""

    status: str = "failed"
    seconds: float = 0.0
    html: str | None = None
    pdf: str | None = None
    slides: str | None = None
    error: str | None = None
    summary: dict | None = None
    failed_notebook: str | None = None
    failed_html: str | None = None
    attempts: int = 0
    out_of_space: bool = False  # the disk filled: the batch stops with OutOfSpace (exit 11)

    @classmethod
    def crashed(cls, job: Job, exc: BaseException) -> JobResult:
        """A worker that crashed (OOM-killed, pickling error) still yields a failed result."""
        return cls(error=f"worker crashed running {job.department}: "
                         f"{type(exc).__name__}: {exc}", attempts=1)
