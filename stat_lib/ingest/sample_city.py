"""The bundled sample city: synthetic MyLA311 requests calibrated on real ones.

Every synthetic request copies a *template*: a real MyLA311 row of the same department and
request type (``data/la311``). The template gives the request source, address, council district,
neighborhood council, the coordinates (moved by a few tens of metres), whether coordinates are
missing, the outcome (closed, cancelled, referred out) and the real time it took to close. On top
of that the generator adds what 8 real days cannot show: a weekly pattern, monthly seasonality,
mild growth, and three stories for a Stat meeting (see ``STORIES``). Everything is drawn from one
``numpy.random.default_rng(seed)``. The same arguments always give the same rows; today's date
plays no part.

Run ``python -m stat_lib.ingest.sample_city --out data/sample/la_sample_requests.parquet`` to
rebuild the committed sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import SourceError, StatLibError, UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # a source checkout (the sample city's home)
DEFAULT_REAL_DIR = PROJECT_ROOT / "data" / "la311"
DEFAULT_OUT = PROJECT_ROOT / "data" / "sample" / "la_sample_requests.parquet"
DEFAULT_START, DEFAULT_END = "2024-09-01", "2026-11-15"
DEFAULT_PER_DAY, DEFAULT_SEED = 150, 2026
TIMEZONE = "America/Los_Angeles"
REAL_DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"

COLUMNS = (
    "SRNumber", "CreatedDate", "UpdatedDate", "ActionTaken", "Owner", "RequestType", "Status",
    "RequestSource", "MobileOS", "Anonymous", "AssignTo", "ServiceDate", "ClosedDate",
    "AddressVerified", "ApproximateAddress", "Address", "HouseNumber", "Direction", "StreetName",
    "Suffix", "ZipCode", "Latitude", "Longitude", "Location", "TBMPage", "TBMColumn", "TBMRow",
    "APC", "CD", "CDMember", "NC", "NCName", "PolicePrecinct",
)
DATE_COLUMNS = ("CreatedDate", "UpdatedDate", "ServiceDate", "ClosedDate")
# Text columns copied unchanged from the template row.
CARRIED = (
    "Owner", "RequestType", "RequestSource", "MobileOS", "Anonymous", "AssignTo",
    "AddressVerified", "ApproximateAddress", "Address", "HouseNumber", "Direction", "StreetName",
    "Suffix", "ZipCode", "TBMPage", "TBMColumn", "TBMRow", "APC", "CD", "CDMember", "NC",
    "NCName", "PolicePrecinct",
)
REQUIRED = ("SRNumber", "CreatedDate", "ClosedDate", "Owner", "RequestType", "Status",
            "Latitude", "Longitude")
IGNORED_OWNERS = ("BSS",)  # one real row; no department in params

SR_PREFIX, SR_FIRST = "1-", 900_000_001  # '1-900000001', ...; real ids are 1-86.../1-87...
TIME_JITTER_S = 1800          # created time of day: the template's, +- 30 minutes
DURATION_JITTER = 0.10        # time to close: template's x exp(N(0, 0.10))
COORD_JITTER_M = 25.0         # coordinates: template's + N(0, 25 m) per axis
GROWTH_PER_YEAR = 0.05        # mild year-over-year growth of volume
# Monday..Sunday. Chosen, not calibrated: the 8 real days span Christmas and New Year.
WEEKDAY = (1.12, 1.12, 1.10, 1.06, 1.00, 0.62, 0.52)
# (owner, type) -> (amplitude, peak month) of a cosine over the year whose mean is 1.
SEASON = {
    ("BOS", "Bulky Items"): (0.15, 7),
    ("OCB", "Graffiti Removal"): (0.20, 7),
    ("BOS", "Illegal Dumping Pickup"): (0.10, 8),
    ("BOS", "Dead Animal Removal"): (0.25, 8),
    ("LADWP", "Report Water Waste"): (0.40, 8),
}
MOVE_OUT = (("BOS", "Bulky Items"), 1.3)  # x1.3 on the last 3 and first 2 days of a month


@dataclass(frozen=True)
class Story:
    """A trend in time to close: on-time share moves from ``on_time_start`` to ``on_time_end``.

    ``sla_days`` is the SLA of params/departments in calendar days (business days x 7/5).
    """

    owner: str
    request_type: str
    sla_days: float
    on_time_start: float
    on_time_end: float


STORIES = (
    Story("OCB", "Graffiti Removal", 3.0, 0.70, 0.90),             # 72 hours: improving
    Story("BSL", "Single Streetlight Issue", 14.0, 0.85, 0.60),    # 10 business days: worsening
    Story("BSL", "Multiple Streetlight Issue", 28.0, 0.85, 0.60),  # 20 business days: worsening
    Story("BOS", "Homeless Encampment", 30.0, 0.70, 0.35),         # 30 days: backlog builds up
)


@dataclass(frozen=True)
class Calibration:
    """What the generator learns from real MyLA311 rows.

    Attributes
    ----------
    templates : pandas.DataFrame
        Real rows a synthetic request may copy (not Open, not an ignored owner), sorted by type:
        the ``CARRIED`` text columns, ``Status``, ``lat``/``lon`` (NaN when missing or 0),
        ``seconds`` (created time of day), ``days`` (time to close in days; NaN when the real
        row closed before it was created) and ``service_offset`` (ServiceDate - created date,
        in days; NaN when none).
    types : tuple of (str, str)
        ``(Owner, RequestType)`` of each type, in template order.
    shares : numpy.ndarray
        Share of each type among the real rows (Open rows included).
    first, count : numpy.ndarray
        Position of each type's first template and its number of templates.
    files : tuple of str
        Names of the CSV files read.
    rows_read : int
        Real rows read.
    excluded : dict
        Rows not usable as templates, by reason.
    redrawn : int
        Closed templates that closed before they were created: their time to close is drawn
        from their type's other closed rows.
    """

    templates: pd.DataFrame
    types: tuple
    shares: np.ndarray
    first: np.ndarray
    count: np.ndarray
    files: tuple
    rows_read: int
    excluded: dict
    redrawn: int


def load_calibration(real_dir: str | Path = DEFAULT_REAL_DIR) -> Calibration:
    """Learn the generator's calibration from the real MyLA311 CSV files in ``real_dir``.

    Parameters
    ----------
    real_dir : str or Path
        Folder holding MyLA311 exports (``*.csv``, the real 33 columns).

    Returns
    -------
    Calibration

    Raises
    ------
    SourceError
        The folder has no CSV, a file lacks a required column, or no row is usable.
    """
    real = _read_real(Path(real_dir))
    rows_read = len(real)
    real = real[~real["Owner"].isin(IGNORED_OWNERS)]
    usable = real[real["Status"] != "Open"]
    if usable.empty:
        raise SourceError(f"none of the {rows_read} rows can be a template (all Open or of an "
                          f"ignored owner); expected closed or cancelled MyLA311 requests",
                          path=real_dir)
    # A type's share counts all its rows (Open ones too); a type needs a template to exist.
    types = tuple(sorted(set(zip(usable["Owner"], usable["RequestType"]))))
    counts = pd.Series(list(zip(real["Owner"], real["RequestType"]))).value_counts()
    shares = np.array([counts[t] for t in types], dtype=float)
    templates = _templates(usable, types)
    count = np.bincount(templates["type"], minlength=len(types))
    excluded = {"ignored owner (" + ", ".join(IGNORED_OWNERS) + ")": rows_read - len(real),
                "status Open (outcome unknown)": len(real) - len(usable)}
    return Calibration(templates, types, shares / shares.sum(),
                       np.concatenate([[0], np.cumsum(count)[:-1]]), count,
                       tuple(real.attrs["files"]), rows_read, excluded,
                       int(((templates["Status"] == "Closed") & templates["days"].isna()).sum()))


def _read_real(real_dir: Path) -> pd.DataFrame:
    files = sorted(real_dir.glob("*.csv"))
    if not files:
        raise SourceError("no MyLA311 CSV files found; expected the real exports "
                          "(data/la311/*.csv) or pass the folder holding them", path=real_dir)
    frames = []
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        missing = [c for c in REQUIRED + CARRIED if c not in df.columns]
        if missing:
            raise SourceError(f"not a MyLA311 export: missing column(s) {', '.join(missing)}; "
                              f"expected the 33 MyLA311 columns", path=f)
        frames.append(df)
    real = pd.concat(frames, ignore_index=True)
    real.attrs["files"] = [f.name for f in files]
    return real


def _templates(rows: pd.DataFrame, types: tuple) -> pd.DataFrame:
    created = _parse_real_dates(rows["CreatedDate"])
    if created.isna().any():
        bad = rows["SRNumber"][created.isna()].iloc[0]
        raise SourceError(f"CreatedDate is not in the format MM/DD/YYYY hh:mm:ss AM/PM "
                          f"(first bad row: SRNumber {bad})", column="CreatedDate")
    days = (_parse_real_dates(rows["ClosedDate"]) - created).dt.total_seconds() / 86400
    service = _parse_real_dates(rows["ServiceDate"]).dt.normalize()
    out = rows[list(CARRIED) + ["Status"]].reset_index(drop=True)
    out[list(CARRIED)] = out[list(CARRIED)].mask(out[list(CARRIED)] == "")
    out["type"] = pd.Series(list(zip(rows["Owner"], rows["RequestType"]))).map(
        {t: i for i, t in enumerate(types)})
    out["lat"], out["lon"] = _coordinate(rows["Latitude"]), _coordinate(rows["Longitude"])
    out["seconds"] = (created - created.dt.normalize()).dt.total_seconds().to_numpy()
    out["days"] = days.where(days >= 0).to_numpy()
    out["service_offset"] = (service - created.dt.normalize()).dt.days.to_numpy()
    return out.sort_values(["type"], kind="stable").reset_index(drop=True)


def _parse_real_dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.replace("", None), format=REAL_DATE_FORMAT, errors="coerce")


def _coordinate(text: pd.Series) -> np.ndarray:
    value = pd.to_numeric(text.replace("", None), errors="coerce").to_numpy(dtype=float)
    return np.where(value == 0, np.nan, value)


def generate(start: str = DEFAULT_START, end: str = DEFAULT_END, per_day: float = DEFAULT_PER_DAY,
             total: int | None = None, seed: int = DEFAULT_SEED,
             calibration: Calibration | None = None, whole: tuple[str, str] | None = None,
             first_id: int = SR_FIRST) -> pd.DataFrame:
    """Generate synthetic MyLA311 service requests.

    Parameters
    ----------
    start, end : str
        First and last day of creation, ``YYYY-MM-DD`` (both included). The data is "as of"
        ``end`` 23:59:59: a request whose sampled close falls later is Open.
    per_day : float
        Mean requests per day over the span (ignored when ``total`` is given).
    total : int, optional
        Exact number of requests.
    seed : int
        Seed of ``numpy.random.default_rng``.
    calibration : Calibration, optional
        From ``load_calibration``; default: the real rows in ``data/la311``.
    whole : (str, str), optional
        First and last day of the whole city span when ``start``..``end`` is one chunk of it:
        growth and stories run along ``whole`` and the data is as of its last day (default:
        ``start``, ``end``).
    first_id : int
        Number of the first SRNumber (``1-<first_id>``); chunks of one city take disjoint ids.

    Returns
    -------
    pandas.DataFrame
        The MyLA311 columns (``COLUMNS``), one row per request, sorted by CreatedDate. Dates are
        naive America/Los_Angeles wall-clock timestamps; Latitude/Longitude NaN when missing.

    Raises
    ------
    UsageError
        A bad date, an empty span, or a bad ``per_day``/``total``.
    """
    days = _span(start, end)
    total = _total(days, per_day, total)
    cal = calibration or load_calibration()
    span = _span(*whole) if whole else days
    rng = np.random.default_rng(seed)
    day, kind = _allocate(rng, days, cal, total, span[0])
    row = cal.first[kind] + (rng.random(total) * cal.count[kind]).astype(np.int64)
    created = _created(rng, days, day, cal.templates["seconds"].to_numpy()[row])
    order = np.argsort(created, kind="stable")
    created, kind, row = created[order], kind[order], row[order]
    as_of = span[-1] + np.timedelta64(86_399, "s")
    cols = _outcome(rng, cal, row, kind, created, span, as_of)
    cols.update(_place(rng, cal, row))
    offset = cal.templates["service_offset"].to_numpy()[row] * 86_400
    cols["ServiceDate"] = created.astype("datetime64[D]") + offset.astype("timedelta64[s]")
    cols["CreatedDate"] = created
    return _frame(cal, row, cols, first_id)


def _span(start: str, end: str) -> np.ndarray:
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise UsageError(f"end {end} is before start {start}; give a span of at least one day")
    return np.arange(first, last + np.timedelta64(1, "D"), np.timedelta64(1, "D"))


def _day(value, name: str) -> np.datetime64:
    try:
        return np.datetime64(dt.date.fromisoformat(str(value)), "s")
    except ValueError:
        raise UsageError(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None


def _total(days: np.ndarray, per_day: float, total: int | None) -> int:
    if total is None:
        if not per_day > 0:
            raise UsageError(f"per_day must be a positive number of requests, got {per_day!r}")
        total = round(per_day * len(days))
    if int(total) != total or not 0 <= total <= 99_999_999:
        raise UsageError(f"total must be a whole number of requests from 0 to 99,999,999 "
                         f"(SRNumbers are 1-9 + 8 digits), got {total!r}")
    return int(total)


def _allocate(rng, days: np.ndarray, cal: Calibration, total: int, origin=None):
    """Day and type of every request: one multinomial draw over (day, type) cells."""
    weights = _weights(days, cal, origin)
    cells = rng.multinomial(total, weights.ravel() / weights.sum())
    cell = np.repeat(np.arange(cells.size), cells)
    return cell // len(cal.types), cell % len(cal.types)


def _weights(days: np.ndarray, cal: Calibration, origin=None) -> np.ndarray:
    """Expected volume of each type on each day (rows: days, columns: types); growth counts
    from ``origin`` (default: the first day)."""
    dates = pd.DatetimeIndex(days)
    start = days[0] if origin is None else origin
    years = (days - start).astype("timedelta64[D]").astype(float) / 365.25
    daily = np.asarray(WEEKDAY)[dates.day_of_week] * (1 + GROWTH_PER_YEAR) ** years
    w = np.outer(daily, cal.shares)
    for i, key in enumerate(cal.types):
        amplitude, peak = SEASON.get(key, (0.0, 1))
        w[:, i] *= 1 + amplitude * np.cos(2 * np.pi * (dates.month.to_numpy() - peak) / 12)
        if key == MOVE_OUT[0]:
            w[:, i] *= _move_out(dates, MOVE_OUT[1])
    return w


def _move_out(dates: pd.DatetimeIndex, factor: float) -> np.ndarray:
    """``factor`` on the first 2 and last 3 days of a month, scaled so its mean stays 1."""
    n = dates.days_in_month.to_numpy()
    moving = (dates.day.to_numpy() <= 2) | (dates.day.to_numpy() > n - 3)
    return np.where(moving, factor, 1.0) / ((5 * factor + n - 5) / n)


def _created(rng, days: np.ndarray, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    jitter = rng.uniform(-TIME_JITTER_S, TIME_JITTER_S, day.size)
    secs = np.clip(seconds + jitter, 0, 86_399).astype(np.int64)
    return days[day] + secs.astype("timedelta64[s]")


def _outcome(rng, cal: Calibration, row, kind, created, days, as_of) -> dict:
    """Status, ClosedDate and UpdatedDate; closes after ``as_of`` leave the request Open."""
    status = cal.templates["Status"].to_numpy(dtype=object)[row]
    dur = _durations(rng, cal, row, kind)
    dur *= _story_factor(cal, kind, created, days, status == "Closed")
    closed = created + np.round(dur * 86_400).astype("timedelta64[s]")
    still_open = closed > as_of
    status[still_open] = "Open"
    closed[still_open] = np.datetime64("NaT")
    waited = (as_of - created).astype(np.int64)
    touched = created + (rng.random(created.size) * waited).astype("timedelta64[s]")
    updated = np.where(still_open, touched, closed)
    return {"Status": status, "ClosedDate": closed, "UpdatedDate": updated}


def _durations(rng, cal: Calibration, row, kind) -> np.ndarray:
    """The template's real time to close (days), jittered; a real negative one is redrawn."""
    dur = cal.templates["days"].to_numpy(dtype=float)[row]
    for i in np.unique(kind[np.isnan(dur)]):
        lost = np.isnan(dur) & (kind == i)
        pool = _closed_days(cal, i)
        dur[lost] = rng.choice(pool, lost.sum()) if pool.size else 0.0
    return dur * np.exp(rng.normal(0.0, DURATION_JITTER, dur.size))


