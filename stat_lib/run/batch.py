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
only warns; see :mod:`stat_lib.run.parameters`). Which notebook each run executes (a home's
``notebooks/<slug>.ipynb``, else its ``notebooks/<kind>.ipynb``, else the packaged one) is
:mod:`stat_lib.present.notebook_kinds`.

Incremental runs
----------------
Each entry's ``input_hash`` covers the notebook source, the parameters, the packet templates,
the department's data fingerprint for the period, its KPI submissions and reviews
(``stat_lib.store.submissions.submissions_fingerprint``) and its sessions and commitments
(``stat_lib.store.sessions.sessions_fingerprint``), the params files it reads (city.yaml,
results.yaml, its department file; citywide: all) and stat_lib's version and sources. An entry
whose hash is unchanged and whose packet exists is ``skipped``; ``force=True`` re-runs all.
This path imports no notebook machinery, so a re-run with nothing changed takes about a second.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import OutOfSpace, RunFailed
from ..core.manifest import Entry, file_digest, input_hash, library_digest, tree_digest
from ..core.periods import Period
from ..present.notebook_kinds import kind_of, notebook_for, plan
from ..present.resources import template_dirs
from .jobs import Job, JobResult
from .parameters import check_parameters
from .period_files import Background, write_metrics, write_period
from .progress import Progress, log_to_stderr

log = logging.getLogger("stat_lib.batch")
CITYWIDE = "citywide"


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


def _check_briefing(params, departments) -> None:
    """An unknown briefing measure is a params error before any notebook runs."""
    if departments and "briefing" not in departments:
        return
    from ..core.errors import ParamsErrors
    from ..metrics.briefing import chosen_problems
    problems = chosen_problems(params)
    if problems:
        raise ParamsErrors(problems)


