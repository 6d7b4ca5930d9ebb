"""The Dask executors: the batch on an existing ``distributed`` cluster.

``dask`` (the default) assumes no shared disk: each job goes out as a
:class:`stat_lib.run.job_bundle.Bundle` (its params, notebook, templates, notes and a snapshot
of the rows it reads), runs in a private home on the worker and comes back as bytes, which
the client writes atomically into the period folder (the batch holds the outputs lock).
``dask-shared-disk`` submits the job itself: every worker must see the home at the same path;
nothing is copied, so it is faster where a shared disk exists.

Before any job, every worker is asked for its stat_lib (version and source digest): a worker
without it, or with another, is an error naming the worker and the fix. A scheduler that cannot
be reached is a usage error (exit 2). A worker that dies mid-job (OOM, SIGKILL) is Dask's to
handle: the scheduler re-runs the job on another worker.
"""

from __future__ import annotations

import os
import time

from ..core.errors import MissingDependency, OutOfSpace, UsageError
from .jobs import Job, JobResult

CONNECT_TIMEOUT = "10s"
WORKER_WAIT = 60  # seconds for a first worker to join


def dask_executor(jobs: list[Job], *, scheduler=None, **_):
    """Ship each job to the cluster at ``scheduler``; write its packet files back here."""
    from .job_bundle import pack, run_shipped, write_back

    def submit(client, job):
        import dask
        # the bundle travels inside the task (not scattered): a worker killed mid-job leaves
        # the scheduler all it needs to re-run it elsewhere; its size is what the job reads
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "2GB"}):
            return client.submit(run_shipped, pack(job), pure=False, key=_key(job))

    def receive(job, value):
        result, written = value
        try:
            return write_back(job, result, written)
        except OutOfSpace as exc:
            return JobResult(error=str(exc), out_of_space=True, attempts=result.attempts)

    yield from _run(jobs, scheduler, submit, receive)


def dask_shared_disk_executor(jobs: list[Job], *, scheduler=None, **_):
    """Submit each job as it is: the workers read and write the home on a shared disk."""
    from .executors import run_job

    def submit(client, job):
        return client.submit(run_job, job, pure=False, key=_key(job))

    yield from _run(jobs, scheduler, submit, lambda job, result: result)


def _key(job: Job) -> str:
    return f"stat-lib-{job.department}-{os.getpid()}-{time.time_ns()}"


def _run(jobs, scheduler, submit, receive):
    from distributed import Client
    from distributed import as_completed as dask_completed

    if not jobs:
        return
    client = scheduler if isinstance(scheduler, Client) else connect(scheduler)
    try:
        check_workers(client)
        futures = {}
        for job in jobs:  # packing the next job overlaps the ones already running
            futures[submit(client, job)] = job
        for fut in dask_completed(list(futures)):
            job = futures[fut]
            try:
                value = fut.result()
            except Exception as exc:  # the job's worker died too often (KilledWorker)
                yield job, JobResult.crashed(job, exc)
                continue
            yield job, receive(job, value)
    finally:
        if client is not scheduler:
            client.close()


def connect(address):
    """A client of the scheduler at ``address``; unreachable -> ``UsageError`` (exit 2)."""
    from distributed import Client
    if not address:
        raise UsageError("executor 'dask' needs a scheduler address, e.g. tcp://10.0.0.5:8786")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} "
            f"({type(exc).__name__}: {exc}); start it (`dask scheduler`) or fix --scheduler "
            f"(the address it prints, e.g. tcp://10.0.0.5:8786)") from None


def check_workers(client) -> None:
    """Every worker runs this stat_lib (same version and sources), else
    ``MissingDependency`` (exit 8) naming each worker that does not and the fix."""
    from .. import __version__
    from ..core.manifest import library_digest

    if not client.scheduler_info().get("workers"):
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise UsageError(
                f"no Dask worker joined the scheduler at {client.scheduler.address} within "
                f"{WORKER_WAIT} s; start one (`dask worker {client.scheduler.address} "
                f"--nthreads 1`) and run again") from None
    ours = library_digest()
    found = client.run(library_digest, on_error="return")
    problems = [_problem(addr, theirs, ours) for addr, theirs in sorted(found.items())]
    problems = [p for p in problems if p]
    if problems:
        raise MissingDependency(
            "Dask worker(s) cannot run this batch: " + "; ".join(problems) +
            f". Fix: install stat-lib {__version__} from the same source as this client in "
            f"every worker's environment (pip install stat-lib=={__version__}) and restart "
            f"the workers")


def _problem(address: str, theirs, ours: str) -> str | None:
    if isinstance(theirs, BaseException):
        return (f"worker {address} cannot import stat_lib ({type(theirs).__name__}: "
                f"{theirs})")
    if theirs != ours:
        version = str(theirs).split(":")[0]
        same = "same version, other source files" if version == ours.split(":")[0] else \
            f"stat_lib {version}"
        return f"worker {address} runs {same} (this client: {ours.split(':')[0]})"
    return None
