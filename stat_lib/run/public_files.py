"""The public edition's folder: ``outputs/public/<period>/``, and its open data.

``stat-lib run --audience public`` writes packets (HTML, PDF) and index pages there, never an
executed notebook (a failed run's notebook is kept in the internal
``outputs/<period>/public-failed/``), and beside them:

- ``metrics.csv`` / ``metrics.json``: the published metrics (:func:`stat_lib.metrics.tidy`);
- ``districts-<layer>.csv``: requests received per department x district, withheld cells empty
  with ``withheld`` true (:mod:`stat_lib.metrics.public_tables`);
- ``suppression-log.csv``: every withheld cell and why (never its value);
- ``data-dictionary.json`` / ``.csv``: every file's columns and every metric's definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.atomic_write import write_text
from ..core.cells import safe_frame
from ..present.audience import get_audience

PUBLIC_DIR = "public"

COLUMNS = {
    "metrics.csv": {
        "department": "department slug", "department_name": "department name",
        "result": "strategic result the department serves", "period": "period label",
        "period_start": "first instant of the period (city time)",
        "period_end": "end of the period, exclusive", "metric": "metric id (see metrics)",
        "label": "metric name", "value": "the figure (empty: not applicable)",
        "unit": "count, rate, days, business_days or dollars",
        "display": "the figure as the packets print it", "target": "the target, if any",
        "direction": "which way is better", "tolerance": "the amber band, share of target",
        "status": "met, near, missed or n/a", "numerator": "a rate's numerator",
        "denominator": "a rate's denominator"},
    "districts-<layer>.csv": {
        "period": "period label", "layer": "boundary layer",
        "department": "department slug, or (all) for every department",
        "district": "district key, (no district) for requests without one, (all) the total",
        "label": "district name", "requests": "requests received in the period "
        "(empty when withheld)", "withheld": "true when the count is withheld"},
    "suppression-log.csv": {
        "table": "the table (requests_by_<layer>)", "period": "period label",
        "row": "department slug or (all)", "column": "district key or (all)",
        "reason": "primary (a count of 1 to the threshold) or complementary (which cell it "
        "protects)"},
}


@dataclass(frozen=True)
class Edition:
    """Where an audience's run writes and what it keeps."""

    name: str
    notice: str
    outputs: Path

    @property
    def public(self) -> bool:
        return self.name == PUBLIC_DIR

    @property
    def keep_notebook(self) -> bool:
        return not self.public

    @property
    def write_files(self):
        return write_public if self.public else None

    def period_dir(self, period) -> Path:
        return self.outputs / PUBLIC_DIR / period.label if self.public else \
            self.outputs / period.label

    def job(self, job, period):
        if not self.public:
            return job
        return job.but(keep_notebook=False,
                       evidence_dir=self.outputs / period.label / "public-failed")


def edition(params, audience: str = "internal") -> Edition:
    a = get_audience(audience)
    return Edition(a.name, a.cover_notice(params), params.outputs)


def write_public(params, period, period_dir: Path) -> None:
    """metrics.csv and .json, the district tables, the suppression log, the data dictionary."""
    from ..metrics.public_tables import district_tables
    from ..metrics.tidy import tidy_figures, to_csv, to_json
    figures = tidy_figures(params, period)
    write_text(period_dir / "metrics.csv", to_csv(figures))
    write_text(period_dir / "metrics.json", to_json(figures))
    tables = district_tables(params, period)
    logs = []
    for layer, s in tables.items():
        write_text(period_dir / f"districts-{layer}.csv", _csv(_long(params, s, layer, period)))
        logs.append(s.log_frame())
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=list(
        COLUMNS["suppression-log.csv"]))
    write_text(period_dir / "suppression-log.csv", _csv(log))
    write_dictionary(period_dir)


def _long(params, s, layer: str, period) -> pd.DataFrame:
    from ..store import load_districts
    labels = dict(zip(*load_districts(params, layer)[["key", "label"]].to_numpy().T))
    pub = s.published()
    rows = [{"period": period.label, "layer": layer, "department": dept, "district": key,
             "label": labels.get(key, key), "requests": pub.loc[dept, key],
             "withheld": bool(s.withheld.loc[dept, key])}
            for dept in pub.index for key in pub.columns]
    return pd.DataFrame(rows, columns=list(COLUMNS["districts-<layer>.csv"]))


def _csv(frame: pd.DataFrame) -> str:
    return safe_frame(frame).to_csv(index=False, lineterminator="\n")


def dictionary() -> dict:
    """The data dictionary: each file's columns, each metric's definition."""
    from ..metrics.registry import METRICS
    metrics = [{"metric": d.id, "label": d.label, "unit": d.unit, "direction": d.direction,
                "definition": d.description} for d in METRICS.values()]
    return {"files": {**COLUMNS, "metrics.json": "the rows of metrics.csv as JSON records"},
            "metrics": metrics}


def write_dictionary(period_dir: Path) -> None:
    doc = dictionary()
    write_text(period_dir / "data-dictionary.json",
               json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    rows = [{"file": f, "name": col, "description": text} for f, cols in doc["files"].items()
            if isinstance(cols, dict) for col, text in cols.items()]
    rows += [{"file": "metrics.csv (metric)", "name": m["metric"],
              "description": f"{m['label']} ({m['unit']}): {m['definition']}"}
             for m in doc["metrics"]]
    write_text(period_dir / "data-dictionary.csv", _csv(pd.DataFrame(rows)))
