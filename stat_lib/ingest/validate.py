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
    return _check_boundaries(params) + [p for s in params.city.sources
                                        for p in _check_source(params, s, sample_rows)] \
        + _check_permit_sources(params)


def _check_permit_sources(params) -> list[str]:
    """Each ``permits:``/``permit_stops:`` source exists and has its profile's columns."""
    import duckdb

    from . import readers
    from .permit_profiles import resolve_permits, resolve_stops
    from .permits import _wanted
    problems = []
    for sources, resolve in ((params.city.permits, resolve_permits),
                             (params.city.permit_stops, resolve_stops)):
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


def _check_source(params, source, sample_rows: int) -> list[str]:
    """Ingest a sample of one source into a throwaway in-memory store; report what fails."""
    import duckdb

    from . import pipeline, readers
    try:
        con = duckdb.connect()
        reasons = pipeline.preview(con, params, source, sample_rows)
    except StatLibError as exc:
        return [str(exc)]
    name = readers.source_name(source)
    return [f"{file}, row {row}: source {name!r}: {n} of the first {sample_rows} rows would be "
            f"rejected as {reason} ({REASONS[reason]})"
            for reason, n, file, row in reasons]
