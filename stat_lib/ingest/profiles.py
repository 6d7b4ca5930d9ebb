"""Source profiles: the shapes of well-known 311 exports, mapped to the canonical columns.

A profile names, per canonical field, the source columns that may hold it (first present
wins). Names match ignoring case, spaces and underscores, so ``Unique Key`` (NYC's export)
and ``unique_key`` (its API) are one entry, as are ``SRNumber`` and ``srnumber``. Adding a
profile is one ``register(Profile(...))`` call. A source's ``columns:`` mapping in city.yaml
overlays its profile (or stands alone) via ``resolve``.

Column lists follow each city's published data dictionary: MyLA311 (data.lacity.org
"MyLA311 Service Request Data", 33-column export; the 2019+ datasets add
``CreatedByUserOrganization`` and the API spells every name in lowercase), Open311 GeoReport v2
(wiki.open311.org/GeoReport_v2, ``GET requests``), Philadelphia ``public_cases_fc``
(OpenDataPhilly 311 Service and Information Requests), NYC ``311 Service Requests from 2010 to
Present`` (erm2-nwe9) and Chicago ``311 Service Requests`` (v6vf-nfxy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..core.errors import SourceError

#: canonical field -> what it means (``x``/``y`` are projected coordinates)
FIELDS = {
    "request_id": "the source's request id",
    "service_name": "request type as the source names it",
    "department": "department value, mapped to a slug by `source_codes`",
    "status": "the source's status value",
    "requested_at": "when the request was made",
    "updated_at": "last change",
    "closed_at": "when it was closed",
    "due_at": "due date the source promises",
    "address": "street address",
    "channel": "how it came in",
    "lat": "latitude (WGS84)",
    "lon": "longitude (WGS84)",
    "x": "projected x (see the profile's CRS)",
    "y": "projected y",
}
REQUIRED = ("request_id", "service_name", "department", "requested_at")

US_DATES = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
BASE_STATUS = {"open": "open", "new": "open", "pending": "open", "in progress": "open",
               "assigned": "open", "started": "open", "closed": "closed", "completed": "closed",
               "resolved": "closed", "cancelled": "cancelled", "canceled": "cancelled"}


@dataclass(frozen=True)
class Profile:
    """A source shape: candidate columns per canonical field, and how to read values."""

    name: str
    description: str
    columns: dict = field(default_factory=dict)
    status_map: dict = field(default_factory=lambda: dict(BASE_STATUS))
    date_formats: tuple = US_DATES
    timezone: str | None = None  # None: the city's timezone (offsets in values always win)
    xy_crs: str = "EPSG:4326"
    filter: str | None = None
    required: tuple = REQUIRED
    coalesce: dict = field(default_factory=dict)  # field -> columns, first non-empty value wins
    end_columns: dict = field(default_factory=dict)  # status -> its end-time column

    def match(self, available: list[str]) -> dict[str, str]:
        """Canonical field -> the source column holding it, among ``available``."""
        by_norm = {}
        for col in available:
            by_norm.setdefault(norm(col), col)
        found = {}
        for canon, candidates in self.columns.items():
            for cand in candidates:
                if norm(cand) in by_norm:
                    found[canon] = by_norm[norm(cand)]
                    break
        return found

    def coalesced(self, available: list[str]) -> dict[str, list[str]]:
        """Field -> the ``available`` columns of its ``coalesce`` list, in order."""
        by_norm = {norm(c): c for c in reversed(available)}
        return {f: [by_norm[norm(c)] for c in cols if norm(c) in by_norm]
                for f, cols in self.coalesce.items()}

    def missing(self, available: list[str]) -> list[str]:
        """Required canonical fields no available column provides."""
        have = self.match(available)
        return [f for f in self.required if f not in have]


def norm(name: str) -> str:
    """``'Unique Key'``, ``'unique_key'``, ``'UniqueKey'`` -> ``'uniquekey'``."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    """Add a profile to the registry (the one place profiles live)."""
    PROFILES[profile.name] = profile
    return profile


def _c(**columns) -> dict:
    return {k: tuple(v) if isinstance(v, (list, tuple)) else (v,) for k, v in columns.items()}


register(Profile(
    "myla311", "MyLA311 Service Request Data (Los Angeles): 33-column export and the "
               "lowercase API form",
    _c(request_id="SRNumber", service_name="RequestType", department="Owner", status="Status",
       requested_at="CreatedDate", updated_at="UpdatedDate", closed_at="ClosedDate",
       address="Address", channel="RequestSource", lat="Latitude", lon="Longitude"),
    # ServiceDate is not a due date: it is the day service was scheduled or done (often the
    # close date's midnight), so due times come from the services' SLAs in params.
    status_map={**BASE_STATUS, "referred out": "closed", "forward": "open"},
))
register(Profile(
    "open311", "Open311 GeoReport v2 requests (JSON list or its CSV form)",
    _c(request_id="service_request_id", service_name="service_name",
       department="agency_responsible", status="status", requested_at="requested_datetime",
       updated_at="updated_datetime", closed_at="closed_datetime",
       due_at="expected_datetime", address="address", lat="lat", lon=["long", "lon"],
       channel="channel"),
))
register(Profile(
    "philly311", "Philadelphia 311 (public_cases_fc)",
    _c(request_id="service_request_id", service_name="service_name",
       department="agency_responsible", status="status", requested_at="requested_datetime",
       updated_at="updated_datetime", closed_at="closed_datetime",
       due_at="expected_datetime", address="address", lat="lat", lon="lon"),
))
register(Profile(
    "nyc311", "NYC 311 Service Requests (Title-Case export or snake_case API); Latitude/"
              "Longitude, else X/Y Coordinate (State Plane, EPSG:2263 feet)",
    _c(request_id="Unique Key", service_name="Complaint Type", department="Agency",
       status="Status", requested_at="Created Date",
       updated_at="Resolution Action Updated Date", closed_at="Closed Date",
       due_at="Due Date", address="Incident Address", channel="Open Data Channel Type",
       lat="Latitude", lon="Longitude",
       x=["X Coordinate (State Plane)", "x_coordinate_state_plane"],
       y=["Y Coordinate (State Plane)", "y_coordinate_state_plane"]),
    status_map={**BASE_STATUS, "unspecified": "open", "email sent": "open", "draft": "open",
                "cancel": "cancelled"},
    xy_crs="EPSG:2263",
))
register(Profile(
    "chicago311", "Chicago 311 Service Requests; Latitude/Longitude, else X/Y (Illinois "
                  "State Plane East, EPSG:3435 feet)",
    _c(request_id="sr_number", service_name="sr_type", department="owner_department",
       status="status", requested_at="created_date", updated_at="last_modified_date",
       closed_at="closed_date", address="street_address", channel="origin",
       lat="latitude", lon="longitude", x="x_coordinate", y="y_coordinate"),
    xy_crs="EPSG:3435",
))


def get(name: str, registry: dict | None = None) -> Profile:
    """The registered profile ``name``; unknown -> ``SourceError`` listing the known ones.

    ``registry``: another kind's profiles (default :data:`PROFILES`, the 311 shapes)."""
    registry = PROFILES if registry is None else registry
    if name not in registry:
        raise SourceError(f"unknown profile {name!r}; expected one of "
                          f"{', '.join(sorted(registry))} (or a 'columns:' mapping)",
                          key="sources[].profile")
    return registry[name]