def run_period(params, period, departments=None, *, workers=None, force=False, pdf=False,
               slides=False,
               executor="local", scheduler=None, progress=None, notebooks_dir=None,
               lock_timeout: float = 0, stale: str | None = None,
               audience: str = "internal") -> RunResult:
    """Execute and export every notebook of ``period``; skip those whose inputs are unchanged.

    Parameters
    ----------
    params : stat_lib.params.Params
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
    slides : bool
        Also write ``<slug>.slides.html``, the deck for the session screen.
    executor : {'local', 'dask'} or a registered name
    scheduler : str or distributed.Client, optional
        Dask scheduler address for ``executor='dask'``.
    progress : bool, optional
        Rich progress bar; default when stderr is a terminal, log lines otherwise.
    notebooks_dir : path, optional
        Folder of notebooks overriding the packaged ones (``<slug>.ipynb``, ``<kind>.ipynb``);
        default ``<home>/notebooks``.
    lock_timeout : float
        Seconds to wait for another run on the same outputs folder.
    stale : str, optional
        A notice that the data is stale (``stat_lib.run.freshness``): on every cover and the
        period index; packets re-run when it appears, changes or goes.
    audience : {'internal', 'public'}
        ``public`` writes ``outputs/public/<period>/`` (:mod:`stat_lib.run.public_files`): no
        executed notebooks, the notebooks run with ``audience="public"``, open data and the
        suppression log beside ``metrics.csv``.

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
    from ..core.atomic_write import remove_stale_temps
    from .executors import get_executor
    from .outputs_lock import outputs_lock
    from .public_files import edition

    t0 = time.monotonic()
    get_executor(executor)  # an unknown name fails before any work
    _check_briefing(params, departments)
    ed = edition(params, audience)
    period = _with_tz(params, period)
    stale = stale or _partial(params, period)
    slugs = _slugs(params, departments, public=audience == "public")
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else params.home / "notebooks"
    with outputs_lock(params.outputs, timeout=lock_timeout), log_to_stderr():
        period_dir = ed.period_dir(period)
        period_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(period_dir)
        planned, previous = _plan(params, period, slugs, nb_dir, period_dir, force, pdf,
                                  stale, ed, slides)
        meta = {**_meta(params, period), "stale": stale, "audience": ed.notice}
        # a packet that had a PDF (a deck) gets a new one with its HTML: never a stale one
        jobs = [ed.job(_job(params, p, period_dir, meta,
                            pdf or _had_pdf(previous, p, period_dir),
                            slides or _had_slides(previous, p, period_dir)), period)
                for p in planned if p.status is None]
        jobs = _longest_first(params, jobs, previous, period.end)
        # metrics.csv comes from the store, not the notebooks: computed beside the period-wide
        # runs, once every department's run has ended (each department's packet caches its
        # figures of the period, which metrics.csv and the period-wide notebooks read)
        metrics = Background(ed.write_files or write_metrics, params, period, period_dir,
                             gated=True) if jobs else None
        full: list[str] = []
        try:
            done = _execute(jobs, planned,
                            workers or params.city.batch.workers or os.cpu_count(),
                            executor, scheduler, progress, full,
                            departments_done=metrics.release if metrics else None)
        except BaseException:
            if metrics:
                metrics.stop()
            raise
        entries = _merge(previous, planned)
        result = RunResult(period.label, period_dir, planned)
        result.problems = write_period(params, period, period_dir, entries, meta, done,
                                        metrics, ed.write_files)
        if full:  # the manifest says which runs failed; the command exits 11
            raise OutOfSpace(full[0])
    result.seconds = time.monotonic() - t0
    return result


def _partial(params, period) -> str | None:
    from .freshness import partial_notice
    try:
        return partial_notice(params, period)
    except Exception as exc:  # no store: the notebooks report it themselves
        log.warning("cannot tell whether the data covers %s: %s", period.label, exc)
        return None


def _with_tz(params, period):
    if isinstance(period, str):
        return Period.parse(period, tz=params.city.timezone)
    return period if period.tz else period.with_tz(params.city.timezone)


def _slugs(params, departments, public: bool = False) -> list[str]:
    """The runs asked for (default every run of the plan); the public edition leaves out the
    internal-only kinds (the cabinet briefing, roundtable packets)."""
    if not departments:
        return [slug for slug, kind in plan(params) if kind.public or not public]
    for slug in departments:
        kind_of(params, slug)  # raises UsageError naming the known ones
    return list(dict.fromkeys(departments))


def parameters_for(params, period, slug: str, audience: str = "internal") -> dict:
    """Exactly what papermill receives for one notebook (see the module docstring);
    ``audience`` only when it is not the internal edition."""
    values = {"department": slug, "period": period.label, "home": str(params.home)}
    if period.as_of is not None:
        values["as_of"] = period.as_of.isoformat()
    if audience != "internal":
        values["audience"] = audience
    return values


# --- planning: hashes and skips -------------------------------------------------------------

def _plan(params, period, slugs, nb_dir, period_dir, force, pdf, stale=None, ed=None,
          slides=False):
    from ..core.manifest import one_pass
    with one_pass():  # each file and store fingerprint read once for all the runs
        return _plan_runs(params, period, slugs, nb_dir, period_dir, force, pdf, stale, ed,
                          slides)


def _plan_runs(params, period, slugs, nb_dir, period_dir, force, pdf, stale, ed, slides):
    from ..core.manifest import previous_entries
    previous = previous_entries(period_dir)
    shared = {"templates": _templates_digest(params), "library": library_digest()}
    if stale:
        shared["stale"] = stale
    planned = []
    for slug in slugs:
        nb = notebook_for(slug, kind_of(params, slug), nb_dir)
        parameters = parameters_for(params, period, slug, ed.name if ed else "internal")
        inputs = {**shared, **_own_inputs(params, period, slug, nb, parameters)}
        kept = ed is None or ed.keep_notebook  # the public edition keeps no notebook
        entry = Entry(department=slug, notebook=f"{slug}.ipynb" if kept else None,
                      parameters=parameters,
                      status=None, seconds=0.0, html=None, pdf=None, error=None,
                      input_hash=input_hash(inputs), template=str(nb), inputs=_short(inputs))
        prev = previous.get(slug)
        if not force and _unchanged(prev, entry.input_hash, period_dir, pdf, kept, slides):
            _carry_over(entry, prev)
        else:
            log.info("%s: %s", slug, "forced" if force else why_rerun(prev, entry, period_dir))
        planned.append(entry)
    return planned, previous


def _own_inputs(params, period, slug, nb: Path, parameters: dict) -> dict:
    from ..store import data_fingerprint
    from ..store.permits import permit_fingerprint
    from ..store.sessions import sessions_fingerprint
    from ..store.submissions import submissions_fingerprint
    from ..store.surveys import survey_fingerprint
    from ..store.telephony import telephony_fingerprint
    department = slug if kind_of(params, slug).per_department else None
    files = params.files if department is None else [
        f for f in params.files if f.parent.name != "departments" or f.stem == slug]
    return {"notebook": file_digest(nb), "parameters": parameters,
            "data": data_fingerprint(params, department=department, end=period.end),
            "permits": permit_fingerprint(params, department),
            "telephony": telephony_fingerprint(params) if department is None else "",
            "submissions": submissions_fingerprint(params, department),
            "surveys": survey_fingerprint(params, department),
            "notes": _notes_digest(params, period, department),
            "sessions": sessions_fingerprint(params, department),
            "params_files": {f.name if f.parent.name == "params" else f"departments/{f.name}":
                             file_digest(f) for f in files}}


def _notes_digest(params, period, department: str | None) -> str:
    """The analysts' notes page one shows: ``sessions/<period>/<slug>.md`` (every department's
    for a period-wide packet)."""
    folder = params.home / "sessions" / period.label
    return tree_digest(folder, "*.md") if department is None else \
        file_digest(folder / f"{department}.md")


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
    return "|".join(tree_digest(r) for r in template_dirs(params.home))


def _unchanged(prev: Entry | None, h: str, period_dir: Path, pdf: bool,
               notebook: bool = True, slides: bool = False) -> bool:
    if prev is None or prev.status not in ("ok", "skipped") or prev.input_hash != h:
        return False
    needed = [prev.html] + ([prev.notebook] if notebook else []) + ([prev.pdf] if pdf else []) \
        + ([prev.slides] if slides else [])
    return all(name and (period_dir / name).exists() for name in needed)


def _had_pdf(previous: dict, entry: Entry, period_dir: Path) -> bool:
    prev = previous.get(entry.department)
    return bool(prev and prev.pdf and (period_dir / prev.pdf).exists())


def _had_slides(previous: dict, entry: Entry, period_dir: Path) -> bool:
    prev = previous.get(entry.department)
    return bool(prev and prev.slides and (period_dir / prev.slides).exists())


def _carry_over(entry: Entry, prev: Entry) -> None:
    entry.status, entry.html, entry.pdf = "skipped", prev.html, prev.pdf
    entry.slides = prev.slides
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
    from .. import __version__
    return {"period": period.label, "period_label": period.describe(),
            "as_of": period.as_of.isoformat() if period.as_of is not None else None,
            "data_as_of": _data_as_of(params, period),
            "city": params.city.name, "generated_at": _now_iso(),
            "stat_lib_version": __version__}


def _data_as_of(params, period) -> str | None:
    """The cover's "Data as of": the newest record of the period (no later change of an
    older request) and when the data was last extracted, in city time."""
    from ..store import last_ingest, newest_record
    try:
        newest, extracted = newest_record(params, period.end), last_ingest(params)
    except Exception as exc:  # the notebooks will report a missing store themselves
        log.warning("cannot read the data's as-of time: %s", exc)
        return None
    if newest is None:
        return None
    text = f"{newest:%Y-%m-%d %H:%M %Z} (newest record)"
    return text + (f"; extracted {extracted:%Y-%m-%d %H:%M %Z}" if extracted is not None
                   else "")


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _job(params, entry: Entry, period_dir: Path, meta: dict, pdf: bool,
         slides: bool = False) -> Job:
    batch = params.city.batch
    kind = kind_of(params, entry.department)
    title = kind.title(params, entry.department)
    return Job(department=entry.department, kind=kind.name, notebook=Path(entry.template),
               out_dir=period_dir, parameters=entry.parameters, params=params,
               meta={**meta, "department": title, "title": f"{title} Stat",
                     "period": meta["period_label"], "as_of": meta["data_as_of"]}, pdf=pdf,
               cell_timeout=batch.cell_timeout, notebook_timeout=batch.notebook_timeout,
               cwd=params.home, slides=slides)


def _longest_first(params, jobs: list[Job], previous: dict[str, Entry],
                   end=None) -> list[Job]:
    """The order jobs start in: per-department runs, longest last time first (a short job
    last leaves a core idle for less time; never run: most requests first), then the
    period-wide runs (citywide, briefing), which read every department's figures, computed
    beside the departments' runs."""
    def last_seconds(job: Job) -> float:
        prev = previous.get(job.department)
        if prev is None:
            return 0.0
        return prev.extra.get("previous_seconds", prev.seconds) if prev.status == "skipped" \
            else prev.seconds or 0.0
    rows = _request_counts(params, end) if any(
        j.department not in previous for j in jobs) else {}
    return sorted(jobs, key=lambda j: (not kind_of(params, j.department).per_department,
                                       -last_seconds(j), -rows.get(j.department, 0)))


