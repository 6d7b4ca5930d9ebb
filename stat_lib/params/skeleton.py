"""Onboarding without code: a commented params skeleton for a new city (``stat-lib init``)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ParamsError

CITY = """\
# city.yaml: your city, its 311 sources and boundary layers.
# Paths are relative to this home folder (the one holding params/, data/, outputs/).
name: Example City
slug: example-city              # lowercase letters, digits, dashes
timezone: America/New_York      # IANA name; local times in the sources are read in it
country: US
subdivision: PA                 # state holidays from the `holidays` package
extra_holidays: []              # city-only closures, YYYY-MM-DD
store: data/stat.duckdb

sources:
  # A built-in profile (`stat-lib profiles` lists them and their columns) ...
  - name: requests
    path: data/requests-*.csv   # a glob may name several extracts
    profile: open311            # myla311, open311, philly311, nyc311, chicago311
    encoding: utf-8
  # ... or your own column names:
  # - name: legacy
  #   path: data/legacy.xlsx
  #   columns:
  #     rename: {request_id: Case ID, requested_at: Opened, service_name: Type, status: State}
  #     department_column: Dept
  #     date_format: "%m/%d/%Y %H:%M"
  #     status_map: {Done: closed, Working: open, Void: cancelled}
  #     coordinates: {kind: xy, x: X, y: Y, crs: "EPSG:2272"}
  #     filter: "Type <> 'Information Only'"
  #   # quirks of real exports (docs/onboarding.md, step 5):
  #   placeholder_dates: ["1900-01-01"]          # the export's "no date": blanked, flagged
  #   department_match: {normalise: true}         # "PARKS," = Parks; or pattern: '^([A-Z ]+)'
  #   cancelled_without_date: updated_at          # or requested_at; flagged cancelled_undated
  #   max_outside_boundaries: 0.5                 # more outside every district: a CRS error
  # - name: warehouse
  #   sql: {url: "postgresql://${DB_USER}:${DB_PASSWORD}@db/311", query: "SELECT * FROM requests"}
  #   profile: open311

boundaries: []
  # - layer: council              # requests get a district_council column
  #   name: Council district
  #   path: data/council.geojson  # GeoJSON, Shapefile or GeoPackage, any CRS
  #   key: district               # property holding the district key
  #   label: name
  #   source_column: council_district   # used when a request has no coordinates
  #   source_values: {"Dist 6": "6"}      # values that are no key even ignoring case and zeros

# KPI submissions from departments (their `kpis:`): due N business days after the period.
# submissions: {due_business_days: 10, change_factor: 3, folder: data/submissions}

# Fiscal year: the month it starts (7: FY2027 = July 2026 - June 2027); 1 = the calendar year.
# fiscal_year_start_month: 7
# The Mayor's one-page briefing (3 to 6 measures) and roundtables of 1 to 3 departments:
# briefing: {metrics: [{department: example, metric: on_time_rate}, ...]}
# roundtables: [{slug: streets, name: Streets roundtable, departments: [example]}]
"""

DEPARTMENT = """\
# departments/<slug>.yaml: one department; the file name is its slug.
name: Example Department
source_codes: [Public Works]    # the department values in the sources that mean this one
services:
  - {name: Pothole, sla: 3 business days}
  - {name: Graffiti, sla: 72 hours}
# default_sla: 5 business days  # for services listed without an SLA, or not listed
targets:
  on_time_rate: {target: 0.9, direction: higher, tolerance: 0.05}
# KPIs the department submits (`stat-lib submissions template SLUG 2026-10` writes its workbook):
# kpis:
#   - id: potholes_repaired
#     label: Potholes repaired
#     direction: higher
#     targets: [{from: 2026-07-01, target: 1200}]   # a target per fiscal year
#     valid: {min: 0, max: 20000}
#     reconcile_with: {metric: closed, service: Pothole, tolerance: 0.02}
"""

RESULTS = """\
# results.yaml: strategic results departments report under (`result:` in a department file).
cityscore_cap: 1.25
results:
  - {id: customer-service, name: Customer service}
"""


def init(home, force: bool = False) -> list[Path]:
    """Write a commented params skeleton under ``home/params``; return the files written.

    Existing files are kept unless ``force``; ``ParamsError`` names them otherwise.
    """
    pdir = Path(home) / "params"
    files = {pdir / "city.yaml": CITY, pdir / "departments" / "example.yaml": DEPARTMENT,
             pdir / "results.yaml": RESULTS}
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ParamsError("params already exist; pass --force to overwrite them",
                          path=existing[0])
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
