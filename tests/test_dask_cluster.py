"""The batch on a real Dask cluster with no shared disk: `dask scheduler` and two `dask worker`
subprocesses on localhost, each worker in its own empty folder (cwd and --local-directory).

Compared with the local executor on a copy of the same home: the packets (text, charts, maps,
metrics rows, whole page; bench/same_packets.py's comparison, random ids masked) and the
manifest (status, files, errors, summaries); a failing notebook; a worker SIGKILLed mid-job.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stat_lib.params import load_params
from stat_lib.run.batch import run_period
from support.builders import ROOT, TEST_NOTEBOOKS, batch_home, manifest_runs, sample_home

PERIOD = "2026-10"
SLUGS = ["sanitation", "building-and-safety", "citywide", "contact-center"]  # + telephony


def _same_packets():
    spec = importlib.util.spec_from_file_location("same_packets",
                                                  ROOT / "bench" / "same_packets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and workers, each its own process group, all killed by :meth:`close`."""

    def __init__(self, base: Path):
        self.base, self.procs, self.workers = base, [], []
        self.address = f"tcp://127.0.0.1:{_free_port()}"

    def _start(self, args, cwd: Path, log: str) -> subprocess.Popen:
        out = open(self.base / log, "wb")
        proc = subprocess.Popen([sys.executable, "-m", "distributed.cli." + args[0], *args[1:]],
                                cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> None:
        port = self.address.rsplit(":", 1)[1]
        self._start(["dask_scheduler", "--host", "127.0.0.1", "--port", port,
                     "--no-dashboard"], self.base, "scheduler.log")

    def start_worker(self, name: str, *extra: str) -> Path:
        folder = self.base / name
        folder.mkdir()
        proc = self._start(["dask_worker", self.address, "--nthreads", "1", "--no-nanny",
                            "--no-dashboard", "--local-directory", str(folder), "--name", name,
                            *extra], folder, f"{name}.log")
        self.workers.append((proc, folder))
        return folder

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(n, timeout=120)

    def close(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker and its kernels
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path, request):
    base = tmp_path / "cluster"
    base.mkdir()
    c = Cluster(base)
    request.addfinalizer(c.close)
    c.start_scheduler()
    return c


def _home(base: Path) -> Path:
    """The sample city cut to two departments (one with permits) + citywide + the contact
    center (telephony), ingested, with a session, a commitment and an analyst's note for
    sanitation: every store a packet reads."""
    from stat_lib.ingest import ingest
    from stat_lib.store.sessions import add_commitment, add_session
    home = sample_home(base)
    for f in (home / "params" / "departments").glob("*.yaml"):
        if f.stem not in SLUGS:
            f.unlink()
    city_file = home / "params" / "city.yaml"  # no briefing, no roundtables
    text = city_file.read_text()
    city_file.write_text(text[:text.index("\nbriefing:")] + text[text.index("\nspc:"):])
    params = load_params(home)
    ingest(params)
    sid = add_session(params, "2026-10-14", ["sanitation"], notes="potholes first")
    add_commitment(params, {"session_id": sid, "department": "sanitation",
                            "what": "clear the bulky-item backlog", "owner": "J. Diaz",
                            "due_on": "2026-11-30", "status": "open"})
    notes = home / "sessions" / PERIOD
    notes.mkdir(parents=True)
    (notes / "sanitation.md").write_text("Backlog **down** since the last session.\n")
    return home


def _run(home: Path, **kw):
    return run_period(load_params(home), PERIOD, progress=False, **kw)


def _runs(home: Path) -> dict:
    keep = ("status", "html", "pdf", "error", "summary", "failed_notebook", "failed_html",
            "notebook", "parameters")
    out = {}
    for slug, run in manifest_runs(home / "outputs" / PERIOD).items():
        view = {k: run.get(k) for k in keep}
        view["parameters"] = {**view["parameters"], "home": "HOME"}
        out[slug] = view
    return out


def _kill_when_busy(folders: list[Path], killed: list, stop: threading.Event, procs) -> None:
    """SIGKILL the first worker whose folder holds a job's private home."""
    while not stop.is_set():
        for (proc, folder) in procs:
            if any(folder.glob("**/stat-lib-job-*/home/notebooks")):
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(folder.name)
                return
        time.sleep(0.05)


@pytest.mark.slow
def test_a_period_on_a_real_cluster_matches_the_local_executor(tmp_path, cluster):
    workers = [cluster.start_worker(n) for n in ("worker-a", "worker-b")]
    local, remote = _home(tmp_path / "local"), tmp_path / "remote"
    shutil.copytree(local, remote, symlinks=True)  # the same stores, ids and all
    cluster.wait_for_workers(2)

    # 1. the same packets and manifest as the local executor
    assert _run(local, workers=2).ok
    result = _run(remote, executor="dask", scheduler=cluster.address)
    assert result.ok, result.summary()
    same = _same_packets()
    rows, footer, ok = same.compare_outputs(
        same.load_outputs(local / "outputs" / PERIOD, SLUGS),
        same.load_outputs(remote / "outputs" / PERIOD, SLUGS))
    assert ok, "\n".join(d for r in rows for d in r.diffs) + "\n".join(footer)
    assert _runs(local) == _runs(remote)
    for folder in workers:  # nothing of a job stays on a worker
        assert not list(folder.glob("**/stat-lib-job-*")), folder

    # 2. a failing notebook (a home's override, shipped): reported as locally
    good = (remote / "outputs" / PERIOD / "building-and-safety.html").read_bytes()
    for home in (local, remote):
        (home / "notebooks").mkdir()
        shutil.copy(TEST_NOTEBOOKS / "broken.ipynb",
                    home / "notebooks" / "building-and-safety.ipynb")
    bad_local = _run(local, workers=2)
    bad_remote = _run(remote, executor="dask", scheduler=cluster.address)
    assert bad_local.exit_code == bad_remote.exit_code == 10
    assert _runs(local) == _runs(remote)
    runs = _runs(remote)
    assert runs["building-and-safety"]["status"] == "failed"
    assert "broken on purpose" in runs["building-and-safety"]["error"]
    assert runs["sanitation"]["status"] == runs["citywide"]["status"] == "skipped"
    out = remote / "outputs" / PERIOD
    assert (out / "building-and-safety.html").read_bytes() == good  # the last good packet kept
    assert (out / "building-and-safety.failed.ipynb").exists()

    # 3. a worker killed mid-job: the scheduler re-runs it on the other, the period completes
    (remote / "notebooks" / "building-and-safety.ipynb").unlink()
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_when_busy,
                              args=(workers, killed, stop, cluster.workers), daemon=True)
    killer.start()
    try:
        again = _run(remote, executor="dask", scheduler=cluster.address, force=True)
    finally:
        stop.set()
        killer.join(timeout=10)
    assert killed, "no worker was seen running a job"
    assert again.ok, again.summary()
    assert {s: r["status"] for s, r in _runs(remote).items()} == dict.fromkeys(SLUGS, "ok")
    assert not (out / "building-and-safety.failed.ipynb").exists()
    rows, footer, ok = same.compare_outputs(
        same.load_outputs(local / "outputs" / PERIOD, ["sanitation", "citywide"]),
        same.load_outputs(out, ["sanitation", "citywide"]))
    assert all(r.ok for r in rows[:2]), "\n".join(d for r in rows for d in r.diffs)


