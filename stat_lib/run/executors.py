"""Where notebook runs execute: a registry of executors (papermill-style), and the job itself.

``run_job(job)`` executes one notebook with papermill and exports its packet; it runs in a
worker process (``local``: a process pool whose workers import papermill and nbconvert once)
or on a Dask worker (``dask``: an existing ``distributed`` cluster; see
:mod:`stat_lib.run.dask_cluster`).
Every executor yields the same ``JobResult``s, so the batch writes one manifest either way.

Kernels use the IPC transport in a private folder (no TCP ports to race for: papermill #239,
#511), and start with ``jsonschema``'s ``rfc3987_syntax`` import blocked (see ``KERNEL_ARGS``).
The local executor forks its kernels from a warm template (``stat_lib.run.kernel_fork``).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import as_completed
from pathlib import Path

from ..core.atomic_write import atomic_path, temp_path, write_text
from ..core.errors import UsageError, out_of_space
from . import dask_cluster, kernel_fork, trust
from .jobs import Job, JobResult

log = logging.getLogger("stat_lib.batch")

# jsonschema imports rfc3987_syntax (a lark grammar, ~1.5 s) only for the "iri" and
# "iri-reference" formats, which the Vega-Lite schema altair validates against never uses.
# Marking the module missing makes jsonschema skip those two checkers: same outputs, faster
# kernels. Set STAT_LIB_FAST_KERNEL=0 to turn it off.
BLOCK_RFC3987 = "__import__('sys').modules.setdefault('rfc3987_syntax', None)"


def kernel_args() -> list[str]:
    """Extra ipykernel arguments for batch kernels."""
    if os.environ.get("STAT_LIB_FAST_KERNEL", "1") == "0":
        return []
    return [f"--IPKernelApp.exec_lines={BLOCK_RFC3987}"]


# --- the job -------------------------------------------------------------------------------

class _Attempts:
    """Kernel starts of one job so far, and the deadline of the latest."""

    count = 0
    deadline = float("inf")


def run_job(job: Job) -> JobResult:
    """Execute one notebook and export its packet; never raises for a notebook's failure."""
    t0 = time.monotonic()
    out_dir, slug = Path(job.out_dir), job.department
    evidence = Path(job.evidence_dir) if job.evidence_dir else out_dir
    evidence.mkdir(parents=True, exist_ok=True)
    tmp_nb = temp_path((out_dir if job.keep_notebook else evidence) / f"{slug}.ipynb")
    result, attempts = JobResult(), _Attempts()
    try:
        _execute_with_retry(job, tmp_nb, attempts)
        result.attempts = attempts.count
        result.summary = _summary(tmp_nb)
        result.html, result.pdf = _export(job, tmp_nb)
        result.slides = _export_slides(job, tmp_nb)
        if job.keep_notebook:
            trust.sign(tmp_nb)  # opens trusted in JupyterLab: its maps show
            os.replace(tmp_nb, out_dir / f"{slug}.ipynb")
        _remove_failed(evidence, slug)
        result.status = "ok"
    except Exception as exc:  # a notebook's failure is data for the manifest, not a crash
        result.attempts = attempts.count or 1
        full = out_of_space(exc, out_dir / f"{slug}.ipynb")
        if full is not None:  # the disk, not the notebook: nothing of this run is kept
            result.error, result.out_of_space = str(full), True
        else:
            result.error = describe_error(exc, job, attempts.deadline)
            result.failed_notebook, result.failed_html = _keep_failed(tmp_nb, evidence, slug)
            if evidence != out_dir:  # not linked from the public edition
                result.error += f" [failed run kept in {evidence}]"
                result.failed_notebook = result.failed_html = None
    finally:
        tmp_nb.unlink(missing_ok=True)
    result.seconds = round(time.monotonic() - t0, 3)
    return result


