"""Typed models of params/city.yaml, params/departments/<slug>.yaml and params/results.yaml.

Unknown keys are errors (``extra="forbid"``); :mod:`stat_lib.params.loading` turns every
validation problem into a ``ParamsError`` naming the file, the line and the key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.errors import UsageError
from ..core.text import slugify
from .briefing_models import Briefing, Roundtable
from .contact_center_models import ContactCenter
from .kpi_models import Kpi, Submissions, unique_kpis
from .public_models import Public
from .survey_models import Survey

SLUG = r"^[a-z0-9][a-z0-9-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Sla(Strict):
    """A service level: ``5 business days``, ``3 calendar days`` (or ``3 days``), ``48 hours``."""

    amount: float = Field(gt=0)
    unit: Literal["calendar_days", "business_days", "hours"]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value):
        if isinstance(value, str):
            return parse_sla(value)
        return value

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit.replace('_', ' ')}"


def parse_sla(text: str) -> dict:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(business\s+days?|calendar\s+days?|days?|hours?)\s*",
                     text, flags=re.I)
    if not m:
        raise ValueError(f"expected an SLA like '5 business days', '3 calendar days' or "
                         f"'48 hours', got {text!r}")
    word = m.group(2).lower().split()[0]
    unit = {"business": "business_days", "calendar": "calendar_days", "day": "calendar_days",
            "days": "calendar_days", "hour": "hours", "hours": "hours"}[word]
    return {"amount": float(m.group(1)), "unit": unit}


class Service(Strict):
    """A request type a department answers for, with its SLA (none: reported as 'no SLA')."""

    name: str
    code: str | None = None
    sla: Sla | None = None
    aliases: list[str] = []

    @model_validator(mode="after")
    def _code(self):
        self.code = self.code or slugify(self.name)
        return self


class Target(Strict):
    """A metric's target. ``tolerance`` is the amber band as a fraction of the target."""

    target: float
    direction: Literal["higher", "lower"] = "higher"
    tolerance: float = Field(default=0.05, ge=0)


class Redress(Strict):
    """What is owed when a standard is missed: a share of the fee per unit of lateness, capped."""

    per_business_day_late: float | None = Field(default=None, ge=0)
    per_calendar_day_late: float | None = Field(default=None, ge=0)
    cap: float = Field(default=1.0, ge=0)
    fee: float | None = Field(default=None, ge=0, description="flat fee when the data has none")
    fee_column: str | None = None


class Standard(Strict):
    """A customer service standard: a promise ("processed within 5 business days") + redress."""

    id: str = Field(pattern=SLUG)
    promise: str
    services: list[str] = Field(min_length=1)
    within: Sla
    target: float | None = Field(default=None, ge=0, le=1)
    redress: Redress | None = None


class PermitRedress(Strict):
    """Redress for a late permit: a share of its fee per business day late, capped."""

    percent_per_day: float = Field(gt=0, le=100)
    cap_percent: float = Field(default=100, gt=0, le=100)


class PermitStandard(Strict):
    """A permit service standard: "issued within N business days of a complete application"."""

    type: str = Field(min_length=1, description="permit type as the permits source names it")
    within_business_days: int = Field(ge=0)
    target: float | None = Field(default=None, ge=0, le=1)
    redress: PermitRedress | None = None
class Spc(Strict):
    """Statistical process control for "what moved" (city.yaml ``spc:``, a department's
    ``spc:`` overrides it key by key).

    Limits come from the ``baseline_periods`` periods before the one judged; with fewer than
    ``min_points`` usable points there is no verdict. A ``seasonal`` metric's baseline is the
    same period of earlier years (the same month, quarter or week), so a yearly peak does not
    fire; ``min_points`` applies to those points too.
    """

    baseline_periods: int = Field(default=24, ge=2)
    min_points: int = Field(default=12, ge=2)
    seasonal: list[str] = []

    @model_validator(mode="after")
    def _enough(self):
        both = {"min_points", "baseline_periods"} <= self.model_fields_set  # else: when merged
        if both and self.min_points > self.baseline_periods:
            raise ValueError(f"min_points ({self.min_points}) is more than baseline_periods "
                             f"({self.baseline_periods}): no baseline could ever give a "
                             f"verdict; lower min_points or raise baseline_periods")
        return self


