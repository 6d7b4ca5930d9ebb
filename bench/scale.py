"""Big-city bench (prints figures; not a test). See bench/README.md, section "big city".

One command, side by side in one run, each figure with the load average when it was taken:

1. a city of ``--departments`` (30) departments, ``--per-year`` (3,000,000) requests a year
   over two years ending with ``--period``'s month, from ``stat_lib.ingest.sample_big_city``
   (monthly MyLA311 CSV files, cached under ``bench/.cache``, never committed);
2. ingest of all its rows into a fresh store (``stat-lib ingest``), against
   ``pandas.read_csv`` + ``geopandas.sjoin`` on the same files (``--baseline-months N``: the
   first N only, for a machine without the ~14 GiB it takes);
3. the monthly batch (``stat-lib run --period P --force``, ``--workers 2``): every department
   packet, citywide, briefing and roundtable; then an unchanged re-run;
4. the same batch on the first ``--small-departments`` (10) departments of that city, with
   their very rows (the others' rows left out of the CSVs): the same department sizes, a
   third of the departments; peak memory must not grow with departments;
5. unless ``--no-naive``: the sample city's batch against the naive loop (papermill CLI then
   nbconvert CLI per notebook, every notebook of the period), in this same run.

Peak memory: the summed PSS of the command and all its descendants (batch, workers, kernel
template, forked kernels, Chromium), sampled every 0.2 s; "largest kernel" is the highest PSS
one kernel process reached. Ingest and baseline also give ``ru_maxrss`` (one process each).

Usage: ``.venv/bin/python bench/scale.py`` (the full 6M-row run, ~15-20 min with the data
cached); ``--per-year 300000`` for a quick run (``make bench`` does that).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import batch as batch_bench  # noqa: E402  (bench/batch.py: the naive loop, the sample home)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = ROOT / "bench" / ".cache"
ROWS: list[tuple] = []  # (what, figure, goal, verdict, load average)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def record(what: str, figure: str, goal: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("met" if ok else "NOT met")
    ROWS.append((what, figure, goal, verdict, load()))
    print(f"  {what}: {figure}" + (f"  (goal {goal}: {verdict})" if goal else "")
          + f"  [load {load()}]", flush=True)


# -- the city ---------------------------------------------------------------------------------

def span(period: str) -> tuple[str, str]:
    """Two years of creation dates ending with the period's month."""
    from stat_lib.core.periods import Period
    p = Period.parse(period, tz="America/Los_Angeles")
    end = p.next().first_day - dt.timedelta(days=1)
    return p.shift(-23).first_day.isoformat(), end.isoformat()


def city(count: int, per_year: int, period: str, seed: int) -> Path:
    """The cached city folder (params + monthly CSVs); generated once per arguments."""
    from stat_lib.ingest import sample_big_city as big
    start, end = span(period)
    folder = CACHE / f"city-{count}d-{per_year}py-{start}-{end}-s{seed}"
    if not (folder / "DONE").exists():
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        big.write_params(folder, count)
        files = big.write_requests(folder / "data" / "requests", start, end, per_year, count,
                                   seed)
        size = sum(f.stat().st_size for f in files)
        (folder / "DONE").write_text(json.dumps({"files": len(files), "bytes": size}))
        print(f"generated {count} departments, {start}..{end}, {len(files)} CSV files, "
              f"{size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s -> {folder}")
    return folder


