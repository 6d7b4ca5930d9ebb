# ruff: noqa: E501  (the hand fixture's table and rows are wider than a line on purpose)
"""Everything the tests build, in one place.

- paths: the repository, its test fixtures and tiny notebooks;
- homes: params/ copied from the sample city or written from scratch, data linked in, edits;
- MyLA311 rows for ingest tests (a two-square grid home, CSV writers);
- the batch home: two departments, a five-request store, notebooks folders, manifest readers;
- the hand-worked metrics fixture (every figure worked out in its table) and its store;
- one executed test packet (papermill + nbconvert), shared by packet and browser tests.

Imports of stat_lib's heavier parts stay inside the functions that need them.
"""

from __future__ import annotations

import atexit
import csv
import json
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.core.periods import Period
from stat_lib.params import Department, load_params

# --- paths --------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]  # the repository: its params/ are the sample city's
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"  # small source extracts and the two-square boundary file
TEST_NOTEBOOKS = TESTS / "notebooks"  # ok, broken, dies_once, no_parameters, slow
LA_CSVS = sorted((ROOT / "data" / "la311").glob("MyLA311_*.csv"))
LA_BOUNDARIES = [
    {"layer": "council", "name": "Council district",
     "path": str(ROOT / "data/boundaries/la-city-council-districts-2012.json"),
     "key": "name", "label": "name", "source_column": "CD"},
    {"layer": "neighborhood", "name": "Neighborhood council",
     "path": str(ROOT / "data/boundaries/nc-boundary-2019-modified.json"),
     "key": "nc_id", "label": "name", "source_column": "NC"},
]
SQUARES = str(FIXTURES / "squares.geojson")  # two unit squares, keys A (x 0..1) and B (x 1..2)
EVIL = "<script>window.__pwned=1</script>"  # data text that must show literally, never run
LA_TZ = "America/Los_Angeles"


# --- homes --------------------------------------------------------------------------------------

def params_home(base: Path) -> Path:
    """A copy of the sample city's params in ``base`` (no data, no store, no outputs)."""
    shutil.copytree(ROOT / "params", base / "params")
    return base


def sample_home(base: Path, folders=("sample", "boundaries"), **city_updates) -> Path:
    """A home with the sample city's params (``city_updates`` applied to city.yaml) and the
    repo's ``data/<folder>`` linked in; its store and outputs are its own."""
    params_home(base)
    (base / "data").mkdir()
    if "sample" not in folders:  # the sample's other kinds read data/sample too
        city_updates = {"permits": [], "permit_stops": [], "surveys": [], "telephony": [],
                        "contact_center": None, **city_updates}
    for folder in folders:
        (base / "data" / folder).symlink_to(ROOT / "data" / folder)
    if city_updates:
        city_file = base / "params" / "city.yaml"
        city = yaml.safe_load(city_file.read_text())
        city.update(city_updates)
        city_file.write_text(yaml.safe_dump(city, sort_keys=False))
    return base


def city_home(root: Path, sources: list[dict], *, boundaries=None, departments=None,
              timezone=LA_TZ) -> Path:
    """Write params/ from scratch under ``root`` and return it: a "Test City" reading
    ``sources``; boundaries default to LA's two layers, departments to the sample city's."""
    pdir = root / "params"
    (pdir / "departments").mkdir(parents=True, exist_ok=True)
    city = {"name": "Test City", "slug": "test-city", "timezone": timezone,
            "sources": sources, "boundaries": LA_BOUNDARIES if boundaries is None else boundaries}
    (pdir / "city.yaml").write_text(yaml.safe_dump(city, sort_keys=False))
    if departments is None:
        for f in (ROOT / "params" / "departments").glob("*.yaml"):
            shutil.copy(f, pdir / "departments" / f.name)
    else:
        for slug, body in departments.items():
            (pdir / "departments" / f"{slug}.yaml").write_text(yaml.safe_dump(body))
    return root


def department(name: str, *codes: str, services=()) -> dict:
    """A department body for :func:`city_home`: its name, source codes and service names."""
    return {"name": name, "source_codes": list(codes),
            "services": [{"name": s} for s in services]}


