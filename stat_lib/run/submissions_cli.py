"""The work behind `stat-lib submissions ...` and the demo's submissions (the CLI stays thin)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.atomic_write import write_text
from ..core.cells import safe_frame
from ..core.errors import UsageError
from ..core.periods import Period
from ..store import submissions as records


def parse_received(params, text: str | None):
    """``--received``: an ISO date or instant (city time when it has no offset); None: now."""
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise UsageError(f"--received {text!r} is not a date or time; write 2026-11-09 or "
                         f"2026-11-09T16:30") from None
    return ts if ts.tzinfo else ts.tz_localize(params.city.timezone)


def status_text(params, period: str, now=None) -> str:
    """The `submissions status` listing: one line per department, then the summary line."""
    from ..metrics.kpis import awaiting_text, status_line, submission_status
    p = Period.parse(period, params.city.timezone)
    table = submission_status(params, p, now=now)
    if table.empty:
        return f"No department has {p.kind}ly KPIs (`kpis:` in params/departments/)."
    lines = [f"KPI submissions for {p.label} (due {table['due'].iloc[0]}):"]
    tz, width = params.city.timezone, max(len(n) for n in table["name"])
    for row in table.itertuples():
        got = row.received_at is not None and not pd.isna(row.received_at)
        when = f"  received {pd.Timestamp(row.received_at).tz_convert(tz):%Y-%m-%d %H:%M}" \
            if got else ""
        lines.append(f"  {row.status:<12} {row.name:<{width}}{when}".rstrip())
    return "\n".join(lines + [status_line(table), awaiting_text(table)]).rstrip()


def review(params, department: str, period: str, kpi: str, state: str, comment: str,
           reviewer: str | None = None) -> str:
    """Record an analyst's review of a current figure; refuse one that was never submitted."""
    dept = params.department(department)
    p = Period.parse(period, params.city.timezone)
    cur = records.current_values(params, [dept.slug])
    have = cur[(cur["period"] == p.label) & (cur["kpi"] == kpi)]
    if have.empty:
        known = ", ".join(cur.loc[cur["period"] == p.label, "kpi"]) or "none"
        raise UsageError(f"no submitted figure {kpi!r} for {dept.slug} {p.label}; submitted "
                         f"KPIs of that period: {known}")
    records.add_review(params, dept.slug, p.label, kpi, state, comment, reviewer)
    return f"{dept.slug} {p.label} {kpi} ({have['value'].iloc[0]:g}): {state}: {comment}"


def export(params, out: str | Path | None = None) -> list[Path]:
    """Write ``submissions.csv`` (current figures), ``history.csv`` (every figure ever
    loaded) and ``reviews.csv``; text cells made spreadsheet-safe (:mod:`stat_lib.core.cells`)."""
    folder = Path(out) if out else params.outputs / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"submissions.csv": records.current_values(params),
              "history.csv": records.history(params), "reviews.csv": records.reviews(params)}
    paths = []
    for name, frame in tables.items():
        text = safe_frame(frame).to_csv(index=False, lineterminator="\n")
        write_text(folder / name, text)
        paths.append(folder / name)
    return paths


def load_sample(params, echo=print) -> list[str]:
    """The demo's submissions: write the sample's files, load them with their received dates,
    add one analyst's query, then try the example bad workbook; return its rejection messages
    (shown at the end of the demo, not a failure of it)."""
    from ..ingest.sample_submissions import BAD_WORKBOOK, write_sample
    from ..ingest.submissions import load_file, load_files
    written = write_sample(params)
    loaded = [load_file(params, path, received_at=received) for path, received in written]
    new = sum(item.status == "loaded" for item in loaded)
    echo(f"KPI submissions: {len(loaded)} files ({new} new, {len(loaded) - new} unchanged).")
    _sample_review(params)
    bad = params.path(params.city.submissions.folder) / BAD_WORKBOOK
    _, rejected = load_files(params, [bad])
    where = f"{params.city.submissions.folder}/{BAD_WORKBOOK}"
    return [f"A rejected submission ({where}, kept to show one):\n{exc}" for exc in rejected]


SAMPLE_REVIEW = ("sanitation", "2026-10", "missed_collections", "queried",
                 "540 is 37% above September's 395: which routes were missed?")


def _sample_review(params) -> None:
    dept, period, kpi, state, comment = SAMPLE_REVIEW
    done = records.reviews(params)
    if dept in params.departments and (done.empty or not (
            (done["department"] == dept) & (done["period"] == period)
            & (done["kpi"] == kpi)).any()):
        records.add_review(params, dept, period, kpi, state, comment, "performance team")