PRELOADS = {
    "no-stat-lib": "import sys\nsys.modules['stat_lib'] = None\n",
    "other-version": "import stat_lib\nstat_lib.__version__ = '0.0.1'\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(PRELOADS))
def test_a_worker_without_this_stat_lib_is_named_with_the_fix(tmp_path, cluster, case):
    from stat_lib.core.errors import MissingDependency
    preload = tmp_path / f"preload_{case.replace('-', '_')}.py"
    preload.write_text(PRELOADS[case])
    cluster.start_worker("odd-worker", "--preload", str(preload))
    cluster.wait_for_workers(1)
    home = batch_home(tmp_path / "home")
    with pytest.raises(MissingDependency) as err:
        _run(home, executor="dask", scheduler=cluster.address)
    text = str(err.value)
    assert "odd-worker" in text or "tcp://127.0.0.1:" in text
    assert "pip install stat-lib==" in text and err.value.exit_code == 8
    assert ("cannot import stat_lib" if case == "no-stat-lib" else "stat_lib 0.0.1") in text
    assert not (home / "outputs" / PERIOD / "sanitation.html").exists()


def test_an_unreachable_scheduler_is_a_usage_error_naming_it(tmp_path, monkeypatch):
    from stat_lib.core.errors import UsageError
    from stat_lib.run import dask_cluster
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    home = batch_home(tmp_path)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at " + address) as err:
        _run(home, executor="dask", scheduler=address)
    assert "dask scheduler" in str(err.value) and err.value.exit_code == 2


@pytest.mark.slow
def test_a_scheduler_without_workers_is_a_usage_error(tmp_path, cluster, monkeypatch):
    from stat_lib.core.errors import UsageError
    from stat_lib.run import dask_cluster
    monkeypatch.setattr(dask_cluster, "WORKER_WAIT", 2)
    home = batch_home(tmp_path / "home")
    with pytest.raises(UsageError, match="no Dask worker joined the scheduler at tcp://"):
        _run(home, executor="dask", scheduler=cluster.address)