def subset(src: Path, count: int) -> Path:
    """The cached city of ``src``'s first ``count`` departments with their very rows (the
    other departments' rows left out of each CSV): the same department sizes, fewer of them."""
    import duckdb

    from stat_lib.ingest import sample_big_city as big
    folder = CACHE / f"{src.name}-first{count}"
    if (folder / "DONE").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    keep = big.departments(count)
    shutil.copytree(src / "params", folder / "params")
    shutil.copytree(src / "data" / "boundaries", folder / "data" / "boundaries")
    for f in (folder / "params" / "departments").glob("*.yaml"):
        if f.stem not in {d.slug for d in keep}:
            f.unlink()
    codes = ", ".join(f"'{d.code}'" for d in keep)
    out = folder / "data" / "requests"
    out.mkdir(parents=True)
    con = duckdb.connect()
    for f in sorted((src / "data" / "requests").glob("*.csv")):
        con.execute(f"COPY (SELECT * FROM read_csv('{f}', header=true, all_varchar=true) "
                    f"WHERE Owner IN ({codes})) TO '{out / f.name}' (HEADER, DELIMITER ',')")
    (folder / "DONE").write_text(json.dumps({"departments": count}))
    print(f"kept {count} departments of {src.name} in {time.perf_counter() - t0:.0f} s "
          f"-> {folder}")
    return folder


def fresh_home(src: Path, tmp: Path) -> Path:
    """A home folder for one measurement: params copied, the CSV files linked."""
    home = tmp / src.name
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(src / "params", home / "params")
    shutil.copytree(src / "data" / "boundaries", home / "data" / "boundaries")
    (home / "data" / "requests").mkdir(parents=True)
    for f in sorted((src / "data" / "requests").glob("*.csv")):
        (home / "data" / "requests" / f.name).symlink_to(f.resolve())
    return home


# -- measuring --------------------------------------------------------------------------------

class TreeMemory:
    """Peak summed PSS of a process tree (0.2 s samples), and the largest single kernel."""

    def __init__(self, pid: int):
        self.root, self.peak, self.kernel_peak, self.at_peak = psutil.Process(pid), 0, 0, {}
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
                try:  # a process may end (or be a zombie) between two calls
                    kind, pss = batch_bench._kind(p), p.memory_full_info().pss
                    kernel = _is_kernel(p)
                except psutil.Error:
                    continue
                usage[kind] = usage.get(kind, 0) + pss
                if kernel:
                    self.kernel_peak = max(self.kernel_peak, pss)
            if sum(usage.values()) > self.peak:
                self.peak, self.at_peak = sum(usage.values()), usage
            time.sleep(0.2)

    def stop(self):
        self._stop.set()
        self.thread.join()
        return self


def _is_kernel(p: psutil.Process) -> bool:
    """A notebook's kernel: forked from the template (the template's command line, the
    template its parent) or started cold; not the template, not a stub."""
    cmd = " ".join(p.cmdline())
    if "kernel_fork serve" in cmd:
        return "kernel_fork serve" in " ".join(p.parent().cmdline())
    return "ipykernel_launcher" in cmd and "kernel_fork_stub" not in cmd