def replace_in_city(home: Path, old: str, new: str) -> None:
    """Edit the home's city.yaml as text: ``old`` -> ``new``."""
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text().replace(old, new))


def drop_permits(home: Path) -> None:
    """The home's city.yaml without the sample's permit sources (``permits: []``)."""
    import re
    city = home / "params" / "city.yaml"
    text, n = re.subn(r"^permits:\n(?:  .*\n)+permit_stops:\n(?:  .*\n)+",
                      "permits: []\npermit_stops: []\n", city.read_text(), flags=re.MULTILINE)
    assert n == 1, "the sample city.yaml's permits block moved: update drop_permits"
    city.write_text(text)


def drop_block(home: Path, key: str, instead: str) -> None:
    """The home's city.yaml with its top-level ``key:`` block (the key's line and the indented
    lines under it) replaced by ``instead`` (a line, or nothing)."""
    import re
    city = home / "params" / "city.yaml"
    text, n = re.subn(rf"^{key}:.*\n(?:[ #].*\n|\n)*?(?=^\S)", instead + "\n" if instead else "",
                      city.read_text(), count=1, flags=re.MULTILINE)
    assert n == 1, f"the sample city.yaml has no {key}: block"
    city.write_text(text)


def use_real_rows(home: Path, rows: int = 300) -> None:
    """Point city.yaml at the first ``rows`` real requests of 1 Jan 2018 (MyLA311), copied to
    the home's ``data/la311_slice.csv``."""
    lines = (ROOT / "data" / "la311" / "MyLA311_2018_mini.csv").read_text().splitlines()
    (home / "data" / "la311_slice.csv").write_text("\n".join(lines[: rows + 1]) + "\n")
    replace_in_city(home, "data/sample/la_sample_requests.parquet", "data/la311_slice.csv")


def layer_home(base: Path, path: Path, key: str = "name"):
    """Params of a home (``base/<path stem>``) reading the 10,000 real 2018 rows with one
    council layer read from ``path`` (any format and CRS), keyed and labelled by ``key``."""
    home = base / path.stem
    params_home(home)
    city_file = home / "params" / "city.yaml"
    city = yaml.safe_load(city_file.read_text())
    city.update(sources=[{"path": str(ROOT / "data" / "la311" / "MyLA311_2018_mini.csv"),
                          "profile": "myla311"}],
                boundaries=[{"layer": "council", "name": "Council district", "path": str(path),
                             "key": key, "label": key}],
                permits=[], permit_stops=[], surveys=[], telephony=[])  # requests only:
    # the sample's permits, surveys and telephony are absent
    city_file.write_text(yaml.safe_dump(city, sort_keys=False))
    return load_params(home)


def philly_home(base: Path) -> Path:
    """``stat-lib init``'s skeleton reading the Philadelphia fixture as ``philly.csv``."""
    from stat_lib.params.skeleton import init
    init(base)
    shutil.copy(FIXTURES / "philly311.csv", base / "philly.csv")
    city = yaml.safe_load((base / "params" / "city.yaml").read_text())
    city["sources"] = [{"name": "philly", "path": "philly.csv", "profile": "philly311"}]
    (base / "params" / "city.yaml").write_text(yaml.safe_dump(city))
    return base


# --- MyLA311 rows for ingest tests --------------------------------------------------------------

MYLA_COLUMNS = ["SRNumber", "CreatedDate", "UpdatedDate", "Owner", "RequestType", "Status",
                "RequestSource", "ClosedDate", "Address", "Latitude", "Longitude", "CD"]
GRID_DEPARTMENTS = {"bos": {"name": "Sanitation", "source_codes": ["BOS"],
                            "services": [{"name": "Bulky Items", "code": "bulky"}]}}
GRID = [{"layer": "grid", "name": "Grid", "path": SQUARES, "key": "id", "label": "name",
         "source_column": "CD"}]


def myla_row(rid="1", **kw) -> dict:
    """One MyLA311 export row: a closed Bulky Items request of BOS inside square A."""
    base = {"SRNumber": rid, "CreatedDate": "01/02/2024 10:00:00 AM",
            "UpdatedDate": "01/03/2024 10:00:00 AM", "Owner": "BOS", "RequestType": "Bulky Items",
            "Status": "Closed", "RequestSource": "Call", "ClosedDate": "01/03/2024 10:00:00 AM",
            "Address": "1 MAIN ST", "Latitude": "0.5", "Longitude": "0.5", "CD": ""}
    return {**base, **kw}