def _execute_with_retry(job: Job, output: Path, attempts: _Attempts) -> None:
    """Run papermill; retry once when the kernel failed to start or died (papermill #476)."""
    for attempt in (1, 2):
        attempts.count = attempt
        attempts.deadline = time.monotonic() + job.notebook_timeout
        try:
            return _execute(job, output, attempts.deadline)
        except Exception as exc:
            if attempt == 2 or not is_kernel_failure(exc):
                raise
            log.warning("%s: kernel failed (%s); retrying once with a cold kernel",
                        job.department, exc)
            job = job.but(kernel_template=None)  # the retry never depends on the template


def is_kernel_failure(exc: BaseException) -> bool:
    """True for a kernel that died or never started (worth one retry), not a cell error."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    if isinstance(exc, DeadKernelError):
        return True
    if isinstance(exc, CellTimeoutError):
        return False
    text = str(exc)
    if isinstance(exc, RuntimeError) and "Kernel" in text and (
            "didn't respond" in text or "died" in text):
        return True
    return type(exc).__name__ == "ZMQError"


def _execute(job: Job, output: Path, deadline: float) -> None:
    import papermill as pm

    ipc_dir = tempfile.mkdtemp(prefix="slk-", dir=job.ipc_root)
    try:
        pm.execute_notebook(
            str(job.notebook), str(output), parameters=job.parameters,
            kernel_name=job.kernel_name, cwd=str(job.cwd), progress_bar=False,
            log_output=False, start_timeout=job.start_timeout,
            # papermill rewrites the whole .ipynb after every cell by default; we only keep
            # the final one (it is still written when a cell fails)
            request_save_on_cell_execute=False,
            # the last cell's outputs are in: the kernel is stopped at once, not asked to
            # shut down (ipykernel then took ~0.24 s to exit; a notebook's store is read-only)
            shutdown_kernel="immediate",
            execution_timeout=job.cell_timeout,
            timeout_func=_cell_timeout(job.cell_timeout, deadline),
            kernel_manager_class=ipc_kernel_manager(ipc_dir, job.kernel_template),
            extra_arguments=kernel_args())
    finally:
        shutil.rmtree(ipc_dir, ignore_errors=True)


def _cell_timeout(cell_timeout: int, deadline: float):
    """Per-cell timeout bounded by what is left of the notebook's budget."""
    def timeout(cell) -> float:
        return max(1.0, min(float(cell_timeout), deadline - time.monotonic()))
    return timeout


_IPC_CLASSES: dict[str, type] = {}


def ipc_kernel_manager(ipc_dir: str, template: str | None = None) -> type:
    """An ``AsyncKernelManager`` subclass whose kernels talk over IPC sockets in ``ipc_dir``.

    With ``template`` (a ``stat_lib.run.kernel_fork`` socket), an ipykernel of this interpreter
    is forked from the warm template instead of started cold.
    """
    from jupyter_client import AsyncKernelManager

    from .kernel_client import ReadyClient

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(ipc_dir, "k")
            self.client_factory = ReadyClient  # no fixed 0.2 s wait per kernel start

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            return (template and kernel_fork.stub_cmd(cmd, template)) or cmd

        async def shutdown_kernel(self, now: bool = False, restart: bool = False):
            # jupyter_client sends SIGINT before every shutdown request; an ipykernel between
            # messages then logs "KeyboardInterrupt caught in kernel." on every good run.
            # The shutdown request (then SIGTERM, SIGKILL) stops it without the interrupt.
            self._quiet_shutdown = True
            try:
                await super().shutdown_kernel(now=now, restart=restart)
            finally:
                self._quiet_shutdown = False

        async def _async_interrupt_kernel(self):
            if not getattr(self, "_quiet_shutdown", False):
                await super()._async_interrupt_kernel()

    return IpcKernelManager


def _summary(nb_path: Path) -> dict | None:
    import json

    from ..present.summary import read_summary
    return read_summary(json.loads(nb_path.read_text(encoding="utf-8")))


