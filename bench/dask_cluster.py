"""Packets per minute on a real Dask cluster (1 and 2 worker processes) against the local
executor, on the sample city. See docs/operations.md, "Beyond one machine: Dask".

Usage
-----
::

    .venv/bin/python bench/dask_cluster.py [--departments N] [--workers 1,2] [--keep DIR]

Builds one home (the sample city's params, ``data/sample`` ingested; ``--departments N`` keeps
the first N departments, no briefing or roundtables), then runs the period ``2026-10`` with
``force=True``: with the local executor (``batch.workers`` = 2), then for each worker count a
fresh ``dask scheduler`` and that many ``dask worker --nthreads 1 --no-nanny`` processes on
localhost, each in its own empty folder (no shared disk: the ``dask`` executor ships every job),
and with ``--shared-disk`` also the ``dask-shared-disk`` executor. Prints seconds, packets per
minute and the ratio to local, and the bytes shipped per job kind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"


def make_home(home: Path, departments: int | None) -> None:
    shutil.copytree(REPO / "params", home / "params")
    (home / "data").mkdir()
    for folder in ("sample", "boundaries"):
        (home / "data" / folder).symlink_to(REPO / "data" / folder)
    if departments:
        for f in sorted((home / "params" / "departments").glob("*.yaml"))[departments:]:
            f.unlink()
        city = home / "params" / "city.yaml"
        text = city.read_text()
        city.write_text(text[:text.index("\nbriefing:")] + text[text.index("\nspc:"):])
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    ingest(load_params(home))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """``dask scheduler`` and ``n`` ``dask worker`` processes, each in its own process group."""

    def __init__(self, base: Path, n: int):
        self.address, self.procs = f"tcp://127.0.0.1:{free_port()}", []
        base.mkdir(parents=True)
        self._start(base, "dask_scheduler", "--host", "127.0.0.1", "--port",
                    self.address.rsplit(":", 1)[1], "--no-dashboard")
        for i in range(n):
            folder = base / f"worker-{i}"
            folder.mkdir()
            self._start(folder, "dask_worker", self.address, "--nthreads", "1",
                        "--no-nanny", "--no-dashboard", "--local-directory", str(folder))
        from distributed import Client
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(n, timeout=120)

    def _start(self, cwd: Path, cli: str, *args: str) -> None:
        log = open(cwd / f"{cli}.log", "wb")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", f"distributed.cli.{cli}", *args], cwd=cwd, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))
        log.close()

    def close(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def timed_run(home: Path, **kw) -> tuple[float, int]:
    from stat_lib.params import load_params
    from stat_lib.run.batch import run_period
    t0 = time.monotonic()
    result = run_period(load_params(home), PERIOD, force=True, progress=False, **kw)
    seconds = time.monotonic() - t0
    if not result.ok:
        raise SystemExit(result.summary())
    return seconds, result.count("ok")


def bundle_sizes(home: Path) -> list[str]:
    """Bytes one job of each kind ships (files, table rows)."""
    from stat_lib.params import load_params
    from stat_lib.run.batch import _job, _meta, _plan, _with_tz
    from stat_lib.run.job_bundle import pack
    params = load_params(home)
    period = _with_tz(params, PERIOD)
    slugs = [s for s, _ in __import__("stat_lib.present.notebook_kinds",
                                      fromlist=["plan"]).plan(params)]
    planned, _ = _plan(params, period, slugs, home / "notebooks", params.outputs / PERIOD,
                       True, False)
    out, seen = [], set()
    for entry in planned:
        job = _job(params, entry, params.outputs / PERIOD, _meta(params, period), False)
        if job.kind in seen:
            continue
        seen.add(job.kind)
        b = pack(job)
        rows = sum(len(d) for t in b.tables.values() for _, d in t.values())
        out.append(f"{job.kind:<11} ({entry.department}): {b.size / 1e6:6.2f} MB "
                   f"(files {(b.size - rows) / 1e6:.2f} MB, table rows {rows / 1e6:.2f} MB)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--departments", type=int, default=None)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--shared-disk", action="store_true")
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="stat-lib-dask-bench-"))
    home = base / "home"
    try:
        make_home(home, args.departments)
        rows = [("local (2 processes)",) + timed_run(home, workers=2)]
        for n in [int(x) for x in args.workers.split(",")]:
            executors = ["dask"] + (["dask-shared-disk"] if args.shared_disk else [])
            for executor in executors:
                cluster = Cluster(base / f"cluster-{executor}-{n}", n)
                try:
                    rows.append((f"{executor}, {n} worker(s)",)
                                + timed_run(home, executor=executor,
                                            scheduler=cluster.address))
                finally:
                    cluster.close()
        local = rows[0][1] / rows[0][2]
        print(f"{'executor':<28} {'packets':>7} {'seconds':>8} {'packets/min':>11} "
              f"{'s/packet vs local':>17}")
        for name, seconds, n in rows:
            print(f"{name:<28} {n:>7} {seconds:>8.1f} {60 * n / seconds:>11.1f} "
                  f"{(seconds / n) / local:>16.2f}x")
        print("bytes shipped per job (dask executor):")
        print("\n".join("  " + line for line in bundle_sizes(home)))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
