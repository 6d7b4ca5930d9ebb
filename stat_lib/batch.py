"""The batch: run a period's notebooks with papermill, in parallel, incrementally and safely.

``run_period`` executes ``department.ipynb`` once per department and ``citywide.ipynb`` once
into ``outputs/<period>/``, exports packets, and writes ``index.html``, ``metrics.csv`` and
``manifest.json``.

Notebook parameter convention
-----------------------------
The notebook's cell tagged ``parameters`` declares ``department`` (a slug, ``"citywide"`` for
the citywide notebook), ``period`` (the label, ``"2026-10"``), ``home`` (the home folder, as
a string) and ``as_of`` (``None``; for a to-date period an ISO timestamp, the exclusive
cut-off, so ``Period.parse(period, tz, as_of=as_of)`` rebuilds the period). The batch passes
``as_of`` only for to-date periods. Any other name is an error before execution (papermill
only warns). A department may have its own notebook: ``notebooks/<slug>.ipynb`` replaces
``department.ipynb`` for it.

Incremental runs
----------------
Each entry's ``input_hash`` covers the notebook source, the parameters, the packet templates,
the department's data fingerprint for the period, the params files it reads (city.yaml,
results.yaml, its department file; citywide: all) and stat_lib's version and sources. An entry
whose hash is unchanged and whose packet exists is ``skipped``; ``force=True`` re-runs all.
This path imports no notebook machinery, so a re-run with nothing changed takes about a second.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RunFailed
from .manifest import Entry, file_digest, input_hash, library_digest, tree_digest

log = logging.getLogger("stat_lib.batch")
CITYWIDE = "citywide"
PARAMETER_NAMES = ("department", "period", "home", "as_of")


@dataclass
class RunResult:
    """What ``run_period`` did: one entry per notebook of the period, plus batch problems."""

    period: str
    period_dir: Path
    entries: list[Entry]
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Entry]:
        return [e for e in self.entries if e.status == "failed"]

    @property
    def ok(self) -> bool:
        """False when any notebook failed or a period file could not be written."""
        return not self.failed and not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else RunFailed.exit_code

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    def summary(self) -> str:
        """A few lines for a terminal or a log: counts, failures, where the packets are."""
        lines = [f"{self.period}: {len(self.entries)} notebook(s): {self.count('ok')} ok, "
                 f"{self.count('failed')} failed, {self.count('skipped')} skipped (unchanged) "
                 f"in {self.seconds:.1f} s -> {self.period_dir / 'index.html'}"]
        lines += [f"  FAILED {e.department}: {e.error}" for e in self.failed]
        lines += [f"  PROBLEM {p}" for p in self.problems]
        return "\n".join(lines)


def run_period(params, period, departments=None, *, workers=None, force=False, pdf=False,
               executor="local", scheduler=None, progress=None, notebooks_dir=None,
               lock_timeout: float = 0) -> RunResult:
    """Execute and export every notebook of ``period``; skip those whose inputs are unchanged.

    Parameters
    ----------
    params : stat_lib.config.Params
    period : Period or str
        ``2026-10``; a to-date ``Period`` (``as_of`` set) runs month-to-date.
    departments : list of str, optional
        Department slugs (``"citywide"`` allowed); default every department plus citywide.
    workers : int, optional
        Notebooks at once; default ``batch.workers`` in city.yaml, else the core count.
    force : bool
        Re-run notebooks whose input hash is unchanged.
    pdf : bool
        Also export ``<slug>.pdf``.
    executor : {'local', 'dask'} or a registered name
    scheduler : str or distributed.Client, optional
        Dask scheduler address for ``executor='dask'``.
    progress : bool, optional
        Rich progress bar; default when stderr is a terminal, log lines otherwise.
    notebooks_dir : path, optional
        Folder holding ``department.ipynb``/``citywide.ipynb``; default ``<home>/notebooks``
        when it has them, else the project's ``notebooks/``.
    lock_timeout : float
        Seconds to wait for another run on the same outputs folder.

    Returns
    -------
    RunResult
        ``ok`` is False when any notebook failed; the others still ran.

    Raises
    ------
    OutputsBusyError
        Another run holds the outputs folder.
    UsageError
        Unknown department or executor.
    """
    from .outputs_lock import outputs_lock, remove_stale_temps

    from .executors import get_executor

    t0 = time.monotonic()
    get_executor(executor)  # an unknown name fails before any work
    period = _with_tz(params, period)
    slugs = _slugs(params, departments)
    nb_dir = _notebooks_dir(params, notebooks_dir)
    with outputs_lock(params.outputs, timeout=lock_timeout), _log_to_stderr():
        period_dir = params.outputs / period.label
        period_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(period_dir)
        planned, previous = _plan(params, period, slugs, nb_dir, period_dir, force, pdf)
        meta = _meta(params, period)
        jobs = [_job(params, p, period_dir, meta, pdf) for p in planned if p.status is None]
        # metrics.csv comes from the store, not the notebooks: computed while they run
        metrics = _Background(_write_metrics, params, period, period_dir) if jobs else None
        try:
            done = _execute(jobs, planned,
                            workers or params.city.batch.workers or os.cpu_count(),
                            executor, scheduler, progress)
        except BaseException:
            if metrics:
                metrics.stop()
            raise
        entries = _merge(previous, planned)
        result = RunResult(period.label, period_dir, planned)
        result.problems = _write_period(params, period, period_dir, entries, meta, done,
                                        metrics)
    result.seconds = time.monotonic() - t0
    return result


def _with_tz(params, period):
    from .periods import Period
    if isinstance(period, str):
        return Period.parse(period, tz=params.city.timezone)
    return period if period.tz else period.with_tz(params.city.timezone)


def _slugs(params, departments) -> list[str]:
    if not departments:
        return sorted(params.departments) + [CITYWIDE]
    for slug in departments:
        if slug != CITYWIDE:
            params.department(slug)  # raises UsageError naming the known ones
    return list(dict.fromkeys(departments))


def _notebooks_dir(params, notebooks_dir) -> Path:
    if notebooks_dir is not None:
        return Path(notebooks_dir)
    own = params.home / "notebooks"
    if (own / "department.ipynb").exists():
        return own
    return Path(__file__).resolve().parents[1] / "notebooks"


def notebook_for(nb_dir: Path, slug: str) -> Path:
    """The notebook a slug runs: ``<slug>.ipynb`` if present, else the shared one."""
    own = nb_dir / f"{slug}.ipynb"
    if own.exists():
        return own
    return nb_dir / ("citywide.ipynb" if slug == CITYWIDE else "department.ipynb")


def parameters_for(params, period, slug: str) -> dict:
    """Exactly what papermill receives for one notebook (see the module docstring)."""
    values = {"department": slug, "period": period.label, "home": str(params.home)}
    if period.as_of is not None:
        values["as_of"] = period.as_of.isoformat()
    return values


# --- planning: hashes and skips -------------------------------------------------------------

def _plan(params, period, slugs, nb_dir, period_dir, force, pdf):
    from .manifest import previous_entries
    previous = previous_entries(period_dir)
    shared = {"templates": _templates_digest(params), "library": library_digest()}
    planned = []
    for slug in slugs:
        nb = notebook_for(nb_dir, slug)
        parameters = parameters_for(params, period, slug)
        inputs = {**shared, **_own_inputs(params, period, slug, nb, parameters)}
        entry = Entry(department=slug, notebook=f"{slug}.ipynb", parameters=parameters,
                      status=None, seconds=0.0, html=None, pdf=None, error=None,
                      input_hash=input_hash(inputs), template=str(nb), inputs=_short(inputs))
        prev = previous.get(slug)
        if not force and _unchanged(prev, entry.input_hash, period_dir, pdf):
            _carry_over(entry, prev)
        else:
            log.info("%s: %s", slug, "forced" if force else why_rerun(prev, entry, period_dir))
        planned.append(entry)
    return planned, previous


def _own_inputs(params, period, slug, nb: Path, parameters: dict) -> dict:
    from .store import data_fingerprint
    department = None if slug == CITYWIDE else slug
    files = params.files if department is None else [
        f for f in params.files if f.parent.name != "departments" or f.stem == slug]
    return {"notebook": file_digest(nb), "parameters": parameters,
            "data": data_fingerprint(params, department=department, end=period.end),
            "params_files": {f.name if f.parent.name == "params" else f"departments/{f.name}":
                             file_digest(f) for f in files}}


def _short(inputs: dict) -> dict:
    """The hashed parts as recorded in the manifest (digests, not contents)."""
    return {k: (v if k != "library" else v.split(":")[0] + ":" + v.split(":")[1][:16])
            for k, v in inputs.items()}


def why_rerun(prev: Entry | None, entry: Entry, period_dir: Path) -> str:
    """Why a notebook runs: no previous run, a failed one, which inputs changed, or no packet."""
    if prev is None:
        return "first run"
    if prev.status == "failed":
        return "previous run failed"
    changed = sorted(k for k in set(entry.inputs) | set(prev.inputs)
                     if entry.inputs.get(k) != prev.inputs.get(k))
    if changed:
        return "changed: " + ", ".join(changed)
    return "packet missing" if prev.input_hash == entry.input_hash else "inputs changed"


def _templates_digest(params) -> str:
    roots = [Path(__file__).resolve().parents[1] / "templates", params.home / "templates"]
    return "|".join(tree_digest(r) for r in dict.fromkeys(roots))


def _unchanged(prev: Entry | None, h: str, period_dir: Path, pdf: bool) -> bool:
    if prev is None or prev.status not in ("ok", "skipped") or prev.input_hash != h:
        return False
    needed = [prev.html, prev.notebook] + ([prev.pdf] if pdf else [])
    return all(name and (period_dir / name).exists() for name in needed)


def _carry_over(entry: Entry, prev: Entry) -> None:
    entry.status, entry.html, entry.pdf = "skipped", prev.html, prev.pdf
    entry.summary, entry.ran_at = prev.summary, prev.ran_at
    entry.extra = {"previous_seconds": prev.extra.get("previous_seconds", prev.seconds)
                   if prev.status == "skipped" else prev.seconds}


def _merge(previous: dict[str, Entry], planned: list[Entry]) -> list[Entry]:
    """This run's entries, plus earlier entries of departments this run did not select."""
    ran = {e.department for e in planned}
    kept = [e for slug, e in previous.items() if slug not in ran]
    return sorted(planned + kept, key=lambda e: (e.department == CITYWIDE, e.department))


