"""Index pages: a period's runs with their status and links, and the list of every period.

Both read the batch's manifests (:mod:`stat_lib.core.manifest`) and use the packet template's
CSS, so they look like the packets and work offline.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import StatLibError
from ..core.manifest import read_manifest
from ..core.periods import Period
from .packets import TEMPLATE_NAME, cover, write_atomic
from .resources import template_dirs


def _index_env(home=None):
    import jinja2
    folders = [str(d / TEMPLATE_NAME) for d in template_dirs(home)]
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folders), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def _index_css(home=None) -> str:
    for d in template_dirs(home):
        css = d / TEMPLATE_NAME / "static" / "packet.css"
        if css.exists():
            return css.read_text(encoding="utf-8")
    return ""


def _entry(e) -> dict:
    return e.to_dict() if hasattr(e, "to_dict") else dict(e)


def _run_name(params, slug: str) -> str:
    """The department's name, a kind's cover title (``Cabinet briefing``, a roundtable's
    name), else the slug in words (a run no longer in params)."""
    if params is not None and slug in params.departments:
        return params.departments[slug].name
    if params is not None:
        from .notebook_kinds import NOTEBOOK_KINDS
        for kind in NOTEBOOK_KINDS.values():
            if not kind.per_department and slug in kind.runs(params):
                return kind.title(params, slug)
    return slug.replace("-", " ").title()


STATUS_MARK = {"met": "✓", "near": "!", "missed": "✗"}  # never colour alone


def _run_row(entry: dict, params, period_dir: Path) -> dict:
    """One department's row: its counts (a mark and colour only when above 0), its packet
    links, and for a failed run the last good packet with a plain note (the error is in a
    "for analysts" detail)."""
    slug = entry.get("department", "")
    name = _run_name(params, slug)
    summary = entry.get("summary") or {}
    score = summary.get("cityscore")
    failed = entry.get("status") == "failed"
    links = [(label, entry[k]) for label, k in (("HTML", "html"), ("PDF", "pdf"),
                                                ("Slides", "slides")) if entry.get(k)]
    note, analyst = "", []
    if failed:
        links = [(label, name_) for label, name_ in (("HTML", f"{slug}.html"),
                                                     ("PDF", f"{slug}.pdf"))
                 if (period_dir / name_).exists()]
        note = ("This packet is from the previous run; this run failed, so the figures may "
                "be out of date." if links else "This run failed and there is no earlier "
                "packet for this period.")
        analyst = [(label, entry[k]) for label, k in (("failed notebook", "failed_notebook"),
                                                      ("failed notebook (HTML)", "failed_html"))
                   if entry.get(k)]
    err = entry.get("error") or ""
    return {"name": name, "status": entry.get("status", "?"), "links": links, "note": note,
            "analyst_links": analyst, "error": err if len(err) <= 400 else err[:400] + "…",
            **{k: _count(summary.get(k)) for k in ("met", "near", "missed")},
            "score": score if isinstance(score, (int, float)) else None,
            "cityscore": f"{score:.2f}" if isinstance(score, (int, float)) else "–",
            "citywide": slug == "citywide"}


def _count(value) -> dict:
    """A status count for the table: its text and whether it deserves attention (> 0)."""
    if not isinstance(value, (int, float)):
        return {"n": None, "text": "–"}
    return {"n": int(value), "text": f"{int(value):,}"}


def _concern(row: dict):
    """Citywide first; then most missed, most near, lowest CityScore, name."""
    def n(k):
        return row[k]["n"] or 0
    return (not row["citywide"], row["status"] != "failed", -n("missed"), -n("near"),
            row["score"] if row["score"] is not None else float("inf"), row["name"])


CITYSCORE_LINE = ("CityScore: each measure with a target scores its value against the target "
                  "(value ÷ target, or target ÷ value when lower is better, capped at {cap:g}); "
                  "a department's score is the average of its measures. 1.00 means on target; "
                  "above 1 is better than target.")


def write_period_index(period_dir, manifest_entries, params=None, meta: dict | None = None
                       ) -> Path:
    """Write ``<period_dir>/index.html``: every run with its status counts and links.

    ``manifest_entries`` are ``manifest.Entry`` objects or their dicts; an entry's ``summary``
    (``met``, ``near``, ``missed``, ``cityscore``) may be missing. ``meta`` may hold
    ``period`` and ``as_of``.
    """
    period_dir = Path(period_dir)
    meta = meta or {}
    entries = [_entry(e) for e in manifest_entries]
    rows = sorted((_run_row(e, params, period_dir) for e in entries), key=_concern)
    counts = {s: sum(e.get("status") == s for e in entries) for s in ("ok", "failed", "skipped")}
    counts["ready"] = counts["ok"] + counts["skipped"]
    files = [(n, n) for n in ("manifest.json", "metrics.csv") if (period_dir / n).exists()]
    cv = cover(params, None, None)
    home = params.home if params is not None else None
    page = _index_env(home).get_template("period_index.html.j2").render(
        city=cv["city"], period=meta.get("period_label") or meta.get("period") or period_dir.name,
        as_of=meta.get("data_as_of") or meta.get("as_of") or "", notice=cv["notice"],
        stale=meta.get("stale") or "", audience=meta.get("audience") or "",
        primary=cv["primary"],
        accent=cv["accent"], counts=counts, rows=rows, files=files, css=_index_css(home),
        marks=STATUS_MARK, cityscore_line=CITYSCORE_LINE.format(
            cap=params.results.cityscore_cap if params is not None else 1.5),
        submissions=submissions_text(params, meta.get("period") or period_dir.name))
    return write_atomic(period_dir / "index.html", page)


def submissions_text(params, period: str) -> str:
    """``KPI submissions: 3 on time, 1 late, 1 missing. Awaiting submission from ...``"""
    if params is None:
        return ""
    from ..metrics.kpis import awaiting_text, status_line, submission_status
    try:
        p = Period.parse(period, params.city.timezone).without_cut()
    except StatLibError:
        return ""
    status = submission_status(params, p)
    return " ".join(x for x in (status_line(status), awaiting_text(status)) if x)


def _period_key(name: str):
    try:
        return (1, str(Period.parse(name, tz="UTC").start), name)
    except Exception:
        return (0, "", name)


def write_root_index(outputs_dir, home=None) -> Path:
    """Write ``<outputs_dir>/index.html`` listing every period folder, newest first."""
    outputs_dir = Path(outputs_dir)
    periods, city = [], ""
    dirs = [d for d in outputs_dir.iterdir() if d.is_dir() and not d.name.startswith(".")
            and d.name != "public"  # the public edition lists its own periods
            and ((d / "index.html").exists() or (d / "manifest.json").exists())]
    for d in sorted(dirs, key=lambda d: _period_key(d.name), reverse=True):
        doc = read_manifest(d)
        runs = [r for r in doc.get("runs", []) if isinstance(r, dict)]
        city = city or doc.get("city", "")
        periods.append({"name": d.name, "href": f"{d.name}/index.html",
                        "ok": sum(r.get("status") in ("ok", "skipped") for r in runs),
                        "failed": sum(r.get("status") == "failed" for r in runs),
                        "as_of": doc.get("data_as_of") or doc.get("as_of") or ""})
    page = _index_env(home).get_template("root_index.html.j2").render(
        city=city, periods=periods, css=_index_css(home))
    return write_atomic(outputs_dir / "index.html", page)
