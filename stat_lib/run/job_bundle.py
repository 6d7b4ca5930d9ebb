"""What a job needs, shipped to a worker that shares no disk with the client.

The client packs a :class:`Bundle` per job: the params files, the notebook it runs (a home's
override or the packaged one), the home's templates, the session notes of the period, the
boundary and logo files city.yaml names, and a read-only snapshot of both stores: every table's
DDL and its rows as Parquet. Which dataset kinds a notebook kind reads is declared in
:data:`READS`: a kind not read ships its tables empty; a kind declared with ``rows_of`` ships
only those departments' rows (tables with a ``department`` column, sessions by
``departments``): a department packet its own, a roundtable its members'; a kind declared
``figures`` (citywide, briefing) ships every department's figures of the period
(:mod:`stat_lib.metrics.period_figures`, computed here) and no 311 request row.
A notebook kind not declared reads every registered dataset kind, all rows, so a new dataset
kind (``stat_lib.core.kinds``) is shipped the moment its tables are registered.

The worker unpacks the bundle into a private home in its own temp folder (real DuckDB files
built from the snapshot), runs :func:`stat_lib.run.executors.run_job` there and returns the
``JobResult`` and the files it wrote, as bytes (:func:`run_shipped`). The client writes them
atomically into the period folder (:func:`write_back`; the batch holds the outputs lock).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.atomic_write import write_bytes
from .jobs import Job, JobResult

OUT, EVIDENCE = "out", "evidence"  # the two folders a job writes into
# papermill runs a notebook with the process's working folder changed to its home: two jobs
# in threads of one worker would swap folders under each other (and one be removed)
ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Reads:
    """The data one notebook kind reads: ``datasets`` (dataset kind names; None: every
    registered kind), ``rows_of`` (``(params, slug) -> departments``: only their rows where a
    table has a ``department`` or ``departments`` column, and only their session notes; None:
    every department's) and ``figures`` (every department's figures of the period in place of
    the ``requests`` table's rows)."""

    datasets: tuple[str, ...] | None = None
    rows_of: Callable[[Any, str], tuple[str, ...]] | None = None
    figures: bool = False

    def departments(self, params, slug: str) -> tuple[str, ...] | None:
        """The departments whose rows a run of ``slug`` reads (None: all)."""
        return None if self.rows_of is None else tuple(self.rows_of(params, slug))


READS: dict[str, Reads] = {}


def declare_reads(kind: str, reads: Reads) -> Reads:
    """Declare what the notebook kind ``kind`` reads (the one place it is said)."""
    READS[kind] = reads
    return reads


def reads_of(kind: str) -> Reads:
    """What a notebook kind reads; undeclared: everything, all rows."""
    return READS.get(kind, Reads())


def own_rows(params, slug: str) -> tuple[str, ...]:
    """A department's packet reads its own rows."""
    return (slug,)


def members_rows(params, slug: str) -> tuple[str, ...]:
    """A roundtable's packet reads its member departments' rows."""
    return tuple(next(r.departments for r in params.city.roundtables if r.slug == slug))


declare_reads("department", Reads(rows_of=own_rows))
declare_reads("explore", Reads(rows_of=own_rows))
declare_reads("roundtable", Reads(rows_of=members_rows))
declare_reads("citywide", Reads(figures=True))
declare_reads("briefing", Reads(figures=True))


@dataclass
class Bundle:
    """One job and everything it reads: ``files`` (path in the home -> bytes), ``tables``
    (store file -> table -> (DDL, Parquet bytes)), the notebook's place in the home."""

    job: Job
    notebook: str
    files: dict[str, bytes] = field(default_factory=dict)
    tables: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)
    version: str = ""

    @property
    def size(self) -> int:
        """Bytes shipped (files and table rows)."""
        return sum(map(len, self.files.values())) + sum(
            len(data) for t in self.tables.values() for _, data in t.values())


# --- the client: pack ----------------------------------------------------------------------