def _closed_days(cal: Calibration, kind: int) -> np.ndarray:
    t = cal.templates
    days = t["days"][(t["type"] == kind) & (t["Status"] == "Closed")]
    return days.dropna().to_numpy()


def _story_factor(cal: Calibration, kind, created, days, closed) -> np.ndarray:
    """Multiplier of each Closed request's time to close, moving along the span per story."""
    factor = np.ones(kind.size)
    span = (days[-1] - days[0] + np.timedelta64(1, "D")).astype(float)
    where = (created - days[0]).astype(float) / span
    for story in STORIES:
        key = (story.owner, story.request_type)
        if key not in cal.types:
            continue
        pool = _closed_days(cal, cal.types.index(key))
        lo, hi = (np.log(story_multiplier(pool, story.sla_days, share))
                  for share in (story.on_time_start, story.on_time_end))
        mask = (kind == cal.types.index(key)) & closed
        factor[mask] = np.exp(lo + (hi - lo) * where[mask])
    return factor


def story_multiplier(days: np.ndarray, sla_days: float, on_time: float) -> float:
    """Factor ``m`` such that a share ``on_time`` of ``days * m`` is within ``sla_days``.

    Parameters
    ----------
    days : numpy.ndarray
        Real times to close, in days.
    sla_days : float
        The SLA, in days.
    on_time : float
        Wanted share within the SLA. Zero durations stay on time whatever ``m``, so shares below
        theirs are out of reach (the result is then the upper bound).

    Returns
    -------
    float
        The multiplier, found by bisection on ``log m`` in [1e-3, 1e3].
    """
    lo, hi = np.log(1e-3), np.log(1e3)
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(days * np.exp(mid) <= sla_days) > on_time:
            lo = mid
        else:
            hi = mid
    return float(np.exp((lo + hi) / 2))


