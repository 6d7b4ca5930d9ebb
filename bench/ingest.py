"""Benchmark: ingest a 1,000,000-request year (MyLA311 CSV) with both LA boundary layers.

Each variant runs in its own subprocess; peak memory is that child's ``ru_maxrss``; ``cpu s``
is the variant's user + system CPU time (on a shared machine, wall time above CPU time / cores
is time spent waiting for a core).

- ``stat_lib``: ``stat_lib.ingest.ingest`` into a fresh store (read, validate, place, upsert).
- ``baseline``: ``pandas.read_csv`` + ``geopandas.sjoin`` with both layers, nothing else.

Usage: ``python bench/ingest.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAT_LIB = """
import json, resource, sys, time
import duckdb
from stat_lib.params import load_params
from stat_lib.ingest import ingest
params = load_params(sys.argv[1])
t, cpu = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
report = ingest(params)
seconds = time.perf_counter() - t
cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu
# sample ids are '1-9' + the 8-digit data row: every row must keep its own row number
with duckdb.connect(str(params.store_path), read_only=True) as con:
    misnumbered = con.execute("SELECT count(*) FROM requests WHERE request_id <> '1-9' || "
                              "lpad(source_row::VARCHAR, 8, '0')").fetchone()[0]
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": report.rows_read,
                  "loaded": report.rows_loaded, "misnumbered": misnumbered}))
"""

BASELINE = """
import json, resource, sys, time
import geopandas as gpd, pandas as pd
t, cpu = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
df = pd.read_csv(sys.argv[2], dtype=str)
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(
    pd.to_numeric(df.Longitude, errors="coerce"), pd.to_numeric(df.Latitude, errors="coerce")),
    crs="EPSG:4326")
for name, key in (("la-city-council-districts-2012.json", "name"),
                  ("nc-boundary-2019-modified.json", "nc_id")):
    layer = gpd.read_file(sys.argv[3] + "/" + name)[[key, "geometry"]]
    pts = gpd.sjoin(pts, layer.rename(columns={key: "k_" + name[:2]}), how="left",
                    predicate="within").drop(columns="index_right")
    pts = pts[~pts.index.duplicated()]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(pts),
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu}))
"""


def make_home(tmp: Path, rows: int) -> Path:
    from stat_lib.ingest import sample_city as sample
    csv = tmp / "data" / "year.csv"
    sample.write_csv(sample.generate("2025-01-01", "2025-12-31", total=rows), csv)
    params = tmp / "params"
    (params / "departments").mkdir(parents=True)
    for f in (ROOT / "params" / "departments").glob("*.yaml"):
        (params / "departments" / f.name).write_text(f.read_text())
    city = (ROOT / "params" / "city.yaml").read_text()
    city = city.replace("data/sample/la_sample_requests.parquet", str(csv))
    city = city.replace("path: data/boundaries", f"path: {ROOT}/data/boundaries")
    (params / "city.yaml").write_text(city)
    return tmp


def run(variant: str, *args) -> dict:
    """Run a variant under a fresh wrapper process, so RUSAGE_CHILDREN sees only it."""
    out = subprocess.run([sys.executable, __file__, "--child", variant, *map(str, args)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(variant: str, args: list[str]) -> None:
    code = {"stat_lib": STAT_LIB, "baseline": BASELINE}[variant]
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                         text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1:])
    with tempfile.TemporaryDirectory(prefix="stat-lib-bench-") as tmp:
        home = make_home(Path(tmp), args.rows)
        csv = home / "data" / "year.csv"
        print(f"{args.rows:,} requests, CSV {csv.stat().st_size / 1e6:.0f} MB, 2 layers")
        ours = run("stat_lib", home)
        base = run("baseline", home, csv, ROOT / "data" / "boundaries")
    print(f"{'variant':<10} {'seconds':>8} {'cpu s':>6} {'rows/s':>10} {'peak MB':>8}")
    for name, r in (("stat_lib", ours), ("baseline", base)):
        print(f"{name:<10} {r['seconds']:>8.1f} {r['cpu']:>6.1f} "
              f"{r['rows'] / r['seconds']:>10,.0f} {r['peak_mb']:>8.0f}")
    print(f"ratio stat_lib/baseline time: {ours['seconds'] / base['seconds']:.2f}; "
          f"stat_lib rows with a wrong source_row: {ours['misnumbered']}")


if __name__ == "__main__":
    main()
