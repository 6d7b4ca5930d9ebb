"""`stat-lib demo`: ingest the bundled sample city and run its latest complete month."""

from __future__ import annotations


def latest_complete_month(params):
    """The last calendar month that ends before the newest request in the store."""
    from ..core.periods import Period
    from ..store import connect
    with connect(params, read_only=True) as con:
        newest = con.execute("SELECT max(requested_at) FROM requests").fetchone()[0]
    if newest is None:
        from ..core.errors import StoreError
        raise StoreError("the store holds no requests; check the sources in params/city.yaml "
                         "and run `stat-lib ingest`", path=params.store_path)
    import pandas as pd
    local = pd.Timestamp(newest).tz_convert(params.city.timezone)
    return Period.parse(f"{local.year:04d}-{local.month:02d}").prior()


def run_demo(params, *, period=None, pdf=True, workers=None, echo=print):
    """Ingest, then run every department plus citywide; return (index path, all ok)."""
    from ..core.periods import Period
    from ..ingest import ingest
    from .batch import run_period
    echo("Ingesting the sample city ...")
    echo(ingest(params).summary())
    from .submissions_cli import load_sample
    rejected = load_sample(params, echo=echo)
    from .sessions_cli import load_sample as load_sessions
    load_sessions(params, echo=echo)
    period = Period.parse(period) if period else latest_complete_month(params)
    if pdf and not _has_chromium():
        echo("Chromium not found: writing HTML packets only (install it with "
             "`apt-get install -y chromium` for PDF packets).")
        pdf = False
    echo(f"Running {period} for {len(params.departments)} departments + citywide ...")
    result = run_period(params, period, None, workers=workers, pdf=pdf)
    echo(result.summary())
    from .sessions_cli import demo_followups
    for path in demo_followups(params, period):
        echo(f"Follow-up memo: {path}")
    for message in rejected:
        echo("\n" + message)
    return params.outputs / str(period) / "index.html", result.ok


def _has_chromium() -> bool:
    from ..core.errors import MissingDependency
    from ..present.chromium import find_chromium
    try:
        find_chromium()
    except MissingDependency:
        return False
    return True