# --- execution ------------------------------------------------------------------------------

def _meta(params, period) -> dict:
    from . import __version__
    return {"period": period.label, "period_label": period.describe(),
            "as_of": period.as_of.isoformat() if period.as_of is not None else None,
            "data_as_of": _data_as_of(params, period),
            "city": params.city.name, "generated_at": _now_iso(),
            "stat_lib_version": __version__}


def _data_as_of(params, period) -> str | None:
    """The newest change in the store that a packet of ``period`` can see, in city time."""
    from .store import latest_change
    try:
        newest = latest_change(params, None, period.end)
    except Exception as exc:  # the notebooks will report a missing store themselves
        log.warning("cannot read the data's as-of time: %s", exc)
        return None
    return None if newest is None else newest.strftime("%Y-%m-%d %H:%M %Z")


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _job(params, entry: Entry, period_dir: Path, meta: dict, pdf: bool) -> dict:
    batch = params.city.batch
    title = ("Citywide" if entry.department == CITYWIDE
             else params.departments[entry.department].name)
    return {"department": entry.department, "notebook": entry.template,
            "out_dir": str(period_dir), "parameters": entry.parameters, "params": params,
            "meta": {**meta, "department": title, "title": f"{title} Stat",
                     "period": meta["period_label"], "as_of": meta["data_as_of"]}, "pdf": pdf,
            "cell_timeout": batch.cell_timeout, "notebook_timeout": batch.notebook_timeout,
            "cwd": str(params.home), "kernel_name": None}