def _request_counts(params, end) -> dict[str, int]:
    """Requests per department before ``end`` (none when the store cannot be read)."""
    from ..store.requests import request_counts
    try:
        return request_counts(params, end)
    except Exception as exc:  # the notebooks report a missing store themselves
        log.warning("cannot count requests per department: %s", exc)
        return {}


def _execute(jobs: list[Job], planned, workers, executor, scheduler, progress,
             full: list[str], departments_done=None) -> int:
    """Check parameters, run the jobs, and fill their entries; return how many ran.

    Runs that hit a full disk add their message to ``full``. ``departments_done()`` is called
    once no per-department run is left (at once when there is none)."""
    from .executors import get_executor
    by_slug = {e.department: e for e in planned}
    runnable = []
    for job in jobs:
        problem = check_parameters(job.notebook, job.parameters)
        if problem:
            _fill(by_slug[job.department], JobResult(error=problem))
        else:
            runnable.append(job)
    own = {j.department for j in runnable if kind_of(j.params, j.department).per_department}
    if not own and departments_done:
        departments_done()
    if not runnable:
        return len(jobs)
    run = get_executor(executor)
    with Progress(len(runnable), progress) as bar:
        for job, result in run(runnable, workers=workers, scheduler=scheduler):
            own.discard(job.department)
            if not own and departments_done:
                departments_done()
            _fill(by_slug[job.department], result)
            bar.advance(job.department, result)
            if result.out_of_space:
                full.append(result.error)
    return len(jobs)


def _fill(entry: Entry, result: JobResult) -> None:
    for key in ("status", "seconds", "html", "pdf", "slides", "error", "summary",
                "failed_notebook",
                "failed_html", "attempts"):
        setattr(entry, key, getattr(result, key))
    entry.ran_at = _now_iso()
