"""The work behind `stat-lib sessions ...` and `stat-lib commitments ...` (the CLI stays thin).

A session's record lives under the home's ``sessions/<session id>/`` (beside the analysts'
notes; ``make clean`` removes ``outputs/``, not this): ``packets/`` holds read-only copies
(mode 0444) of the packets shown at the session, ``followup.html`` the follow-up memo.
"""

from __future__ import annotations

import datetime as dt
import shutil
import stat
from pathlib import Path

import pandas as pd

from ..core.errors import UsageError
from ..core.periods import Period
from ..params.session_models import SessionRecord
from ..store import sessions as records
from .commitment_fields import check_fields
from .minutes import parse_day

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0444


def day_option(name: str, text: str | None, fmt: str | None = None) -> dt.date | None:
    """A date given on the command line (``--due 2026-11-30``), strictly."""
    try:
        return parse_day(text, fmt)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a date; write it as 2026-10-14 "
                         f"(year-month-day)") from None


def add_session(params, held_on: str, departments, title=None, notes=None) -> str:
    for slug in departments:
        params.department(slug)  # UsageError naming the known ones
    record = SessionRecord(held_on=day_option("DATE", held_on), departments=list(departments),
                           title=title, notes=notes)
    return records.add_session(params, record.held_on, record.departments, title, notes)


def _session(params, sid: str) -> pd.Series:
    sess = records.sessions(params)
    hit = sess[sess["session_id"] == sid]
    if hit.empty:
        known = ", ".join(sess["session_id"].tail(5)) or "none yet"
        raise UsageError(f"no session {sid!r}; recent sessions: {known} (`stat-lib sessions "
                         f"list`)")
    return hit.iloc[0]


def _checked(params, fields: dict, group: list[str]) -> dict:
    out, problems = check_fields(params, fields, group)
    if problems:
        raise UsageError("; ".join(p.replace("column '", "--").replace("'", "", 1)
                                   for p in problems))
    return out


def add_commitment(params, sid: str, by=None, **fields) -> str:
    """A new commitment of session ``sid`` (department: the session's one, when alone)."""
    session = _session(params, sid)
    group = list(session["departments"])
    if fields.get("department") is None and len(group) == 1:
        fields["department"] = group[0]
    fields = _checked(params, {**fields, "session_id": sid}, group)
    return records.add_commitment(params, fields, by)


def current(params, cid: str) -> pd.Series:
    cur = records.commitments(params)
    hit = cur[cur["commitment_id"] == cid]
    if hit.empty:
        raise UsageError(f"no commitment {cid!r}; list them with `stat-lib commitments list`")
    return hit.iloc[0]


def update_commitment(params, cid: str, by=None, **changes) -> int:
    """Append a revision with ``changes`` (None: unchanged); the new revision number."""
    row = current(params, cid)
    fields = {k: row[k] for k in records.FIELDS}
    fields = {k: (None if _missing(v) else v) for k, v in fields.items()}
    fields.update({k: v for k, v in changes.items() if v is not None})
    if changes.get("status") == "open":
        fields["closed_on"] = None  # reopened
    group = list(_session(params, row["session_id"])["departments"])
    fields = _checked(params, fields, group)
    if all(_same_value(row[k], fields.get(k)) for k in records.FIELDS):
        raise UsageError(f"nothing to change in {cid}: give a new value (--what, --owner, "
                         f"--due, --status, ...)")
    return records.revise(params, cid, fields, by)


def _same_value(a, b) -> bool:
    return (_missing(a) and _missing(b)) or a == b


def close_commitment(params, cid: str, status: str, on: dt.date, notes=None, by=None) -> int:
    if current(params, cid)["status"] != "open":
        raise UsageError(f"{cid} is already {current(params, cid)['status']}; reopen it with "
                         f"`stat-lib commitments update {cid} --status open`")
    return update_commitment(params, cid, by, status=status, closed_on=on, notes=notes)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v))


# ---- listings ----------------------------------------------------------------------------------

