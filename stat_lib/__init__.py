"""stat_lib: data-driven Stat meetings from 311 and department data.

Layers, each importing only those below it (pyproject's [tool.importlinter] contracts)::

    cli                  stat-lib commands, thin
    run                  batch, jobs, executors, kernel fork, nightly, demo
    present              reports, charts, maps, packets, index pages
    metrics | ingest     every number, defined once | sources read, checked, stored
    store                the DuckDB store and the records store
    params               typed models of a home's params/
    core                 errors, periods, business calendar, atomic writes, dataset kinds

Kept import-light on purpose: every notebook kernel imports it, so heavy modules
(geopandas, altair, folium) are imported by the modules that need them, not here.
"""

__version__ = "0.1.0"