class Department(Strict):
    slug: str = Field(pattern=SLUG)
    name: str
    source_codes: list[str] = Field(min_length=1, description="department values in the source")
    result: str | None = None
    liaison: str | None = None
    services: list[Service] = []
    targets: dict[str, Target] = {}
    standards: list[Standard] = []
    permit_standards: list[PermitStandard] = []

    @field_validator("permit_standards")
    @classmethod
    def _one_standard_per_type(cls, values: list[PermitStandard]) -> list[PermitStandard]:
        types = [v.type for v in values]
        twice = sorted({t for t in types if types.count(t) > 1})
        if twice:
            raise ValueError(f"permit type(s) {', '.join(map(repr, twice))} have more than one "
                             f"standard; keep one entry per permit type")
        return values
    spc: Spc | None = None
    kpis: list[Kpi] = []

    @field_validator("kpis")
    @classmethod
    def _unique_kpis(cls, kpis: list[Kpi]) -> list[Kpi]:
        return unique_kpis(kpis)
    default_sla: Sla | None = Field(
        default=None, description="the SLA of a service listed without one, or not listed")

    def service(self, name_or_code: str) -> Service | None:
        for s in self.services:
            if name_or_code in (s.name, s.code, *s.aliases):
                return s
        return None

    def sla_of(self, service: Service | None) -> Sla | None:
        """The service's own SLA, else the department's ``default_sla``."""
        return service.sla if service is not None and service.sla else self.default_sla


class Coordinates(Strict):
    """Where a source's coordinates are: lat/lon columns, or x/y in a named CRS."""

    kind: Literal["latlon", "xy"] = "latlon"
    lat: str | None = None
    lon: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str = "EPSG:4326"


class ColumnMapping(Strict):
    """A custom source shape: canonical column -> source column, plus parsing rules."""

    rename: dict[str, str | list[str]] = Field(
        default={}, description="canonical field -> source column, or a list of columns whose "
                                "first non-empty value is taken (closed_at: [ClosedDate, "
                                "CancelledDate])")
    end_at: dict[Literal["closed", "cancelled"], str] = Field(
        default={}, description="status -> the column holding its end time (cancelled: "
                                "CancelledDate), taken before closed_at for rows of that status")
    date_format: str | list[str] | None = None
    timezone: str | None = None
    status_map: dict[str, Literal["open", "closed", "cancelled"]] = {}
    department_column: str | None = None
    coordinates: Coordinates | None = None
    filter: str | None = None


class DepartmentMatch(Strict):
    """How a source's department values meet ``source_codes``: ``normalise`` ignores case,
    spaces around and trailing punctuation (``"PARKS,"`` = ``Parks``); ``pattern`` (a regular
    expression) keeps its first group, or its match (``"ROADS DIV, 204"`` -> ``ROADS DIV``)."""

    normalise: bool = True
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value):
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc}): {value!r}") from None
        return value


class SqlSource(Strict):
    url: str = Field(description="SQLAlchemy URL; ${VAR} is read from the environment")
    query: str

    def resolved_url(self) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), self.url)


class Source(Strict):
    name: str | None = None
    path: str | None = None
    format: str | None = Field(default=None, description="a registered reader (`stat-lib "
                                "profiles` lists them); default: from the file's suffix")
    profile: str | None = None
    columns: ColumnMapping | None = None
    sql: SqlSource | None = None
    encoding: str = "utf-8"
    max_malformed: float = Field(
        default=0.05, ge=0, le=1, description="share of CSV lines with the wrong number of "
                                              "fields kept as rejects before the file is refused")
    earliest_date: dt.date = Field(
        default=dt.date(1995, 1, 1), description="dates before it (or more than a day after "
                                                 "the ingest) are implausible: a creation date "
                                                 "rejects the row, other dates are blanked and "
                                                 "flagged")
    department_match: DepartmentMatch | None = None
    max_outside_boundaries: float = Field(
        default=0.5, ge=0, le=1, description="share of rows with coordinates that may fall "
                                             "outside every boundary layer before the source "
                                             "is refused (a wrong or missing CRS)")
    cancelled_without_date: Literal["updated_at", "requested_at"] = Field(
        default="updated_at", description="where a cancelled request with no close date ends: "
                                          "at updated_at (else requested_at) or at requested_at;"
                                          " flagged cancelled_undated")
    placeholder_dates: list[dt.date] = Field(
        default=[], description="dates the export writes for 'no date' (e.g. 1900-01-01): "
                                "treated as implausible")

    @model_validator(mode="after")
    def _shape(self):
        if (self.path is None) == (self.sql is None):
            raise ValueError("a source needs exactly one of 'path' or 'sql'")
        if self.profile is None and self.columns is None:
            raise ValueError("a source needs a 'profile' (see `stat-lib profiles`) or a "
                             "'columns' mapping")
        if self.format is None and self.sql is not None:
            self.format = "sql"
        return self


class Boundary(Strict):
    """A boundary layer; requests get a ``district_<layer>`` column from one spatial join."""

    layer: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    path: str
    key: str
    label: str
    source_column: str | None = Field(
        default=None, description="source column holding the key, used when a row has no "
                                  "coordinates")
    source_values: dict[str, str] = Field(
        default={}, description="source column value -> the layer's key, for values that are "
                                "not a key even ignoring case and leading zeros")
    crs: str | None = Field(
        default=None, description="the layer's CRS (e.g. EPSG:2229) when its file declares "
                                  "none; a file's own CRS always wins")


