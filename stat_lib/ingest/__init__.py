"""Ingest: a city's exports read, checked row by row and stored; nothing silently lost.

- :mod:`~stat_lib.ingest.pipeline`: ``ingest(params)``, one transaction for every kind;
- :mod:`~stat_lib.ingest.kinds`: each dataset kind's ingest steps (registered);
- :mod:`~stat_lib.ingest.readers`: file formats and SQL (registered);
- :mod:`~stat_lib.ingest.profiles`: the shapes of well-known 311 exports (registered);
- :mod:`~stat_lib.ingest.boundaries`: boundary layers and point placement;
- :mod:`~stat_lib.ingest.requests`: the ``requests`` kind (canonical rows, rejects, upsert);
- :mod:`~stat_lib.ingest.validate`: ``stat-lib validate``;
- :mod:`~stat_lib.ingest.sample_city`: the bundled synthetic sample city.
"""

from .pipeline import ingest, preview
from .report import REASONS, IngestReport, SourceReport

__all__ = ["ingest", "preview", "IngestReport", "SourceReport", "REASONS"]