def _place(rng, cal: Calibration, row) -> dict:
    """Coordinates moved by ~``COORD_JITTER_M``; missing where the template had none."""
    lat = cal.templates["lat"].to_numpy()[row]
    lon = cal.templates["lon"].to_numpy()[row]
    metres_per_degree = 111_320.0
    lat = lat + rng.normal(0, COORD_JITTER_M, lat.size) / metres_per_degree
    lon = lon + rng.normal(0, COORD_JITTER_M, lon.size) / (
        metres_per_degree * np.cos(np.radians(lat)))
    return {"Latitude": np.round(lat, 9), "Longitude": np.round(lon, 9)}


def _frame(cal: Calibration, row: np.ndarray, cols: dict, first_id: int) -> pd.DataFrame:
    """Assemble the MyLA311 columns in arrow (fast at 1M rows), then hand pandas the table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.Table.from_pandas(cal.templates[list(CARRIED)], preserve_index=False).take(row)
    n = row.size
    lat, lon = (pa.array(cols[c], from_pandas=True) for c in ("Latitude", "Longitude"))
    arrays = {c: text[c].combine_chunks() for c in CARRIED}
    arrays.update({c: pa.array(_skip_dst_gap(cols[c]).astype("datetime64[ms]"))
                   for c in DATE_COLUMNS})
    arrays.update({
        "SRNumber": pc.binary_join_element_wise(
            SR_PREFIX, pa.array(np.arange(n) + first_id).cast(pa.string()), ""),
        "ActionTaken": pa.array(np.full(n, "SR Created")),
        "Status": pa.array(cols["Status"], type=pa.string()),
        "Latitude": lat, "Longitude": lon,
        "Location": pc.binary_join_element_wise(
            "(", lat.cast(pa.string()), ", ", lon.cast(pa.string()), ")", ""),
    })
    return pa.table({c: arrays[c] for c in COLUMNS}).to_pandas()


def _skip_dst_gap(values: np.ndarray) -> np.ndarray:
    """Move wall-clock times that do not exist (the spring-forward hour) one hour later."""
    values = values.astype("datetime64[s]")
    day = values.astype("datetime64[D]")
    if np.isnat(day).all():
        return values
    span = pd.date_range(np.nanmin(day), np.nanmax(day) + np.timedelta64(1, "D"), freq="D")
    offsets = span.tz_localize(TIMEZONE).map(lambda ts: ts.utcoffset())
    changes = span[:-1][np.asarray(offsets[1:]) != np.asarray(offsets[:-1])].to_numpy()
    suspect = np.flatnonzero(np.isin(day, changes.astype("datetime64[D]")))
    local = pd.DatetimeIndex(values[suspect]).tz_localize(
        TIMEZONE, ambiguous=np.ones(suspect.size, dtype=bool), nonexistent="NaT")
    out = values.copy()
    out[suspect[local.isna()]] += np.timedelta64(1, "h")
    return out


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to Parquet with deterministic bytes (same frame, same file).

    No pandas metadata, one compression setting, fixed row groups; written to a temporary file
    beside ``path`` and renamed, so a reader never sees half a file.

    Parameters
    ----------
    df : pandas.DataFrame
        Typically from ``generate``.
    path : str or Path
        Destination file; its folder is created.

    Returns
    -------
    Path
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..core.atomic_write import atomic_path
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=9,
                       row_group_size=1_000_000, write_statistics=True)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as a MyLA311 CSV export: dates as ``MM/DD/YYYY hh:mm:ss AM/PM``.

    Parameters
    ----------
    df : pandas.DataFrame
        Typically from ``generate``.
    path : str or Path
        Destination file; its folder is created.

    Returns
    -------
    Path
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    from ..core.atomic_write import atomic_path
    table = pa.Table.from_pandas(df, preserve_index=False)
    for c in DATE_COLUMNS:
        if c in table.column_names:
            text = pc.strftime(table[c].cast(pa.timestamp("s")), format=REAL_DATE_FORMAT)
            table = table.set_column(table.column_names.index(c), c, text)
    with atomic_path(path) as tmp:
        pcsv.write_csv(table, tmp, pcsv.WriteOptions(quoting_style="needed"))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m stat_lib.ingest.sample_city``: generate the sample and write it (Parquet or CSV).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0, or the exit code of the ``StatLibError`` met.
    """
    args = _parser().parse_args(argv)
    try:
        cal = load_calibration(args.real_dir)
        df = generate(args.start, args.end, args.per_day, args.total, args.seed, cal)
        as_csv = args.csv or Path(args.out).suffix.lower() == ".csv"
        path = (write_csv if as_csv else write_parquet)(df, args.out)
    except StatLibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {len(df):,} requests ({args.start} to {args.end}, seed {args.seed}) to {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stat_lib.ingest.sample_city",
                                description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(DEFAULT_OUT), help="file to write (.parquet or .csv)")
    p.add_argument("--start", default=DEFAULT_START, help="first day, YYYY-MM-DD")
    p.add_argument("--end", default=DEFAULT_END, help="last day and 'as of' date, YYYY-MM-DD")
    p.add_argument("--per-day", type=float, default=DEFAULT_PER_DAY, help="mean requests a day")
    p.add_argument("--total", type=int, default=None, help="exact number of requests")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--csv", action="store_true", help="write the real CSV text format")
    p.add_argument("--real-dir", default=str(DEFAULT_REAL_DIR), help="real MyLA311 CSV folder")
    return p


if __name__ == "__main__":
    sys.exit(main())