def run(cmd: list[str], env=None, cwd=None) -> tuple[float, TreeMemory, str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    mem = TreeMemory(proc.pid)
    out, _ = proc.communicate()
    mem.stop()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(out[-4000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds, mem, out


def stat_lib(home: Path, *args: str) -> tuple[float, TreeMemory, str]:
    return run([str(BIN / "stat-lib"), "--home", str(home), *args])


def maxrss(code: str, *args) -> dict:
    """Run python ``code`` under a fresh wrapper: its JSON line plus ``ru_maxrss`` (MiB)."""
    wrapper = ("import json, resource, subprocess, sys\n"
               "out = subprocess.run([sys.executable, '-c', sys.argv[1], *sys.argv[2:]], "
               "check=True, stdout=subprocess.PIPE, text=True).stdout\n"
               "r = json.loads(out.strip().splitlines()[-1])\n"
               "r['maxrss_mib'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               "print(json.dumps(r))")
    out = subprocess.run([sys.executable, "-c", wrapper, code, *map(str, args)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


INGEST = """
import json, resource, sys, time
from stat_lib.params import load_params
from stat_lib.ingest import ingest
params = load_params(sys.argv[1])
t, cpu = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
report = ingest(params)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": report.rows_read,
                  "loaded": report.rows_loaded,
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu}))
"""

BASELINE = """
import json, resource, sys, time
import geopandas as gpd, pandas as pd
t, cpu = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
df = pd.concat([pd.read_csv(f, dtype=str) for f in sys.argv[2:]], ignore_index=True)
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(
    pd.to_numeric(df.Longitude, errors="coerce"), pd.to_numeric(df.Latitude, errors="coerce")),
    crs="EPSG:4326")
for name, key in (("la-city-council-districts-2012.json", "name"),
                  ("nc-boundary-2019-modified.json", "nc_id")):
    layer = gpd.read_file(sys.argv[1] + "/" + name)[[key, "geometry"]]
    pts = gpd.sjoin(pts, layer.rename(columns={key: "k_" + name[:2]}), how="left",
                    predicate="within").drop(columns="index_right")
    pts = pts[~pts.index.duplicated()]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(pts),
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu}))
"""


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


# -- the steps --------------------------------------------------------------------------------

def bench_ingest(src: Path, tmp: Path, baseline_months: int) -> Path:
    home = fresh_home(src, tmp)
    files = sorted((home / "data" / "requests").glob("*.csv"))
    ours = maxrss(INGEST, home)
    rows = ours["rows"]
    record(f"ingest, {rows:,} rows ({len(files)} monthly CSV files)",
           f"{ours['seconds']:.1f} s ({ours['cpu']:.1f} cpu s, {rows / ours['seconds']:,.0f} "
           f"rows/s), peak {ours['maxrss_mib'] / 1024:.2f} GiB maxrss",
           "<= 45 s, <= 4 GB", ours["seconds"] <= 45 and ours["maxrss_mib"] <= 4 * 1000 ** 3
           / 2**20)
    if baseline_months != 0:
        subset = files[:baseline_months] if baseline_months else files
        base = maxrss(BASELINE, home / "data" / "boundaries", *subset)
        which = "the same" if len(subset) == len(files) else f"the first {len(subset)}"
        record(f"baseline pandas.read_csv + geopandas.sjoin, {which} {len(subset)} files "
               f"({base['rows']:,} rows)",
               f"{base['seconds']:.1f} s ({base['cpu']:.1f} cpu s, "
               f"{base['rows'] / base['seconds']:,.0f} rows/s), peak "
               f"{base['maxrss_mib'] / 1024:.2f} GiB maxrss")
        ratio = (rows / ours["seconds"]) / (base["rows"] / base["seconds"])
        record("ingest rows/s, ours / baseline", f"{ratio:.2f}x", "> 1x", ratio > 1)
    return home


def bench_batch(home: Path, period: str, label: str, goal: bool) -> float:
    seconds, mem, out = stat_lib(home, "run", "--period", period, "--force", "--workers", "2")
    summary = [line for line in out.splitlines() if "notebook(s)" in line]
    notebooks = summary[-1].split(":")[1].split("notebook")[0].strip() if summary else "?"
    breakdown = {k: round(v / 2**20) for k, v in mem.at_peak.items()}
    record(f"{label}: batch, {notebooks} notebooks, 2 workers",
           f"{seconds:.1f} s, peak {gib(mem.peak)} (MiB at peak: {breakdown}), largest "
           f"kernel {gib(mem.kernel_peak)}",
           "<= 120 s, <= 4 GB" if goal else "",
           (seconds <= 120 and mem.peak <= 4e9) if goal else None)
    slow = sorted(notebook_seconds(out).items(), key=lambda kv: -kv[1])
    print("    notebooks, slowest first: " + ", ".join(f"{s} {t:.1f} s" for s, t in slow))
    noop, _, _ = stat_lib(home, "run", "--period", period, "--workers", "2")
    record(f"{label}: re-run, nothing changed", f"{noop:.2f} s", "< 3 s", noop < 3)
    return mem.peak


def notebook_seconds(out: str) -> dict:
    """slug -> seconds from the batch's ``[n/N] slug: ok in X s`` lines."""
    found = {}
    for line in out.splitlines():
        if "] " in line and ": ok in " in line:
            slug = line.split("] ", 1)[1].split(":")[0]
            found[slug] = float(line.rsplit(" in ", 1)[1].split()[0])
    return found


def bench_naive(tmp: Path, period: str) -> None:
    home = tmp / "sample"
    shutil.copytree(ROOT / "params", home / "params")
    for folder in ("boundaries", "sample", "sessions", "submissions"):
        if (ROOT / "data" / folder).exists():
            shutil.copytree(ROOT / "data" / folder, home / "data" / folder)
    stat_lib(home, "ingest")
    from stat_lib.params import load_params
    from stat_lib.present.notebook_kinds import notebook_for, plan
    runs = [(slug, kind) for slug, kind in plan(load_params(home))]
    out = home / "baseline"
    out.mkdir()
    naive, per = 0.0, {}
    for slug, kind in runs:
        nb = notebook_for(slug, kind)
        executed = out / f"{slug}.ipynb"
        params = ["-p", "period", period, "-p", "home", str(home)]
        if kind.name != "citywide":  # every other notebook names its run by `department`
            params += ["-p", "department", slug]
        s1, _, _ = run([str(BIN / "papermill"), str(nb), str(executed), *params,
                        "--cwd", str(home)])
        s2, _, _ = run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(executed)])
        naive += s1 + s2
        per[slug] = (s1, s2)
    record(f"sample city: naive loop, {len(runs)} notebooks (papermill CLI + nbconvert CLI)",
           f"{naive:.1f} s")
    ours, mem, out = stat_lib(home, "run", "--period", period, "--force", "--workers", "2")
    record("sample city: ours (stat-lib run --force)", f"{ours:.1f} s, peak {gib(mem.peak)}")
    mine = notebook_seconds(out)
    print("    notebook: naive papermill + nbconvert CLI / ours (one job in a worker)")
    for slug, (s1, s2) in per.items():
        print(f"    {slug}: {s1:.1f} + {s2:.1f} s / {mine.get(slug, float('nan')):.1f} s")
    record("sample city: ratio naive / ours", f"{naive / ours:.2f}x", ">= 6x (stretch 8x)",
           naive / ours >= 6)
    noop, _, _ = stat_lib(home, "run", "--period", period, "--workers", "2")
    record("sample city: re-run, nothing changed", f"{noop:.2f} s", "< 3 s", noop < 3)


def step(name: str, fn, *args):
    """Run one step; a failure is a row of the table (the other steps still run)."""
    try:
        return fn(*args)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        record(f"{name}: FAILED", str(exc)[:200])
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--departments", type=int, default=30)
    ap.add_argument("--small-departments", type=int, default=10,
                    help="the second city (0: skip it)")
    ap.add_argument("--per-year", type=int, default=3_000_000)
    ap.add_argument("--baseline-months", type=int, default=None,
                    help="monthly files the pandas baseline reads (default all: ~14 GiB at "
                         "6M rows; 0: skip it)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--no-batch", action="store_true")
    args = ap.parse_args(argv)
    print(f"cores {os.cpu_count()}, python {sys.version.split()[0]}, load {load()}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}", flush=True)
    big = city(args.departments, args.per_year, args.period, args.seed)
    small = subset(big, args.small_departments) if args.small_departments else None
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        home = step("ingest", bench_ingest, big, tmp, args.baseline_months)
        if home and not args.no_batch:
            peak = step("batch", bench_batch, home, args.period,
                        f"{args.departments} departments", True)
            if small:
                home_s = fresh_home(small, tmp)
                stat_lib(home_s, "ingest")
                peak_s = step("small batch", bench_batch, home_s, args.period,
                              f"{args.small_departments} departments", False)
                if peak and peak_s:
                    record(f"batch peak, {args.departments} / {args.small_departments} "
                           f"departments", f"{peak / peak_s:.2f}x",
                           "~1x (no growth with departments)", peak / peak_s <= 1.25)
        if not args.no_naive:
            step("naive loop", bench_naive, tmp, args.period)
    print("\n| what | figure | goal | verdict | load 1/5/15 min |\n|---|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
