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
    "closed_before_created": "closed more than a day before it was created",
    "duplicate": "an older version of a request id that appears again",
    "malformed_line": "CSV line with the wrong number of fields (raw: the line's text)",
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
    districts: dict = field(default_factory=dict)  # layer -> {spatial, source_column, unassigned}

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())


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
                out.append(f"    kept with flag {flag}: {n:,}")
            for layer, counts in s.districts.items():
                parts = ", ".join(f"{k} {v:,}" for k, v in counts.items())
                out.append(f"    district_{layer}: {parts}")
        out.append(f"  store: {self.inserted:,} new, {self.updated:,} updated, "
                   f"{self.unchanged:,} unchanged, {self.stale:,} older than stored; "
                   f"{self.total_in_store:,} requests in the store.")
        out += [r.summary() for r in self.kinds.values()]
        return "\n".join(out)


