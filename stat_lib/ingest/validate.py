"""``stat-lib validate``: params and sources checked before the first ingest, all at once."""

from __future__ import annotations

from ..core.errors import ParamsError, ParamsErrors, StatLibError
from .report import REASONS


def validate(home, sample_rows: int = 1000) -> list[str]:
    """Every problem in params and sources at once: file, key, what was expected and found.

    Params are validated by ``params.load_params``; then each source must exist, have the
    columns its profile requires, and the first ``sample_rows`` rows must parse (rows that
    would be rejected are reported by reason); each boundary layer must read.
    """
    from ..params import load_params
    try:
        params = load_params(home)
    except ParamsErrors as exc:
        return [str(e) for e in exc.errors]
    except ParamsError as exc:
        return [str(exc)]
    problems = _check_boundaries(params)
    layers = _layers(params) if not problems else None
    return problems + [p for s in params.city.sources
                       for p in _check_source(params, s, sample_rows, layers)] \
        + _check_permit_sources(params)


def _layers(params):
    from .boundaries import read_layers
    try:
        return read_layers(params)
    except StatLibError:
        return None


def _check_permit_sources(params) -> list[str]:
    """Each ``permits:``/``permit_stops:``/``surveys:``/``telephony:`` source exists and has
    its profile's columns."""
    import duckdb

    from . import readers
    from .permit_profiles import resolve_permits, resolve_stops
    from .permits import _wanted
    from .survey_profiles import resolve_surveys
    from .telephony_profiles import resolve_telephony
    problems = []
    for sources, resolve in ((params.city.permits, resolve_permits),
                             (params.city.permit_stops, resolve_stops),
                             (params.city.surveys, resolve_surveys),
                             (params.city.telephony, resolve_telephony)):
        for i, source in enumerate(sources):
            try:
                readers.read(duckdb.connect(), source, params, f"check{i}",
                             _wanted(resolve(source), source))
            except StatLibError as exc:
                problems.append(str(exc))
    return problems


def _check_boundaries(params) -> list[str]:
    from .boundaries import read_layer
    problems = []
    for b in params.city.boundaries:
        try:
            read_layer(b, params)
        except StatLibError as exc:
            problems.append(str(exc))
    return problems


def _check_source(params, source, sample_rows: int, layers=None) -> list[str]:
    """Ingest a sample of one source into a throwaway in-memory store; report what fails."""
    import duckdb

    from . import pipeline, readers, unmatched
    try:
        con = duckdb.connect()
        reasons = pipeline.preview(con, params, source, sample_rows, layers)
    except StatLibError as exc:
        return [str(exc)]
    name = readers.source_name(source)
    problems = [f"{file}, row {row}: source {name!r}: {n} of the first {sample_rows} rows would "
                f"be rejected as {reason} ({REASONS[reason]})"
                for reason, n, file, row in reasons if reason != "unknown_department"]
    values = unmatched.department_values(con)
    if values:
        problems.append(unmatched.department_message(name, sample_rows, values))
    return (problems + _check_crs(con, name, source, layers, sample_rows)
            + _check_districts(con, params, name, layers, sample_rows))


# rows a layer placed by their coordinates do not use the fallback column
_NOT_PLACED = """reason IS NULL AND NOT EXISTS (SELECT 1 FROM geo g WHERE g.lat IS NOT NULL
  AND g.crs = r.crs AND g.lat_in IS NOT DISTINCT FROM r.lat_in
  AND g.lon_in IS NOT DISTINCT FROM r.lon_in AND g.x_in IS NOT DISTINCT FROM r.x_in
  AND g.y_in IS NOT DISTINCT FROM r.y_in)"""


def _check_districts(con, params, name, layers, sample_rows: int) -> list[str]:
    """Fallback district values of the sample that match no key of their layer."""
    import json

    from . import codes
    if not layers:
        return []
    found = codes.unmatched_districts(con, params, "classified", _NOT_PLACED)
    return [f"source {name!r}: district_{layer} values in the first {sample_rows} rows of each "
            f"file that match no key of the {layer!r} layer (even ignoring case and leading "
            f"zeros): {', '.join(f'{json.dumps(v)} {n}' for _, v, n in values)}; fix: map each "
            f"to a key with source_values on the {layer!r} boundary in city.yaml"
            for layer, values in found.items() if values]


def _check_crs(con, name, source, layers, sample_rows: int) -> list[str]:
    """The sample's located rows outside every layer, over the source's limit."""
    from . import crs_check
    if not layers:
        return []
    return [crs_check.message(name, source, o, list(layers),
                              f" in the first {sample_rows} rows of each file")
            for o in crs_check.counts(con) if o.share > source.max_outside_boundaries]