def write_csv(path: Path, rows, columns=MYLA_COLUMNS, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def csv_lines(rows, bad_at=(), columns=MYLA_COLUMNS) -> str:
    """CSV text of ``rows``; data row ``i`` in ``bad_at`` (1-based) is a malformed line instead:
    one field too many when ``i`` is even, only two fields when odd."""
    out = [",".join(columns)]
    for i, r in enumerate(rows, start=1):
        fields = [r.get(c, "") for c in columns]
        if i in bad_at:
            fields = fields + ["extra"] if i % 2 == 0 else fields[:2]
        out.append(",".join(f'"{f}"' if "\n" in f else f for f in fields))
    return "\n".join(out) + "\n"


def grid_params(base: Path, *paths, **source):
    """Params of a home under ``base`` reading ``paths`` (profile myla311, ``source`` options
    added), with the two-square GRID layer and the one department of GRID_DEPARTMENTS."""
    sources = [{"name": f"s{i}", "path": str(p), "profile": "myla311", **source}
               for i, p in enumerate(paths)]
    return load_params(city_home(base, sources, boundaries=GRID, departments=GRID_DEPARTMENTS))


def ingest_rows(base: Path, rows, **source):
    """Write ``rows`` to ``base/x.csv``, ingest them into a grid home: params, the ingest
    report and the stored requests indexed by request_id."""
    from stat_lib import store
    from stat_lib.ingest import ingest
    params = grid_params(base, write_csv(base / "x.csv", rows), **source)
    report = ingest(params)
    return params, report, store.load_requests(params).set_index("request_id")


# --- the batch home -----------------------------------------------------------------------------

BATCH_DEPARTMENTS = ("sanitation", "street-lighting")  # + citywide: 3 notebooks per run


def batch_home(base: Path) -> Path:
    """params/ of the sample city trimmed to two departments (no briefing, no roundtable:
    3 notebooks per run), a store of 5 requests."""
    params_home(base)
    for f in (base / "params" / "departments").glob("*.yaml"):
        if f.stem not in BATCH_DEPARTMENTS:
            f.unlink()
    city_file = base / "params" / "city.yaml"  # cut as text: its comments and lines stay
    text = city_file.read_text()
    city_file.write_text(text[:text.index("\nbriefing:")] + text[text.index("\nspc:"):])
    shutil.copytree(ROOT / "data" / "boundaries", base / "data" / "boundaries")
    drop_permits(base)  # neither department has permits
    drop_block(base, "surveys", "surveys: []")  # nor surveys; no contact-center packet either
    drop_block(base, "telephony", "telephony: []")
    drop_block(base, "contact_center", "")
    add_requests(base, [("r1", "sanitation", "2026-10-02 09:00"),
                        ("r2", "sanitation", "2026-10-05 10:00"),
                        ("r3", "sanitation", "2026-10-20 11:00"),
                        ("r4", "street-lighting", "2026-10-07 12:00"),
                        ("r5", "street-lighting", "2026-11-02 08:00")])
    return base


def add_requests(home: Path, rows) -> None:
    """Insert ``(request_id, department, requested_at local)`` rows into the home's store."""
    from stat_lib.store import connect, ensure_schema
    params = load_params(home)
    with connect(params, read_only=False) as con:
        ensure_schema(con, params)
        for rid, dept, when in rows:
            con.execute(
                "INSERT INTO requests (request_id, service_code, service_name, department, "
                "status, status_raw, requested_at, updated_at, source_file, source_row) VALUES "
                "(?, 'other', 'Other', ?, 'open', 'Open', "
                "(?::TIMESTAMP AT TIME ZONE 'America/Los_Angeles'), "
                "(?::TIMESTAMP AT TIME ZONE 'America/Los_Angeles'), 'test', 1)",
                [rid, dept, when, when])


def notebooks_dir(base: Path, department="ok", citywide="ok", **own) -> Path:
    """A notebooks folder ``base/nbs``: department.ipynb, citywide.ipynb and ``<slug>.ipynb``
    overrides, each a copy of the named notebook of tests/notebooks/."""
    folder = base / "nbs"
    folder.mkdir(exist_ok=True)
    shutil.copy(TEST_NOTEBOOKS / f"{department}.ipynb", folder / "department.ipynb")
    shutil.copy(TEST_NOTEBOOKS / f"{citywide}.ipynb", folder / "citywide.ipynb")
    for slug, name in own.items():
        shutil.copy(TEST_NOTEBOOKS / f"{name}.ipynb", folder / f"{slug}.ipynb")
    return folder


def run_batch(home: Path, nbs: Path, **kw):
    """The batch of a :func:`batch_home` for 2026-10 (2 workers, no progress bar)."""
    from stat_lib.run.batch import run_period
    kw.setdefault("workers", 2)
    kw.setdefault("progress", False)
    return run_period(load_params(home), "2026-10", notebooks_dir=nbs, **kw)


def read_manifest(period_dir: Path) -> dict:
    return json.loads((period_dir / "manifest.json").read_text())


def manifest_runs(period_dir: Path) -> dict:
    """A period's manifest entries by department."""
    return {r["department"]: r for r in read_manifest(period_dir)["runs"]}


# --- the hand-worked metrics fixture ------------------------------------------------------------
#
# Department 'sanitation', period 2026-10 in America/Los_Angeles,
# [Thu 1 Oct 00:00 PDT, Sun 1 Nov 00:00 PDT). City closure 2026-10-12 (Mon) via extra_holidays.
# DST ends Sun 1 Nov 2026 at 02:00 (PDT -7 -> PST -8).
#
# id  service   created (local)     status     end (local)             due (worked out)
# R1  bulky     Tue 29 Sep 09:00    closed     Fri 2 Oct 15:00         5bd: 30,1,2,5,6 -> Wed 7 Oct 00:00
# R2  bulky     Thu 8 Oct 10:00     closed     Fri 16 Oct 11:00        9,(12 holiday),13,14,15,16 -> Sat 17 00:00
# R3  bulky     Fri 2 Oct 08:00     closed     Wed 14 Oct 12:00        5,6,7,8,9 -> Sat 10 Oct 00:00 (late)
# R4  bulky     Sat 24 Oct 11:00    open       -                       roll to Fri 23; 26..30 -> Sat 31 00:00
# R5  dead      Fri 30 Oct 22:00    closed     Sun 1 Nov 21:30 PST     48 elapsed h -> Sun 1 Nov 21:00 PST
# R6  camp      Fri 30 Oct 10:00    closed     Mon 2 Nov 09:30 PST     3 cal. days -> Mon 2 Nov 10:00 PST
# R7  feedback  Mon 5 Oct 09:00     closed     Tue 6 Oct 09:00         no SLA
# R8  bulky     Wed 7 Oct 09:00     cancelled  (updated) Fri 9 Oct     -
# R9  bulky     Tue 13 Oct 09:00    closed     Tue 13 Oct 09:30        duplicate
# R10 bulky     Tue 20 Oct 10:00    closed     Mon 19 Oct 10:00        negative duration
# R11 dead      Wed 14 Oct 08:00    closed     Thu 15 Oct 08:00        source due_at Wed 14 Oct 20:00 (late)
# R12 bulky     Mon 3 Aug 09:00     open       -                       4,5,6,7,10 -> Tue 11 Aug 00:00
# R13 bulky     Fri 30 Oct 09:00    closed     Mon 2 Nov 10:00 PST     2,3,4,5,6 Nov -> Sat 7 Nov 00:00
# R14 (department ocb: ignored)
# R15 bulky     Thu 10 Sep 09:00    cancelled  Sat 12 Sep 09:00        -
# R16 feedback  Tue 15 Sep 09:00    closed     Thu 1 Oct 00:00 exactly (ends in September)
# R17 bulky     Sat 31 Oct 08:00    open       -                       roll to Fri 30; 2..6 Nov -> Sat 7 Nov 00:00
#
# Latest timestamp in the data (as_of for cohorts): R13's close, Mon 2 Nov 10:00 PST.
# tests/test_metrics.py checks every figure; test_figures.py the same through a DuckDB store.

HAND_CAL = BusinessCalendar(LA_TZ, "US", "CA", ("2026-10-12",))
HAND_OCT = Period.parse("2026-10", LA_TZ)
HAND_NOV = Period.parse("2026-11", LA_TZ)

HAND_DEPT = Department.model_validate({
    "slug": "sanitation", "name": "Bureau of Sanitation", "source_codes": ["BOS"],
    "result": "healthy-sustainable-communities",
    "services": [{"name": "Bulky Items", "sla": "5 business days"},
                 {"name": "Dead Animal Removal", "code": "dead", "sla": "48 hours"},
                 {"name": "Homeless Encampment", "code": "camp", "sla": "3 calendar days"},
                 {"name": "Feedback"}],
    "targets": {"on_time_rate": {"target": 0.85, "direction": "higher", "tolerance": 0.05},
                "median_days_to_close": {"target": 4, "direction": "lower", "tolerance": 0.10},
                "backlog_open": {"target": 5, "direction": "lower", "tolerance": 0.10}},
    "standards": [{"id": "bulky-5-days", "promise": "Bulky items within 5 business days.",
                   "services": ["Bulky Items"], "within": "5 business days", "target": 0.9,
                   "redress": {"fee": 50, "per_business_day_late": 0.2, "cap": 1.0}}],
})

# HAND_DEPT as the department file of a home (hand_city checks they are the same)
HAND_SANITATION_YAML = """\
name: Bureau of Sanitation
source_codes: [BOS]
result: healthy-sustainable-communities
services:
  - {name: Bulky Items, sla: 5 business days}
  - {name: Dead Animal Removal, code: dead, sla: 48 hours}
  - {name: Homeless Encampment, code: camp, sla: 3 calendar days}
  - {name: Feedback}
targets:
  on_time_rate: {target: 0.85, direction: higher, tolerance: 0.05}
  median_days_to_close: {target: 4, direction: lower, tolerance: 0.10}
  backlog_open: {target: 5, direction: lower, tolerance: 0.10}
standards:
  - id: bulky-5-days
    promise: Bulky items within 5 business days.
    services: [Bulky Items]
    within: 5 business days
    target: 0.9
    redress: {fee: 50, per_business_day_late: 0.2, cap: 1.0}
"""

HAND_SERVICES = {"bulky": ("bulky-items", "Bulky Items"), "dead": ("dead", "Dead Animal Removal"),
                 "camp": ("camp", "Homeless Encampment"), "feedback": ("feedback", "Feedback")}

HAND_ROWS = [  # id, service, status, requested, closed_at, updated, due_at, raw, dept
    ("R1", "bulky", "closed", "2026-09-29 09:00", "2026-10-02 15:00", None, None, "Closed", "sanitation"),
    ("R2", "bulky", "closed", "2026-10-08 10:00", "2026-10-16 11:00", None, None, "Closed", "sanitation"),
    ("R3", "bulky", "closed", "2026-10-02 08:00", "2026-10-14 12:00", None, None, "Closed", "sanitation"),
    ("R4", "bulky", "open", "2026-10-24 11:00", None, None, None, "Open", "sanitation"),
    ("R5", "dead", "closed", "2026-10-30 22:00", "2026-11-01 21:30", None, None, "Closed", "sanitation"),
    ("R6", "camp", "closed", "2026-10-30 10:00", "2026-11-02 09:30", None, None, "Closed", "sanitation"),
    ("R7", "feedback", "closed", "2026-10-05 09:00", "2026-10-06 09:00", None, None, "Closed", "sanitation"),
    ("R8", "bulky", "cancelled", "2026-10-07 09:00", None, "2026-10-09 09:00", None, "Cancelled", "sanitation"),
    ("R9", "bulky", "closed", "2026-10-13 09:00", "2026-10-13 09:30", None, None, "Closed - Duplicate", "sanitation"),
    ("R10", "bulky", "closed", "2026-10-20 10:00", "2026-10-19 10:00", None, None, "Closed", "sanitation"),
    ("R11", "dead", "closed", "2026-10-14 08:00", "2026-10-15 08:00", None, "2026-10-14 20:00", "Closed", "sanitation"),
    ("R12", "bulky", "open", "2026-08-03 09:00", None, None, None, "Open", "sanitation"),
    ("R13", "bulky", "closed", "2026-10-30 09:00", "2026-11-02 10:00", None, None, "Closed", "sanitation"),
    ("R14", "bulky", "open", "2026-10-10 09:00", None, None, None, "Open", "ocb"),
    ("R15", "bulky", "cancelled", "2026-09-10 09:00", "2026-09-12 09:00", None, None, "Cancelled", "sanitation"),
    ("R16", "feedback", "closed", "2026-09-15 09:00", "2026-10-01 00:00", None, None, "Closed", "sanitation"),
    ("R17", "bulky", "open", "2026-10-31 08:00", None, None, None, "Open", "sanitation"),
]


def _local(values) -> pd.Series:
    """Local wall times -> tz-aware (DST resolved by the wall time itself)."""
    return pd.to_datetime(pd.Series(values, dtype="object")).dt.tz_localize(LA_TZ)


def hand_requests() -> pd.DataFrame:
    """The canonical frame of the hand fixture (the table above)."""
    cols = list(zip(*HAND_ROWS))
    requested, closed = _local(cols[3]), _local(cols[4])
    updated = _local(cols[5]).fillna(closed).fillna(requested)
    return pd.DataFrame({
        "request_id": cols[0], "service_code": [HAND_SERVICES[s][0] for s in cols[1]],
        "service_name": [HAND_SERVICES[s][1] for s in cols[1]], "department": cols[8],
        "status": cols[2], "status_raw": cols[7], "requested_at": requested,
        "updated_at": updated, "closed_at": closed, "due_at": _local(cols[6]), "quality": None,
    })


def hand_city(base: Path):
    """Params of the sample city with the hand fixture's sanitation department and holiday
    (2026-10-12), and a real store holding :func:`hand_requests`."""
    from stat_lib import store
    params_home(base)
    (base / "params/departments/sanitation.yaml").write_text(HAND_SANITATION_YAML)
    replace_in_city(base, "extra_holidays: []", 'extra_holidays: ["2026-10-12"]')
    params = load_params(base)
    frame = hand_requests()
    with store.write_lock(params), store.connect(params, read_only=False) as con:
        store.ensure_schema(con, params)
        con.register("fixture", frame)
        con.execute("INSERT INTO requests BY NAME SELECT * FROM fixture")
    return params


# --- one executed test packet, shared by test modules (built once per test process) -------------

# The scorecard the test notebook shows; test_packets checks these figures in the PDF.
# On-time rate 7 of 8 closed requests = 0.875 -> "87.5%"; backlog 12; CityScore 1.05.
SCORECARD = {"On-time rate": "87.5%", "Open backlog": "12", "CityScore": "1.05"}

SETUP = f'''
import sys, warnings
import numpy as np, pandas as pd, geopandas as gpd
from IPython.display import HTML, Markdown, display
from stat_lib.present import charts
from stat_lib.present import maps
ROOT = {str(ROOT)!r}
EVIL = {EVIL!r}
print("noise for stderr", file=sys.stderr)
warnings.warn("a warning that must not reach the packet")
raw = pd.read_csv(ROOT + "/data/la311/MyLA311_2018_mini.csv", usecols=[
    "SRNumber", "RequestType", "Status", "CreatedDate", "ClosedDate", "Address",
    "Latitude", "Longitude", "CD"])
fmt = "%m/%d/%Y %I:%M:%S %p"
raw["created"] = pd.to_datetime(raw.CreatedDate, format=fmt)
raw["closed"] = pd.to_datetime(raw.ClosedDate, format=fmt)
raw["days"] = (raw.closed - raw.created).dt.total_seconds() / 86400
raw["key"] = raw.CD.astype("Int64").astype(str)
cd = gpd.read_file(ROOT + "/data/boundaries/la-city-council-districts-2012.json")
cd = cd[["name", "geometry"]].rename(columns={{"name": "key"}})
cd["label"] = "District " + cd["key"]
cd.loc[cd.key == "1", "label"] = EVIL
'''
SCORECARD_CELL = f'''
rows = "".join(f"<tr><th>{{k}}</th><td>{{v}}</td></tr>" for k, v in {SCORECARD!r}.items())
display(HTML(f'<table class="stat-table scorecard">{{rows}}</table>'))
charts.status_bars({{"met": 3, "near": 1, "missed": 2}})
'''
TREND_CELL = '''
trend = pd.DataFrame({"period": [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"],
                      "value": [0.78 + 0.01 * i for i in range(13)]})
display(charts.trend_chart(trend, target=0.85, title="On-time rate, last 13 months"))
closed = raw.dropna(subset=["days"])
svc = closed.groupby("RequestType").agg(on_time_rate=("days", lambda d: (d <= 3).mean()),
                                        closed=("days", "size")).reset_index()
svc = svc.rename(columns={"RequestType": "service_name"})
svc.loc[len(svc)] = [EVIL, 0.5, 2]
display(charts.ontime_by_service(svc, target=0.9))
display(charts.time_to_close_chart(closed["days"], sla_days=3))
charts.aging_chart(np.arange(0, 120, 0.7))
'''
MAPS_CELL = '''
by_cd = closed.groupby("key").agg(on_time=("days", lambda d: (d <= 3).mean()),
                                  n=("days", "size")).reset_index()
display(maps.choropleth(cd, by_cd, value="on_time", count="n", title="On time by district",
                        value_title="Closed within 3 days"))
pts = raw.rename(columns={"Latitude": "lat", "Longitude": "lon"})
display(maps.density_map(pts))
od = pts.rename(columns={"SRNumber": "request_id", "RequestType": "service_name",
                         "Address": "address"}).head(300)
od = od.assign(days_overdue=np.arange(len(od)) / 10.0)
od.loc[od.index[-1], "address"] = EVIL
maps.overdue_map(od, districts=cd)
'''


def build_notebook():
    """The test packet notebook: scorecard (tagged), trends, maps; real LA 311 rows."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["stat_packet"] = {"title": "Sanitation Stat", "department": "Sanitation"}
    cells = [new_code_cell(SETUP), new_markdown_cell("## Trends and services"),
             new_code_cell(TREND_CELL), new_markdown_cell("## Maps"),
             new_code_cell(MAPS_CELL), new_markdown_cell("## Scorecard"),
             new_code_cell(SCORECARD_CELL)]
    for cell in cells[-2:]:
        cell.metadata["tags"] = ["scorecard"]
    nb.cells = cells
    return nbformat.from_dict(nb)


_PACKET: dict = {}


def executed_packet() -> dict:
    """Execute the test notebook once (papermill, kernel ``python3``) and export it.

    Returns paths: ``ipynb``, ``html`` (interactive), ``dir``; and ``params`` (the repo's).
    """
    if not _PACKET:
        import nbformat
        import papermill as pm

        from stat_lib.present import packets
        out = Path(tempfile.mkdtemp(prefix="stat-lib-packet-"))
        atexit.register(shutil.rmtree, out, True)
        nbformat.write(build_notebook(), out / "input.ipynb")
        pm.execute_notebook(str(out / "input.ipynb"), str(out / "sanitation.ipynb"),
                            kernel_name="python3", progress_bar=False, cwd=str(out))
        params = load_params(ROOT)
        html = packets.export_html(out / "sanitation.ipynb", out / "sanitation.html", params,
                                   {"period": "2026-01", "as_of": "2026-02-01 06:00"})
        _PACKET.update(ipynb=out / "sanitation.ipynb", html=html, dir=out, params=params)
    return _PACKET


def csv_store_home(home: Path, csv_text: str) -> Path:
    """The sample params reading one small MyLA311 CSV (``csv_text``, no boundaries), ingested."""
    from stat_lib.ingest import ingest
    city = home / "params" / "city.yaml"
    text = re.sub(r"(?ms)^sources:.*?(?=^boundaries:)", "sources:\n  - {name: t, path: "
                  "data/t.csv, profile: myla311}\n", city.read_text())
    city.write_text(re.sub(r"(?ms)^boundaries:.*?(?=^\w)", "boundaries: []\n", text))
    (home / "data").mkdir()
    (home / "data" / "t.csv").write_text(csv_text)
    ingest(load_params(home))
    return home