def _export(job: Job, nb_path: Path) -> tuple[str, str | None]:
    """HTML (and PDF) from the executed notebook, each written atomically; their names."""
    from ..present import packets

    out_dir, slug = Path(job.out_dir), job.department
    html = out_dir / f"{slug}.html"
    with atomic_path(html) as tmp:
        packets.export_html(nb_path, tmp, job.params, job.meta)
    pdf = None
    if job.pdf:
        pdf = out_dir / f"{slug}.pdf"
        with atomic_path(pdf) as tmp:
            packets.export_pdf(html, tmp)
    return html.name, pdf.name if pdf else None


def _export_slides(job: Job, nb_path: Path) -> str | None:
    """The deck for the session screen, when asked (written atomically); its name."""
    if not job.slides:
        return None
    from ..present import deck
    path = Path(job.out_dir) / f"{job.department}.slides.html"
    with atomic_path(path) as tmp:
        deck.export_slides(nb_path, tmp, job.params, job.meta)
    return path.name


def _keep_failed(tmp_nb: Path, out_dir: Path, slug: str) -> tuple[str | None, str | None]:
    """Keep a failed run's executed notebook (papermill's error banner) as ``<slug>.failed.*``.

    The last good ``<slug>.ipynb``/``.html`` are left alone.
    """
    if not _is_notebook(tmp_nb):  # none, or cut short: never put at a final path
        return None, None
    failed = out_dir / f"{slug}.failed.ipynb"
    os.replace(tmp_nb, failed)
    try:  # a diagnosis page with the code shown; best effort, the .ipynb is the evidence
        from nbconvert import HTMLExporter
        body, _ = HTMLExporter().from_filename(str(failed))
        write_text(out_dir / f"{slug}.failed.html", body)
        return failed.name, f"{slug}.failed.html"
    except Exception as exc:
        log.warning("%s: could not render %s: %s", slug, failed.name, exc)
        return failed.name, None


def _is_notebook(path: Path) -> bool:
    import json
    try:
        return isinstance(json.loads(path.read_bytes()).get("cells"), list)
    except (OSError, ValueError, AttributeError):
        return False


def _remove_failed(out_dir: Path, slug: str) -> None:
    for name in (f"{slug}.failed.ipynb", f"{slug}.failed.html"):
        (out_dir / name).unlink(missing_ok=True)


def describe_error(exc: BaseException, job: Job, deadline: float = float("inf")) -> str:
    """A one-paragraph error for the manifest: what failed, where, and what to look at."""
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return (f"cell {exc.cell_index} raised {exc.ename}: {exc.evalue} (executed notebook "
                f"kept as {job.department}.failed.ipynb)")
    if name == "CellTimeoutError" or isinstance(exc, TimeoutError):
        if time.monotonic() >= deadline - 1:
            return (f"notebook exceeded batch.notebook_timeout = {job.notebook_timeout} s; "
                    f"raise it in params/city.yaml or speed the notebook up")
        return (f"a cell exceeded batch.cell_timeout = {job.cell_timeout} s; raise it in "
                f"params/city.yaml or speed the cell up")
    if is_kernel_failure(exc):
        return f"kernel failed twice (started once, retried once): {name}: {exc}"
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"{last}"


# --- executors -----------------------------------------------------------------------------