def _execute(jobs, planned, workers, executor, scheduler, progress) -> int:
    """Check parameters, run the jobs, and fill their entries; return how many ran."""
    from .executors import get_executor
    by_slug = {e.department: e for e in planned}
    runnable = []
    for job in jobs:
        problem = check_parameters(Path(job["notebook"]), job["parameters"])
        if problem:
            _fill(by_slug[job["department"]], {"status": "failed", "error": problem,
                                              "seconds": 0.0})
        else:
            runnable.append(job)
    if not runnable:
        return len(jobs)
    run = get_executor(executor)
    with _Progress(len(runnable), progress) as bar:
        for job, result in run(runnable, workers=workers, scheduler=scheduler):
            _fill(by_slug[job["department"]], result)
            bar.advance(job["department"], result)
    return len(jobs)


def _fill(entry: Entry, result: dict) -> None:
    for key in ("status", "seconds", "html", "pdf", "error", "summary", "failed_notebook",
                "failed_html", "attempts"):
        if key in result:
            setattr(entry, key, result[key])
    entry.ran_at = _now_iso()


def check_parameters(notebook: Path, parameters: dict) -> str | None:
    """Why ``parameters`` cannot be given to ``notebook``, or None when they can.

    Papermill only warns about a name the parameters cell does not declare (#245, #333) and
    injects at the top when no cell is tagged ``parameters``; both are errors here.
    """
    if not notebook.exists():
        return f"notebook not found: {notebook}; expected it in the notebooks folder"
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except ValueError as exc:
        return f"{notebook}: not a readable .ipynb ({exc})"
    cells = [c for c in nb.get("cells", [])
             if "parameters" in (c.get("metadata", {}).get("tags") or [])]
    if not cells:
        return (f"{notebook}: no cell is tagged 'parameters'; add one declaring "
                f"{', '.join(PARAMETER_NAMES)} (papermill would inject blindly)")
    declared = declared_names("".join(_source(c) for c in cells))
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        return (f"{notebook}: unknown parameter(s) {', '.join(map(repr, unknown))}; its "
                f"parameters cell declares {', '.join(sorted(declared)) or 'nothing'}. Add "
                f"e.g. `{unknown[0]} = None` to the cell tagged 'parameters'")
    return None


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return ("".join(src) if isinstance(src, list) else src) + "\n"