def resolve(source, registry: dict | None = None, required: tuple = REQUIRED) -> Profile:
    """The profile a ``params.Source`` reads with: its profile overlaid by its ``columns:``.

    ``registry`` and ``required``: another kind's profiles and required fields (permits)."""
    base = get(source.profile, registry) if source.profile else Profile(
        "custom", "columns: mapping", status_map={}, required=required)
    mapping = source.columns
    if mapping is None:
        return base
    columns = dict(base.columns)
    columns.update({k: (v,) if isinstance(v, str) else tuple(v)
                    for k, v in mapping.rename.items()})
    if mapping.department_column:
        columns["department"] = (mapping.department_column,)
    changes = {"columns": columns, "name": f"{base.name}+columns" if source.profile else
               "custom", "coalesce": {k: tuple(v) for k, v in mapping.rename.items()
                                      if not isinstance(v, str)}}
    if mapping.end_at:
        changes["end_columns"] = dict(mapping.end_at)
    if mapping.coordinates:
        changes.update(_coordinates(mapping.coordinates, columns))
    if mapping.date_format:
        fmts = mapping.date_format
        changes["date_formats"] = (fmts,) if isinstance(fmts, str) else tuple(fmts)
    if mapping.timezone:
        changes["timezone"] = mapping.timezone
    if mapping.status_map:
        changes["status_map"] = {**base.status_map,
                                 **{k.strip().lower(): v for k, v in mapping.status_map.items()}}
    if mapping.filter:
        changes["filter"] = mapping.filter
    return replace(base, **changes)


def _coordinates(coords, columns: dict) -> dict:
    for k in ("lat", "lon", "x", "y"):
        columns.pop(k, None)
    if coords.kind == "latlon":
        columns.update({k: (getattr(coords, k),) for k in ("lat", "lon") if getattr(coords, k)})
        return {"xy_crs": "EPSG:4326"}
    columns.update({k: (getattr(coords, k),) for k in ("x", "y") if getattr(coords, k)})
    return {"xy_crs": coords.crs}


def describe() -> str:
    """Every profile and the columns it expects (``*`` marks required), for `stat-lib profiles`."""
    lines = []
    for p in PROFILES.values():
        lines.append(f"{p.name}: {p.description}")
        for canon, cands in p.columns.items():
            star = "*" if canon in p.required else " "
            lines.append(f"  {star} {canon:<13} <- {' | '.join(cands)}")
        if p.xy_crs != "EPSG:4326":
            lines.append(f"    x/y CRS: {p.xy_crs}")
        lines.append("")
    lines.append("* required. Column names match ignoring case, spaces and underscores. "
                 "Other shapes: a 'columns:' mapping in city.yaml.")
    return "\n".join(lines)


def missing_columns(profile, source, columns, hint: str = ""):
    """The ``SourceError`` for a source lacking a profile's required column(s), naming each
    field, the columns looked for, what the file has and the ``columns: rename`` fix."""
    from ..core.errors import SourceError
    from .readers import source_name
    need = "; ".join(f"{m} <- {' | '.join(profile.columns.get(m, ('?',)))}"
                     for m in profile.missing(columns))
    return SourceError(
        f"source {source_name(source)!r} (profile {profile.name}) lacks required column(s): "
        f"{need}. Found: {', '.join(columns) or 'no columns'}. Fix: rename them with "
        f"'columns: {{rename: {{field: column}}}}' on the source in city.yaml{hint}",
        path=source.path)