def warm_up(params=None) -> None:
    """Import papermill, nbconvert and packets, load the vega bundle and compile the notebook
    schema once; with ``params``, also build the packet exporter of its home (templates and
    nbconvert's selectors compiled, about 0.3 s a worker otherwise).

    Called in the process that forks the workers, so each worker inherits them (copy-on-write:
    less CPU and memory) instead of paying about 4 s each. jsonschema (via altair) is imported
    with ``rfc3987_syntax`` blocked, as in the kernels: this process then skips the "iri"
    format checks, which nothing in stat_lib uses.
    """
    import sys

    blocked = "rfc3987_syntax" not in sys.modules and os.environ.get(
        "STAT_LIB_FAST_KERNEL", "1") != "0"
    if blocked:
        sys.modules["rfc3987_syntax"] = None
    try:
        import nbconvert  # noqa: F401
        import nbformat
        import papermill  # noqa: F401

        from ..present import assets, charts, packets  # noqa: F401
        assets.vega_js()
        nbformat.validate(nbformat.v4.new_notebook())  # compiles the schema (0.15 s a worker)
        if params is not None:  # the packet exporter, its templates and selectors compiled
            packets.render_html(nbformat.v4.new_notebook(), params, {})
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]


def local_executor(jobs: list[Job], *, workers: int, **_):
    """Run jobs in a pool of ``workers`` processes; yield ``(job, result)`` as they finish."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if not jobs:
        return
    # fork: no re-import of the caller's __main__ (a script without a main guard works) and
    # workers inherit the light modules already loaded; the batch starts no thread before it.
    fork = sys.platform.startswith("linux")
    ipc_root = tempfile.mkdtemp(prefix="stat-lib-ipc-")  # removed even if workers are killed
    template = _start_template(ipc_root)  # its imports overlap with warm_up()
    # before forking: workers inherit it; spawned workers pay it in the initializer
    warm_up(jobs[0].params if fork else None)
    extra = {"ipc_root": ipc_root, "kernel_template": template.socket if template else None}
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=mp.get_context("fork" if fork else "spawn"),
                                 initializer=_worker_init,
                                 initargs=(not fork, os.getpid())) as pool:
            futures = {pool.submit(run_job, job.but(**extra)): job for job in jobs}
            try:
                yield from _gather(futures)
            except BaseException:  # Ctrl-C: stop now; half-done work stays in temp files only
                _stop(pool)
                raise
    finally:
        if template:
            template.close()
        shutil.rmtree(ipc_root, ignore_errors=True)


def _start_template(folder: str):
    """The warm kernel template (``stat_lib.run.kernel_fork``), or None when it is turned off."""
    return kernel_fork.Template(folder) if kernel_fork.enabled() else None


def _worker_init(warm: bool, parent: int) -> None:
    """Workers ignore Ctrl-C (the parent stops them), die of SIGTERM (a forked worker would
    inherit the CLI's handler, turn it into KeyboardInterrupt and go on to its next job) and
    end with the batch even when it is killed with SIGKILL; their kernels end with them."""
    import signal

    from ..core.lifeline import die_with_parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent=parent)
    if warm:
        warm_up()


def _stop(pool) -> None:
    """Cancel pending jobs and terminate the workers; each kernel's parent poller (ipykernel)
    ends it when its worker is gone, and the next run removes the stale temp files."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public API < 3.14
    for proc in procs:
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _gather(futures: dict):
    for fut in as_completed(futures):
        yield futures[fut], _result_or_failure(fut, futures[fut])


def _result_or_failure(fut, job: Job) -> JobResult:
    """A worker that crashed (OOM-killed, pickling error) still yields a failed result."""
    try:
        return fut.result()
    except Exception as exc:
        return JobResult.crashed(job, exc)


EXECUTORS = {"local": local_executor, "dask": dask_cluster.dask_executor,
             "dask-shared-disk": dask_cluster.dask_shared_disk_executor}


def register_executor(name: str, fn) -> None:
    """Add an executor: ``fn(jobs, *, workers, scheduler)`` yielding ``(job, result)``."""
    EXECUTORS[name] = fn


def get_executor(name: str):
    """The executor registered as ``name``.

    Raises
    ------
    UsageError
        Unknown name; the message lists the registered ones.
    """
    if name not in EXECUTORS:
        raise UsageError(f"unknown executor {name!r}; expected one of: "
                         f"{', '.join(sorted(EXECUTORS))}")
    return EXECUTORS[name]