def pack(job: Job) -> Bundle:
    """The bundle of ``job`` (read on the client, from its home)."""
    from .. import __version__
    params, home = job.params, job.params.home
    reads = reads_of(job.kind)
    own = reads.departments(params, job.department)
    files, moved = _home_files(params, job, own)
    notebook = f"notebooks/.job/{Path(job.notebook).name}"
    files[notebook] = Path(job.notebook).read_bytes()
    city = files["params/city.yaml"].decode("utf-8")
    for old, new in moved.items():  # a path outside the home moves inside the private one
        city = city.replace(old, new)
    files["params/city.yaml"] = city.encode("utf-8")
    store = _rel(home, moved, params.store_path)
    if reads.figures:
        rel, files[rel] = _figures(params, job, store)
    elif "period" in job.parameters:  # its packet caches no figures from its own rows only
        from ..metrics.period_figures import PRIVATE_HOME
        files[f"{_figures_folder(params, job, store)}/{PRIVATE_HOME}"] = b""
    tables = {store: _snapshot(params.store_path, reads, own),
              _rel(home, moved, params.records_path):
                  _snapshot(params.records_path, reads, own)}
    slim = job.but(params=None, notebook=Path(notebook), out_dir=Path(OUT), cwd=Path("."),
                   evidence_dir=Path(EVIDENCE) if job.evidence_dir else None)
    return Bundle(slim, notebook, files, {k: v for k, v in tables.items() if v}, __version__)


def _home_files(params, job: Job, own: tuple[str, ...] | None
                ) -> tuple[dict[str, bytes], dict[str, str]]:
    """Params, templates, the period's notes (of departments ``own``; None: all), boundaries
    and logo; and the city.yaml paths outside the home with where they go in the private home."""
    home = params.home
    period = job.parameters.get("period", "")
    notes = ["*.md"] if own is None else [f"{slug}.md" for slug in (job.department, *own)]
    paths = [p for folder in ("params", "templates") for p in sorted((home / folder).rglob("*"))]
    paths += sorted({p for n in notes for p in (home / "sessions" / period).glob(n)}) \
        if period else []
    files = {str(p.relative_to(home)): p.read_bytes() for p in paths if p.is_file()}
    moved: dict[str, str] = {}
    extra = [b.path for b in params.city.boundaries] + [params.city.branding.logo or ""]
    for i, text in enumerate(t for t in extra if t):
        path = params.path(text)
        if not path.is_file():
            continue  # the notebook reports a missing file as it would locally
        rel = _inside(home, path) or f"shipped/{i}-{path.name}"
        if rel != text and not _inside(home, path):
            moved[text] = rel
        files[rel] = path.read_bytes()
    for text in (params.city.store, params.city.records):
        path = params.path(text)
        if not _inside(home, path):
            moved[str(text)] = f"shipped/{path.name}"
    return files, moved


def _figures(params, job: Job, store: str) -> tuple[str, bytes]:
    """(path in the private home, bytes) of every department's figures of the job's period."""
    from ..metrics import period_figures as pf
    return (f"{_figures_folder(params, job, store)}/{pf.SHIPPED}",
            pf.ship(params, _period(params, job)))


def _period(params, job: Job):
    from ..core.periods import Period
    values = job.parameters
    return Period.parse(values["period"], params.city.timezone, as_of=values.get("as_of"))


def _figures_folder(params, job: Job, store: str) -> str:
    """The job's period's figures folder in the private home."""
    from ..metrics import period_figures as pf
    folder = pf.figures_folder(params, _period(params, job))
    return str(Path(store).parent / folder.relative_to(params.store_path.parent))


def _inside(home: Path, path: Path) -> str | None:
    try:
        return str(path.resolve().relative_to(home.resolve()))
    except ValueError:
        return None


def _rel(home: Path, moved: dict[str, str], path: Path) -> str:
    return _inside(home, path) or f"shipped/{path.name}"


