"""A notebook's summary for the batch: headline figures and statuses, as one display output.

Import-light on purpose (standard library and IPython only): every notebook kernel imports it.

A notebook hands the batch a small JSON summary by displaying one output with the mimetype
``application/vnd.stat-lib.summary+json``::

    from stat_lib.present.summary import publish_summary
    publish_summary({"on_time_rate": 0.87, "status": "green"})

The last such output of the executed notebook becomes the manifest entry's ``summary``; the
packet exporter drops it (no displayable mimetype).
"""

from __future__ import annotations

import json

SUMMARY_MIME = "application/vnd.stat-lib.summary+json"


def publish_summary(summary: dict) -> None:
    """Display ``summary`` in a notebook so the batch records it in the manifest.

    Raises
    ------
    TypeError
        ``summary`` is not a JSON-serializable dict.
    """
    if not isinstance(summary, dict):
        raise TypeError(f"publish_summary expects a dict, got {type(summary).__name__}")
    json.dumps(summary)  # fail here, in the notebook, rather than in the batch
    from IPython.display import display
    display({SUMMARY_MIME: summary}, raw=True)


def read_summary(nb: dict) -> dict | None:
    """The last ``SUMMARY_MIME`` output of an executed notebook (a parsed ipynb dict)."""
    found = None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            data = out.get("data") or {}
            if SUMMARY_MIME in data:
                value = data[SUMMARY_MIME]
                found = json.loads(value) if isinstance(value, str) else value
    return found