def declared_names(source: str) -> set[str]:
    """Names assigned at the top level of a parameters cell (``x = 1``, ``x: int = 1``)."""
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


# --- period files ---------------------------------------------------------------------------

def _write_period(params, period, period_dir, entries, meta, ran: int,
                  metrics: _Background | None = None) -> list[str]:
    """manifest.json always; metrics.csv and the index pages when something ran or is missing."""
    from .manifest import manifest_document
    from .outputs_lock import write_json
    problems = []
    fresh = ran or not (period_dir / "metrics.csv").exists()
    if metrics is not None:
        problems += _attempt("metrics.csv", metrics.result)
    elif fresh:
        problems += _attempt("metrics.csv", lambda: _write_metrics(params, period, period_dir))
    doc = manifest_document(period.label, entries, meta)
    write_json(period_dir / "manifest.json", doc)
    if fresh or not (period_dir / "index.html").exists():
        problems += _attempt("index.html", lambda: _write_indexes(params, period_dir, doc, meta))
    return problems


def _attempt(what: str, fn) -> list[str]:
    try:
        fn()
        return []
    except Exception as exc:
        log.error("could not write %s: %s", what, exc)
        return [f"{what}: {type(exc).__name__}: {exc}"]


class _Background:
    """``fn(*args)`` in a forked process; ``result()`` waits and raises what it raised."""

    def __init__(self, fn, *args):
        import multiprocessing as mp
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_report_to, args=(send, fn, args), daemon=True)
        self.proc.start()
        send.close()

    def result(self) -> None:
        self.proc.join()
        message = self.recv.recv() if self.recv.poll() else \
            f"the process computing it exited with code {self.proc.exitcode}"
        if message:
            raise RuntimeError(message)

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()


def _report_to(send, fn, args) -> None:
    try:
        fn(*args)
        send.send(None)
    except BaseException as exc:  # reported to the parent, which records a batch problem
        send.send(f"{type(exc).__name__}: {exc}")


def _write_metrics(params, period, period_dir: Path) -> None:
    from .figures import tidy_figures
    from .outputs_lock import write_text
    table = tidy_figures(params, period)
    write_text(period_dir / "metrics.csv", table.to_csv(index=False))


def _write_indexes(params, period_dir: Path, doc: dict, meta: dict) -> None:
    from . import packets
    packets.write_period_index(period_dir, doc["runs"], params, meta)
    packets.write_root_index(params.outputs)


# --- progress and logging -------------------------------------------------------------------

class _Progress:
    """A rich bar on a terminal, one log line per notebook otherwise."""

    def __init__(self, total: int, enabled: bool | None):
        self.total, self.done = total, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            # no refresh thread: worker processes are forked while the bar is shown
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                auto_refresh=False)
            self.bar.start()
            self.task = self.bar.add_task("notebooks", total=self.total)
            self.bar.refresh()
        return self

    def advance(self, slug: str, result: dict) -> None:
        self.done += 1
        line = (f"[{self.done}/{self.total}] {slug}: {result['status']} in "
                f"{result.get('seconds', 0):.1f} s")
        if result["status"] == "failed":
            line += f" ({result.get('error')})"
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
            self.bar.advance(self.task)
            self.bar.refresh()
        else:
            log.info(line)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


class _log_to_stderr:
    """Show stat_lib's INFO lines when the application configured no logging."""

    def __enter__(self):
        logger = logging.getLogger("stat_lib")
        self.handler = None
        if not logger.handlers and not logging.getLogger().handlers:
            self.handler = logging.StreamHandler()
            self.handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            logger.addHandler(self.handler)
            self.level = logger.level
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        if self.handler is not None:
            logger = logging.getLogger("stat_lib")
            logger.removeHandler(self.handler)
            logger.setLevel(self.level)
