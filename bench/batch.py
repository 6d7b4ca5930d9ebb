"""Benchmark of the batch (prints figures; not a test). See bench/README.md, section "batch".

Side by side, in one run, on a temporary copy of the sample city (never the repo's outputs/):

1. naive baseline: for each notebook the ``papermill`` CLI, then
   ``jupyter nbconvert --to html --no-input`` (what a shell loop does);
2. ours: ``stat-lib run --period P --force``; ratio baseline / ours;
3. a re-run with nothing changed (``stat-lib run --period P``);
4. optional: ours with the kernel import trick off (``STAT_LIB_FAST_KERNEL=0``);
5. scale: a 1,000,000-request year from ``stat_lib.ingest.sample_city``, ingested, then the
   same batch:
   wall time and peak memory of the whole process tree (batch, workers, kernels, Chromium).

Usage: ``.venv/bin/python bench/batch.py [--period 2026-10] [--no-baseline] [--no-scale]
[--kernel-ab] [--cells] [--scale-total 1000000]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def make_home(base: Path, parquet: Path | None = None) -> Path:
    """params/ + the sample city's data (its requests replaced by a given parquet) in a fresh
    home folder: boundaries, the sample's other kinds (permits, surveys, telephony), session
    notes and KPI submissions, as ``make demo`` has them."""
    home = base / "home"
    shutil.copytree(ROOT / "params", home / "params")
    for folder in ("boundaries", "sample", "sessions", "submissions"):
        if (ROOT / "data" / folder).exists():
            shutil.copytree(ROOT / "data" / folder, home / "data" / folder)
    if parquet:
        shutil.copy(parquet, home / "data" / "sample" / "la_sample_requests.parquet")
    return home


class PeakMemory:
    """Peak memory of a process and all its descendants, sampled every 0.2 s.

    Uses PSS (proportional set size): pages shared by forked workers are split between them
    rather than counted once per process as RSS would. ``at_peak`` says who held what.
    """

    def __init__(self, pid: int):
        self.root, self.peak, self.at_peak = psutil.Process(pid), 0, {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            usage = {}
            for p in procs:
                try:
                    kind = _kind(p)
                    usage[kind] = usage.get(kind, 0) + p.memory_full_info().pss
                except psutil.Error:
                    pass
            if sum(usage.values()) > self.peak:
                self.peak, self.at_peak = sum(usage.values()), usage
            time.sleep(0.2)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join()
        return self.peak


def _kind(p: psutil.Process) -> str:
    cmd = " ".join(p.cmdline())
    if "ipykernel" in cmd or "kernel_fork" in cmd:  # forked kernels: the template's cmdline
        return "kernels"
    if "chrom" in cmd:
        return "chromium"
    return "batch+workers"


def timed(cmd: list[str], env=None, cwd=None, show=None) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak PSS bytes of its process tree)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    mem = PeakMemory(proc.pid)
    out, _ = proc.communicate()
    peak = mem.stop()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(out[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    if show:
        for line in out.splitlines():
            if any(word in line for word in show):
                print("    " + line)
    timed.last_breakdown = {k: round(v / 2**20) for k, v in mem.at_peak.items()}
    return seconds, peak


def stat_lib(home: Path, *args: str, env=None, show=None) -> tuple[float, int]:
    return timed([str(BIN / "stat-lib"), "--home", str(home), *args], env=env, show=show)


def slugs(home: Path) -> list[str]:
    return sorted(p.stem for p in (home / "params" / "departments").glob("*.yaml"))


def baseline(home: Path, period: str) -> float:
    """The CLI loop: papermill then nbconvert, one notebook after another."""
    out = home / "baseline"
    out.mkdir()
    total = 0.0
    for slug in slugs(home) + ["citywide"]:
        nb = ROOT / "notebooks" / ("citywide.ipynb" if slug == "citywide" else "department.ipynb")
        executed = out / f"{slug}.ipynb"
        s1, _ = timed([str(BIN / "papermill"), str(nb), str(executed), "-p", "department", slug,
                       "-p", "period", period, "-p", "home", str(home), "--cwd", str(home)])
        s2, _ = timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                       str(executed)])
        print(f"  baseline {slug}: papermill {s1:.1f} s + nbconvert {s2:.1f} s")
        total += s1 + s2
    return total


KERNEL_CODE = ("import time as _t; _s = _t.perf_counter(); "
               "import pandas, geopandas, altair, folium; print(_t.perf_counter() - _s)")


def kernel_imports(rounds: int = 3) -> None:
    """Fresh batch kernel: start-up and ``import pandas, geopandas, altair, folium``, with
    and without the rfc3987_syntax block, interleaved so machine load hits both alike."""
    from jupyter_client import KernelManager

    from stat_lib.run.executors import kernel_args
    results = {"blocked": [], "plain": []}
    for _ in range(rounds):
        for name in results:
            os.environ["STAT_LIB_FAST_KERNEL"] = "1" if name == "blocked" else "0"
            ipc = tempfile.mkdtemp(prefix="slk-")
            km = KernelManager(kernel_name="python3", transport="ipc", ip=ipc + "/k")
            t0 = time.perf_counter()
            km.start_kernel(extra_arguments=kernel_args())
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(60)
            ready = time.perf_counter() - t0
            out = []
            kc.execute_interactive(KERNEL_CODE, timeout=120, output_hook=lambda m: out.append(
                m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
            results[name].append((ready, float("".join(out).strip())))
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            shutil.rmtree(ipc, ignore_errors=True)
    os.environ.pop("STAT_LIB_FAST_KERNEL", None)
    for name, rows in results.items():
        ready = sorted(r for r, _ in rows)[len(rows) // 2]
        imports = sorted(i for _, i in rows)[len(rows) // 2]
        print(f"kernel ({name} rfc3987_syntax): ready {ready:.2f} s, then the four imports "
              f"{imports:.2f} s (median of {rounds})")


def cell_times(home: Path, period: str) -> None:
    """Each notebook once through papermill in this process (batch kernel arguments): its
    own cells' seconds, as papermill records them, per cell and in total."""
    import json

    import papermill as pm

    from stat_lib.run.executors import ipc_kernel_manager, kernel_args
    for slug in slugs(home) + ["citywide"]:
        nb = ROOT / "notebooks" / ("citywide.ipynb" if slug == "citywide" else "department.ipynb")
        params = {"period": period, "home": str(home)}
        if slug != "citywide":
            params["department"] = slug
        out = home / f"cells-{slug}.ipynb"
        ipc = tempfile.mkdtemp(prefix="slk-")
        pm.execute_notebook(str(nb), str(out), parameters=params, progress_bar=False,
                            log_output=False, request_save_on_cell_execute=False,
                            extra_arguments=kernel_args(), cwd=str(home),
                            kernel_manager_class=ipc_kernel_manager(ipc))
        shutil.rmtree(ipc, ignore_errors=True)
        cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
        secs = [c["metadata"]["papermill"]["duration"] or 0.0 for c in cells]
        print(f"  cells {slug}: {sum(secs):.2f} s ({' '.join(f'{x:.2f}' for x in secs)})")


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--kernel-ab", action="store_true",
                    help="also time ours with STAT_LIB_FAST_KERNEL=0")
    ap.add_argument("--scale-total", type=int, default=1_000_000)
    ap.add_argument("--cells", action="store_true",
                    help="also time each notebook's own cells (papermill, one at a time)")
    args = ap.parse_args(argv)
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, period {args.period}")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        home = make_home(Path(tmp))
        s, _ = stat_lib(home, "ingest")
        print(f"sample city ingest: {s:.1f} s; {len(slugs(home))} departments + citywide")
        base = None if args.no_baseline else baseline(home, args.period)
        if base is not None:
            print(f"naive baseline (papermill CLI + nbconvert CLI): {base:.1f} s")
        ours, ours_mem = stat_lib(home, "run", "--period", args.period, "--force")
        print(f"ours (stat-lib run --force): {ours:.1f} s, peak memory {gib(ours_mem)} "
              f"(MiB at peak: {timed.last_breakdown})")
        if base is not None:
            print(f"ratio baseline/ours: {base / ours:.2f}x")
        noop, _ = stat_lib(home, "run", "--period", args.period, show=("changed", "first run"))
        print(f"re-run, nothing changed: {noop:.2f} s (whole CLI process; lines above, if any, "
              f"say why a notebook re-ran, e.g. stat_lib sources edited meanwhile)")
        kernel_imports()
        if args.cells:
            cell_times(home, args.period)
        if args.kernel_ab:
            env = {**os.environ, "STAT_LIB_FAST_KERNEL": "0"}
            slow, _ = stat_lib(home, "run", "--period", args.period, "--force", env=env)
            print(f"ours with STAT_LIB_FAST_KERNEL=0: {slow:.1f} s (vs {ours:.1f} s)")
        if not args.no_scale:
            scale(Path(tmp), args.period, args.scale_total, ours, ours_mem)
    return 0