def _snapshot(path: Path, reads: Reads, own: tuple[str, ...] | None
              ) -> dict[str, tuple[str, bytes]]:
    """Every table of one DuckDB file: its DDL and the rows ``reads`` allows, as Parquet."""
    import duckdb

    from ..store.schema import TABLES
    if not path.exists():
        return {}
    out = {}
    with tempfile.TemporaryDirectory(prefix="stat-lib-pack-") as tmp, \
            duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone='UTC'")
        for name, ddl in con.execute("SELECT table_name, sql FROM duckdb_tables() "
                                     "ORDER BY table_name").fetchall():
            table = TABLES.get(name)
            read = (table is None or reads.datasets is None or table.kind in reads.datasets) \
                and not (reads.figures and name == "requests")
            where, args = _rows(con, name, own) if read else ("WHERE false", [])
            file = Path(tmp) / f"{name}.parquet"
            con.execute(f'COPY (SELECT * FROM "{name}" {where}) TO \'{file}\' '
                        f"(FORMAT parquet, COMPRESSION zstd)", args)
            out[name] = (ddl, file.read_bytes())
    return out


def _rows(con, table: str, own: tuple[str, ...] | None) -> tuple[str, list]:
    """The filter of the rows of departments ``own`` (none when ``own`` is None or the table
    has no such column)."""
    if own is None:
        return "", []
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = ?", [table]).fetchall()}
    if "department" in cols:  # a list of literals: the store's zone maps skip the others
        return f"WHERE department IN ({', '.join('?' * len(own))})", list(own)
    if "departments" in cols:
        return "WHERE list_has_any(departments, ?::VARCHAR[])", [list(own)]
    return "", []


# --- the worker: unpack, run, return -------------------------------------------------------

def run_shipped(bundle: Bundle) -> tuple[JobResult, dict[str, bytes]]:
    """Run a bundle in a private home; the result and the files written (``out/<name>``,
    ``evidence/<name>``). Never raises for a notebook's failure (as ``run_job``). One job at
    a time per worker process: run workers with ``--nthreads 1`` (more with ``--nworkers``)."""
    with ONE_AT_A_TIME:
        return _run_in_private_home(bundle)


def _run_in_private_home(bundle: Bundle) -> tuple[JobResult, dict[str, bytes]]:
    from ..params import load_params
    from .executors import run_job
    root = Path(tempfile.mkdtemp(prefix="stat-lib-job-", dir=_local_directory()))
    try:
        home = root / "home"
        unpack(bundle, home)
        job = bundle.job
        job = job.but(params=load_params(home), notebook=home / bundle.notebook,
                      out_dir=home / OUT, cwd=home,
                      parameters={**job.parameters, "home": str(home)},
                      evidence_dir=home / EVIDENCE if job.evidence_dir else None)
        result = run_job(job)
        result.error = result.error and result.error.replace(str(home) + "/", "")
        written = {f"{folder}/{p.name}": p.read_bytes() for folder in (OUT, EVIDENCE)
                   for p in sorted((home / folder).glob("*")) if p.is_file()}
        return result, written
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _local_directory() -> str | None:
    """The Dask worker's own folder (``--local-directory``), else the system temp folder."""
    try:
        from distributed import get_worker
        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def unpack(bundle: Bundle, home: Path) -> None:
    """Write a bundle's files and build its DuckDB files under ``home``."""
    import duckdb
    for rel, data in bundle.files.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for rel, tables in bundle.tables.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as con:
            con.execute("SET TimeZone='UTC'")
            for name, (ddl, data) in tables.items():
                file = path.parent / f".{name}.parquet"
                file.write_bytes(data)
                con.execute(ddl)
                con.execute(f"INSERT INTO \"{name}\" SELECT * FROM read_parquet('{file}')")
                file.unlink()


def write_back(job: Job, result: JobResult, written: dict[str, bytes]) -> JobResult:
    """Write a shipped job's files into its period folder, each atomically; a good run
    removes the department's old ``.failed.*`` files as it would locally."""
    evidence = Path(job.evidence_dir) if job.evidence_dir else Path(job.out_dir)
    if result.status == "ok":
        for name in (f"{job.department}.failed.ipynb", f"{job.department}.failed.html"):
            (evidence / name).unlink(missing_ok=True)
    for rel, data in written.items():
        folder, _, name = rel.partition("/")
        write_bytes((evidence if folder == EVIDENCE else Path(job.out_dir)) / name, data)
    if result.error and job.evidence_dir:
        result.error = result.error.replace(f"kept in {EVIDENCE}]", f"kept in {evidence}]")
    return dataclasses.replace(result)