COLOR = r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]{3,20})$"


class Branding(Strict):
    """Colours reach the packets' CSS: only ``#rgb``, ``#rrggbb`` or a colour name."""

    primary_color: str = "#1f3b5c"
    accent_color: str = "#d9822b"
    logo: str | None = None

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not re.match(COLOR, value):
            raise ValueError("expected a colour such as '#1f3b5c', '#fff' or 'navy'")
        return value


class BatchSettings(Strict):
    workers: int | None = Field(default=None, ge=1)
    cell_timeout: int = Field(default=600, ge=1)
    notebook_timeout: int = Field(default=1800, ge=1)
    refinalize_days: int = Field(default=5, ge=0)
    log_keep: int = Field(default=14, ge=1)
    stale_after_hours: int = Field(default=48, ge=1, description="the nightly calls the data "
                                   "stale when its newest request is older than this")


class City(Strict):
    name: str
    slug: str = Field(pattern=SLUG)
    timezone: str
    country: str = "US"
    subdivision: str | None = None
    extra_holidays: list[str] = []
    sample_data: bool = False
    data_notice: str | None = None
    store: str = "data/stat.duckdb"
    records: str = Field(default="data/records.duckdb", description="what people enter "
                         "(submissions, sessions, commitments); never rebuilt or cleaned")
    sources: list[Source] = Field(min_length=1)
    permits: list[Source] = Field(default=[], description="permit exports (kind `permits`)")
    permit_stops: list[Source] = Field(default=[], description="clock-stop intervals of "
                                       "permits: application id, stop start, stop end")
    surveys: list[Source] = Field(default=[], description="resident survey exports (kind "
                                  "`surveys`)")
    survey: Survey = Survey()  # the surveys' scale, satisfied answers, small-sample threshold
    telephony: list[Source] = Field(default=[], description="contact-center interval exports "
                                    "(kind `telephony`)")
    contact_center: ContactCenter | None = None  # the contact-center packet and its definitions
    boundaries: list[Boundary] = []
    branding: Branding = Branding()
    basemap: str | None = None
    batch: BatchSettings = BatchSettings()
    spc: Spc = Spc()
    submissions: Submissions = Submissions()
    public: Public = Public()  # the public edition (stat-lib run --audience public)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12, description="the month a "
                                         "fiscal year starts (7: FY2027 = 2026-07 to 2027-06)")
    briefing: Briefing | None = None
    roundtables: list[Roundtable] = []

    @model_validator(mode="after")
    def _two_stores(self):
        if Path(self.records) == Path(self.store):
            raise ValueError(f"'records' and 'store' are both {self.store!r}: what people enter "
                             f"must live apart from the source store a rebuild replaces; set "
                             f"'records' to another file (default data/records.duckdb)")
        return self

    @model_validator(mode="after")
    def _telephony_defined(self):
        if self.telephony and self.contact_center is None:
            raise ValueError("'telephony' sources need a 'contact_center:' block stating the "
                             "service-level threshold the phone system counts with, e.g. "
                             "contact_center: {service_level: [{from: 2024-01-01, seconds: 30}]}")
        return self

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as "
                             f"'America/Los_Angeles'") from None
        return value

    @field_validator("extra_holidays")
    @classmethod
    def _dates(cls, values: list[str]) -> list[str]:
        import datetime as dt
        for v in values:
            try:
                dt.date.fromisoformat(str(v))
            except ValueError:
                raise ValueError(f"expected dates written YYYY-MM-DD, got {v!r}") from None
        return [str(v) for v in values]


class Result(Strict):
    id: str = Field(pattern=SLUG)
    name: str


class Results(Strict):
    cityscore_cap: float = Field(default=1.25, gt=0)
    results: list[Result] = []


class Params(BaseModel):
    """Everything under params/, validated; ``home`` holds params/, data/ and outputs/."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    home: Path
    city: City
    departments: dict[str, Department]
    results: Results
    files: list[Path] = []

    def department(self, slug: str) -> Department:
        if slug not in self.departments:
            known = ", ".join(sorted(self.departments)) or "none"
            raise UsageError(f"unknown department {slug!r}; known departments: {known}")
        return self.departments[slug]

    def path(self, relative: str | Path) -> Path:
        """A path from params, resolved against the home folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.home / p

    @property
    def store_path(self) -> Path:
        return self.path(self.city.store)

    @property
    def records_path(self) -> Path:
        return self.path(self.city.records)

    @property
    def outputs(self) -> Path:
        return self.home / "outputs"

    def department_for_code(self) -> dict[str, str]:
        """Source department value -> department slug."""
        return {code: d.slug for d in self.departments.values() for code in d.source_codes}