def scale(tmp: Path, period: str, total: int, ours: float, ours_mem: int) -> None:
    """A year of ``total`` requests ending with ``period``'s month, then the same batch."""
    from stat_lib.core.periods import Period
    from stat_lib.ingest.sample_city import generate
    p = Period.parse(period, tz="America/Los_Angeles")
    start = p.shift(-11).first_day.isoformat()
    end = (p.next().first_day - __import__("datetime").timedelta(days=1)).isoformat()
    t0 = time.perf_counter()
    df = generate(start=start, end=end, total=total)
    parquet = tmp / "scale.parquet"
    df.to_parquet(parquet)
    del df
    print(f"scale: generated {total:,} requests {start}..{end} in "
          f"{time.perf_counter() - t0:.1f} s")
    home = make_home(tmp / "scale", parquet)
    s, mem = stat_lib(home, "ingest")
    print(f"scale ingest: {s:.1f} s, peak memory {gib(mem)}")
    s, mem = stat_lib(home, "run", "--period", period, "--force")
    print(f"scale batch (stat-lib run --force): {s:.1f} s ({s / ours:.2f}x the sample city's "
          f"{ours:.1f} s), peak memory {gib(mem)} ({mem / ours_mem:.2f}x the sample city's; "
          f"MiB at peak: {timed.last_breakdown})")


if __name__ == "__main__":
    sys.exit(main())