def sessions_text(params, department=None) -> str:
    sess = records.sessions(params)
    if department:
        sess = sess[[department in d for d in sess["departments"]]]
    if sess.empty:
        return "No sessions recorded (`stat-lib sessions add DATE DEPARTMENT`)."
    cur = records.commitments(params)
    counts = cur.groupby("session_id").size()
    return "\n".join(f"{r.session_id}  {r.held_on}  {'+'.join(r.departments)}  "
                     f"{counts.get(r.session_id, 0)} commitment(s)"
                     + (f"  {r.title}" if r.title else "") for r in sess.itertuples())


def commitments_text(params, department=None, status=None, history_of=None) -> str:
    cur = records.history(params, history_of) if history_of else records.commitments(params)
    if department:
        cur = cur[cur["department"] == department]
    if status:
        cur = cur[cur["status"] == status]
    if cur.empty:
        return "No commitments match."
    lines = []
    for r in cur.itertuples():
        closed = f" on {r.closed_on}" if r.closed_on else ""
        tie = f"  [{r.metric} {r.direction}" + (f" to {r.target:g}" if not _missing(r.target)
                                                else "") + "]" if r.metric else ""
        rev = f" r{r.revision}" if history_of else ""
        lines.append(f"{r.commitment_id}{rev}  {r.status}{closed}  due {r.due_on}  "
                     f"{r.owner}: {r.what}{tie}")
    return "\n".join(lines)


# ---- the session's record ------------------------------------------------------------------

def record_dir(params, sid: str) -> Path:
    return params.home / "sessions" / sid


def archive_packets(params, sid: str, period: str | None = None) -> list[Path]:
    """Copy the packets shown at session ``sid`` (default: the month before it, as packets are
    prepared for the next session) under ``sessions/<sid>/packets/<period>/``, read-only."""
    session = _session(params, sid)
    p = Period.parse(period, params.city.timezone) if period else Period.parse(
        f"{session['held_on']:%Y-%m}", params.city.timezone).prior()
    src = params.outputs / p.label
    dest = record_dir(params, sid) / "packets" / p.label
    out = []
    for slug in session["departments"]:
        found = [f for f in (src / f"{slug}.html", src / f"{slug}.pdf") if f.exists()]
        if not found:
            raise UsageError(f"no packet {src / (slug + '.html')}; write it first with "
                             f"`stat-lib run --period {p.label} --department {slug}`")
        out += [_archive(f, dest / f.name) for f in found]
    return out


def _archive(src: Path, dest: Path) -> Path:
    if dest.exists():
        if dest.read_bytes() == src.read_bytes():
            return dest
        raise UsageError(f"{dest} is already archived and differs from {src}; an archived "
                         f"packet is never replaced (archive the new one for another session)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.chmod(READ_ONLY)
    tmp.replace(dest)
    return dest


def write_followup(params, sid: str, out: Path | None = None) -> Path:
    """The one-page follow-up memo of session ``sid`` (HTML, printable)."""
    from ..core.atomic_write import write_text
    from ..present.followup import followup_html
    session = _session(params, sid)
    cur = records.commitments(params)
    html = followup_html(params, session, cur[cur["session_id"] == sid])
    path = out or record_dir(params, sid) / "followup.html"
    write_text(path, html)
    return path


def load_sample(params, echo=print) -> dict:
    """The demo's sessions and commitments: write the sample minutes and import them (a second
    load finds every row unchanged)."""
    from ..ingest.sample_sessions import write_sample
    from .minutes import import_minutes
    path = write_sample(params)
    counts = import_minutes(params, path, by="sample")
    echo("Sessions and commitments: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
    return counts


def demo_followups(params, period) -> list[Path]:
    """The follow-up memos of the sessions held in ``period`` (the demo writes them)."""
    sess = records.sessions(params)
    tz = params.city.timezone
    p = Period.parse(period.label, tz)
    start, end = p.first_day, p.end.tz_convert(tz).date()
    held = sess[(sess["held_on"] >= start) & (sess["held_on"] < end)]
    return [write_followup(params, sid) for sid in held["session_id"]]
