"""What an ingest did: rows read, loaded and rejected by reason, per source and for the store."""

from __future__ import annotations

from dataclasses import dataclass, field

REASONS = {
    "missing_request_id": "no request id",
    "missing_requested_at": "no creation date",
    "bad_requested_at": "creation date not readable",
    "implausible_requested_at": "creation date before the source's earliest_date (default "
                                "1995-01-01) or more than a day after the ingest",
    "unknown_department": "department value not in any department's source_codes",
    "duplicate": "an older version of a request id that appears again",
    "malformed_line": "CSV line with the wrong number of fields (raw: the line's text)",
}

#: quality flags of kept rows whose meaning a city must read beside the count
FLAGS = {
    "bad_closed_at": "close date unreadable, implausible, a placeholder or more than a day "
                     "before creation: blanked",
    "cancelled_undated": "cancelled with no close date: ended by the source's "
                         "cancelled_without_date",
    "open_with_closed_at": "status open but a close date: the status wins, still open",
}


# -- report ----------------------------------------------------------------------------------

@dataclass
class SourceReport:
    """What happened to one source's rows."""

    name: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    filtered: int = 0
    loaded: int = 0
    rejected: dict = field(default_factory=dict)   # reason -> rows
    quality: dict = field(default_factory=dict)    # flag -> rows kept with it
    districts: dict = field(default_factory=dict)  # layer -> {spatial, source_column, ...}
    unmatched: dict = field(default_factory=dict)  # layer -> {fallback value: rows}, no key

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())


@dataclass
class KindReport:
    """What one dataset kind's ingest did, per source (the permits, surveys and telephony
    reports extend it with what they stored)."""

    sources: list[SourceReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sources)

    def source_lines(self, reasons: dict[str, str]) -> list[str]:
        """Each source's counts, its rejects by reason (``reasons``: reason -> words), then the
        rows kept with a quality flag."""
        out = []
        for s in self.sources:
            out.append(f"  source {s.name} ({len(s.files)} file(s)): {s.rows_read:,} read, "
                       f"{s.loaded:,} loaded, {s.rows_rejected:,} rejected"
                       + (f", {s.filtered:,} filtered out" if s.filtered else ""))
            out += [f"    rejected {r}: {n:,} ({reasons.get(r, r)})"
                    for r, n in sorted(s.rejected.items())]
            out += [f"    kept with flag {flag}: {n:,}" for flag, n in sorted(s.quality.items())]
        return out


@dataclass
class IngestReport:
    """The outcome of ``ingest``: per source counts and the upsert's effect on the store."""

    store: str
    sources: list[SourceReport] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    total_in_store: int = 0
    older_derivation: int = 0  # stored rows derived with earlier params (ingest.derivation)
    rebuilt: bool = False      # `ingest --rebuild`: the source store re-derived from scratch
    kinds: dict = field(default_factory=dict)  # other source kinds' reports (e.g. permits)

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_loaded(self) -> int:
        return sum(s.loaded for s in self.sources)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sources)

    def summary(self) -> str:
        """A plain-text quality summary (what the CLI prints)."""
        out = [f"Ingested into {self.store}: {self.rows_read:,} rows read, "
               f"{self.rows_loaded:,} loaded, {self.rows_rejected:,} rejected."]
        for s in self.sources:
            out.append(f"  source {s.name} ({len(s.files)} file(s)): {s.rows_read:,} read, "
                       f"{s.loaded:,} loaded, {s.rows_rejected:,} rejected"
                       + (f", {s.filtered:,} filtered out" if s.filtered else ""))
            for reason, n in sorted(s.rejected.items()):
                out.append(f"    rejected {reason}: {n:,} ({REASONS.get(reason, reason)})")
            for flag, n in sorted(s.quality.items()):
                said = f" ({FLAGS[flag]})" if flag in FLAGS else ""
                out.append(f"    kept with flag {flag}: {n:,}{said}")
            for layer, counts in s.districts.items():
                if counts:
                    out.append(f"    district_{layer}: "
                               + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            out += [_unmatched_line(layer, values) for layer, values in s.unmatched.items()]
        out.append(f"  store: {self.inserted:,} new, {self.updated:,} updated, "
                   f"{self.unchanged:,} unchanged, {self.stale:,} older than stored; "
                   f"{self.total_in_store:,} requests in the store.")
        if self.rebuilt:
            out.append("  rebuilt: the source store was re-derived from today's sources alone "
                       "(records people entered were not touched).")
        if self.older_derivation:
            out.append(f"  {self.older_derivation:,} stored requests were derived with earlier "
                       f"params and are not in today's sources (or only as older versions): run "
                       f"`stat-lib ingest --rebuild` to re-derive the store from today's "
                       f"sources (records people entered are not touched).")
        out += [r.summary() for r in self.kinds.values()]
        return "\n".join(line for line in out if line.strip())


def _unmatched_line(layer: str, values: dict) -> str:
    """Fallback district values that match no key of the layer, most rows first."""
    import json
    shown = ", ".join(f"{json.dumps(v)} {n:,}" for v, n in list(values.items())[:10])
    more = f" and {len(values) - 10} more" if len(values) > 10 else ""
    return (f"    district_{layer} values matching no key (rows left unassigned): {shown}{more}; "
            f"fix: map each to a key with source_values on the '{layer}' boundary in city.yaml")


