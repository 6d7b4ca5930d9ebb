"""The public edition: no personal data in any public file, small district counts withheld so
that none can be worked out, the suppression log, open data, and the internal cover notice."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from stat_lib.core.errors import UsageError
from stat_lib.metrics.suppression import TOTAL, determined
from stat_lib.params import load_params
from stat_lib.present.audience import INTERNAL, PUBLIC, get_audience
from stat_lib.run.batch import parameters_for
from stat_lib.run.public_files import edition

PERIOD = "2026-10"


# --- fast: the audience and the edition -----------------------------------------------------

def test_public_audience_drops_personal_columns():
    cols = {"request_id": "Request", "service_name": "Service", "address": "Address",
            "remark": "Note / review", "days": "Days overdue"}
    assert PUBLIC.columns(cols) == {"service_name": "Service", "days": "Days overdue"}
    assert INTERNAL.columns(cols) == cols
    with pytest.raises(UsageError, match="unknown audience 'press'; expected one of: "
                                         "internal, public"):
        get_audience("press")


def test_public_edition_writes_apart_and_passes_its_audience(home):
    from stat_lib.core.periods import Period
    params = load_params(home)
    p = Period.parse(PERIOD, params.city.timezone)
    pub, internal = edition(params, "public"), edition(params)
    assert pub.period_dir(p) == params.outputs / "public" / PERIOD
    assert internal.period_dir(p) == params.outputs / PERIOD
    assert not pub.keep_notebook and internal.keep_notebook
    # internal runs receive exactly what they always did; public ones say so
    assert "audience" not in parameters_for(params, p, "sanitation")
    assert parameters_for(params, p, "sanitation", "public")["audience"] == "public"
    assert "counts of 1 to 10" in pub.notice and "personal data" in internal.notice


def test_internal_cover_says_it_holds_personal_data(home, tmp_path):
    from stat_lib.present.packets import export_html
    params = load_params(home)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Scorecard")])
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    out = export_html(path, tmp_path / "x.html", params,
                      {"audience": edition(params).notice, "title": "Sanitation Stat"})
    page = out.read_text(encoding="utf-8")
    notice = re.search(r'<p class="stat-audience" role="note">([^<]*)</p>', page)
    assert notice and html.unescape(notice.group(1)).startswith(
        "Internal: this packet holds personal data (request ids, street addresses, exact "
        "locations, notes). Not for publication")


# --- slow: the public edition of the sample city ---------------------------------------------

@pytest.fixture(scope="module")
def public_run(sample_city):
    from stat_lib.run.batch import run_period
    result = run_period(sample_city, PERIOD, audience="public", workers=2, progress=False)
    return sample_city, result, sample_city.outputs / "public" / PERIOD


def _texts(folder: Path):
    """Every file's text: HTML unescaped, a PDF's extracted text (pypdf)."""
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.suffix == ".pdf":
            from pypdf import PdfReader
            yield f, "\n".join(p.extract_text() or "" for p in PdfReader(f).pages)
        elif f.is_file():
            yield f, html.unescape(f.read_text(encoding="utf-8", errors="replace"))


def _written_by_people(params) -> set[str]:
    """KPI submission notes, review comments and reviewers in the records store; residents'
    survey comments in the source store."""
    from stat_lib.store.records import connect_records
    from stat_lib.store.surveys import load_responses
    said = {c.strip() for c in load_responses(params)["comment"].dropna() if len(c.strip()) >= 8}
    try:
        with connect_records(params, read_only=True) as con:
            rows = con.execute("SELECT note FROM kpi_values UNION SELECT comment FROM "
                               "kpi_reviews UNION SELECT reviewer FROM kpi_reviews").fetchall()
    except Exception:  # no records store: nothing was written
        return said
    return said | {r[0].strip() for r in rows if r[0] and len(r[0].strip()) >= 8}


def _personal(params) -> pd.DataFrame:
    from stat_lib.store import connect, frame
    with connect(params) as con:
        return frame(con, "SELECT request_id, address, lat, lon FROM requests")


# two numbers of 4+ decimals apart only by a short separator with no bracket ("34.05223,
# -118.24368", "[-118.24368, 34.05223]", "lat": 34.05223, "lon": ...): one point's pair, not
# the y of one polygon vertex and the x of the next ("...], [...")
PAIR = re.compile(r"(?=(-?\d+\.\d{4,})[^\[\](){}\d.-]{1,20}?(-?\d+\.\d{4,}))")
WORD = re.compile(r"[0-9A-Za-z#'.-]+")


def _pairs(text: str) -> set[tuple[str, str]]:
    """Coordinate-like pairs of the text, cut to 4 and to 5 decimals and rounded to them."""
    out = set()
    for m in PAIR.finditer(text):
        a, b = m.group(1), m.group(2)
        for d in (4, 5):
            out.add((_cut(a, d), _cut(b, d)))
            out.add((f"{float(a):.{d}f}", f"{float(b):.{d}f}"))
    return out


def _cut(x: str, d: int) -> str:
    whole, frac = x.split(".")
    return f"{whole}.{frac[:d]}"


def _ngrams(text: str, longest: int) -> set[str]:
    words = [w.lower() for w in WORD.findall(text)]
    return {" ".join(words[i:i + n]) for n in range(1, longest + 1)
            for i in range(len(words) - n + 1)}


@pytest.mark.slow
def test_public_files_hold_no_address_request_id_or_coordinate(public_run):
    params, result, out = public_run
    assert result.ok, result.summary()
    files = [f for f, _ in _texts(out)]
    assert not [f for f in files if f.suffix == ".ipynb"], "no executed notebook is public"
    assert {"index.html", "metrics.csv", "metrics.json", "manifest.json",
            "suppression-log.csv", "data-dictionary.json", "data-dictionary.csv",
            "districts-council.csv", "citywide.html"} <= {f.name for f in files}
    people = _personal(params)
    ids = set(people["request_id"].astype(str))
    addresses = {" ".join(WORD.findall(a.lower())) for a in people["address"].dropna()}
    addresses = {a for a in addresses if len(a.split()) >= 2}
    longest = max(len(a.split()) for a in addresses)
    placed = people.dropna(subset=["lat", "lon"])
    coords = {(f"{la:.{d}f}", f"{lo:.{d}f}") for la, lo in zip(placed["lat"], placed["lon"])
              for d in (4, 5)}
    coords |= {(b, a) for a, b in coords}  # GeoJSON writes [lon, lat]
    # published district boundaries are not personal: their vertices may sit on a request
    borders = _border_pairs(params)
    notes = _written_by_people(params)
    found = {}
    for f, text in _texts(out):
        found.update({f"{f.name}: note": n for n in notes if n in text})
        hits = {"ids": ids & set(WORD.findall(text)), "addresses": addresses & _ngrams(
            text, longest), "coordinates": (coords & _pairs(text)) - borders}
        found.update({f"{f.name}: {k}": sorted(v)[:3] for k, v in hits.items() if v})
    assert len(ids) == 120_900 and len(addresses) > 1000 and len(coords) > 100_000
    assert found == {}


def _border_pairs(params) -> set[tuple[str, str]]:
    """The pairs :func:`_pairs` finds in the district polygons' vertices as the maps write
    them (5 decimals) and at full precision, either order."""
    from stat_lib.store import load_districts
    out = set()
    for b in params.city.boundaries:
        for geom in load_districts(params, b.layer).geometry:
            for part in getattr(geom, "geoms", [geom]):
                for ring in [part.exterior, *part.interiors]:
                    for x, y in ring.coords:
                        for text in (f"{x:.5f} {y:.5f}", f"{x!r} {y!r}"):
                            pairs = _pairs(text)
                            out |= pairs | {(b_, a) for a, b_ in pairs}
    return out


@pytest.mark.slow
def test_no_published_district_count_is_small_or_derivable(public_run):
    params, _, out = public_run
    n = params.city.public.withhold_up_to
    figures = pd.read_csv(out / "metrics.csv")
    created = figures[figures["metric"] == "created"].set_index("department")["value"]
    log = pd.read_csv(out / "suppression-log.csv")
    for b in params.city.boundaries:
        t = pd.read_csv(out / f"districts-{b.layer}.csv", dtype={"district": str})
        grid = t.pivot(index="department", columns="district", values="requests")
        hidden = t.pivot(index="department", columns="district", values="withheld")
        rows = [d for d in grid.index if d != TOTAL] + [TOTAL]
        cols = [c for c in grid.columns if c != TOTAL] + [TOTAL]
        grid, hidden = grid.loc[rows, cols], hidden.loc[rows, cols].astype(bool)
        assert (grid.isna() == hidden).all().all()  # a withheld cell is an empty cell
        shown = grid.drop(columns=TOTAL).stack().dropna()  # published district cells
        assert ((shown == 0) | (shown > n)).all()
        assert not hidden[TOTAL].any()  # department totals: the scorecards' figure
        totals = grid[TOTAL].drop(TOTAL).astype(int)
        assert totals.to_dict() == created.loc[totals.index].astype(int).to_dict()
        true = _true(params, b.layer, rows, cols)
        mask = hidden.to_numpy()
        assert (true[~mask] == grid.to_numpy()[~mask]).all()
        assert determined(mask, true) == []
        assert mask.sum() == (log["table"] == f"requests_by_{b.layer}").sum() > 0


def _true(params, layer, rows, cols):
    """The true table (withheld cells included), recomputed from the store."""
    from stat_lib.core.periods import Period
    from stat_lib.metrics.public_tables import district_tables
    p = Period.parse(PERIOD, params.city.timezone)
    s = district_tables(params, p)[layer]
    return s.values.loc[rows, cols].to_numpy()


@pytest.mark.slow
def test_suppression_log_and_open_data(public_run):
    params, _, out = public_run
    log = pd.read_csv(out / "suppression-log.csv")
    assert list(log.columns) == ["table", "period", "row", "column", "reason"]
    assert set(log["period"]) == {PERIOD}
    assert log["reason"].str.match(r"^(primary: a count of 1 to 10|complementary: else .+ "
                                   r"could be worked out from (its row|its column|the "
                                   r"totals))$").all()
    doc = json.loads((out / "data-dictionary.json").read_text())
    figures = pd.read_csv(out / "metrics.csv")
    assert set(figures.columns) == set(doc["files"]["metrics.csv"])
    assert set(figures["metric"].str.split(".").str[0]) <= {m["metric"] for m in doc["metrics"]}
    assert json.loads((out / "metrics.json").read_text())[0].keys() == set(figures.columns)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Public edition: no personal data" in page
    assert (params.outputs / "public" / "index.html").exists()


@pytest.mark.slow
def test_the_scan_finds_what_it_looks_for(public_run):
    # the checks above can fail: a page holding one request's id, address and [lon, lat]
    params = public_run[0]
    row = _personal(params).dropna().iloc[0]
    text = (f"<td>{row['request_id']}</td><td>{row['address']}</td>"
            f"[{row['lon']:.5f}, {row['lat']:.5f}]")
    words = " ".join(WORD.findall(row["address"].lower()))
    assert str(row["request_id"]) in set(WORD.findall(text))
    assert words in _ngrams(text, len(words.split()))
    assert (f"{row['lon']:.4f}", f"{row['lat']:.4f}") in _pairs(text)


@pytest.mark.slow
def test_public_pages_meet_wcag_aa_contrast(public_run):
    from support.browser import CHROMIUM, Browser, needs_ci_tool
    from support.contrast import CONTRAST_JS
    needs_ci_tool(CHROMIUM, "Chromium")
    out = public_run[2]
    with Browser() as b:
        for name in ("index.html", "sanitation.html", "citywide.html"):
            page = b.open(out / name, settle="new Promise(r => setTimeout(r, 2000))")
            res = page.js(CONTRAST_JS)
            assert res["checked"] > 20 and res["failures"] == [], (name, res["failures"][:5])


@pytest.mark.slow
def test_a_notebook_without_the_audience_parameter_fails_clearly(tmp_path):
    # a home's own notebooks written before the public edition: each run fails before any
    # kernel starts, naming the parameter to add; nothing of them reaches the public folder
    from support.builders import batch_home, notebooks_dir, run_batch
    home = batch_home(tmp_path / "home")
    result = run_batch(home, notebooks_dir(tmp_path), audience="public")
    out = home / "outputs" / "public" / PERIOD
    assert result.exit_code == 10 and len(result.failed) == 3
    for e in result.failed:
        assert "unknown parameter(s) 'audience'" in e.error
        assert "Add e.g. `audience = None` to the cell tagged 'parameters'" in e.error
    assert not list(out.rglob("*.ipynb")) and (out / "suppression-log.csv").exists()
    assert not (home / "outputs" / PERIOD).exists()  # the internal edition is untouched


def _with_audience(src: Path, dest: Path) -> Path:
    """A copy of a test notebook whose parameters cell also declares ``audience``."""
    nb = json.loads(src.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = "".join(cell["source"]) + "\naudience = None"
    dest.write_text(json.dumps(nb))
    return dest


@pytest.mark.slow
def test_a_failed_public_run_keeps_its_notebook_internally(tmp_path):
    from support.builders import TEST_NOTEBOOKS, batch_home, run_batch
    home = batch_home(tmp_path / "home")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _with_audience(TEST_NOTEBOOKS / "ok.ipynb", nbs / "department.ipynb")
    _with_audience(TEST_NOTEBOOKS / "ok.ipynb", nbs / "citywide.ipynb")
    _with_audience(TEST_NOTEBOOKS / "broken.ipynb", nbs / "sanitation.ipynb")
    result = run_batch(home, nbs, audience="public")
    out = home / "outputs" / "public" / PERIOD
    evidence = home / "outputs" / PERIOD / "public-failed"
    assert [e.department for e in result.failed] == ["sanitation"]
    failed = result.failed[0]
    assert "broken on purpose: sanitation" in failed.error and str(evidence) in failed.error
    assert failed.failed_notebook is None  # the public index links no notebook
    assert (evidence / "sanitation.failed.ipynb").exists()
    assert (out / "street-lighting.html").exists() and (out / "citywide.html").exists()
    assert not list(out.rglob("*.ipynb")) and not list(out.glob(".*tmp*"))
    assert not re.findall(r'href="[^"]*\.ipynb"', (out / "index.html").read_text())
    assert [r["notebook"] for r in json.loads((out / "manifest.json").read_text())["runs"]] \
        == [None, None, None]
    # nothing changed: the packets that exist are skipped although no notebook is kept
    again = run_batch(home, nbs, audience="public")
    assert {e.department: e.status for e in again.entries} == {
        "citywide": "skipped", "street-lighting": "skipped", "sanitation": "failed"}


def test_cli_audience_is_a_choice(home):
    from click.testing import CliRunner

    from stat_lib.cli import main
    result = CliRunner().invoke(main, ["--home", str(home), "run", "--period", PERIOD,
                                       "--audience", "press"])
    assert result.exit_code == 2 and "'press' is not one of 'internal', 'public'" in \
        result.output
    assert "Traceback" not in result.output


def test_public_params_reject_unknown_keys_and_a_zero_threshold(home):
    from stat_lib.params.loading import ParamsErrors
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text() + "public:\n  withhold_up_to: 0\n  supress: 5\n")
    with pytest.raises(ParamsErrors) as err:
        load_params(home)
    text = str(err.value)
    assert "public.withhold_up_to" in text and "public.supress" in text


def test_the_public_edition_leaves_out_the_internal_only_kinds(home):
    from stat_lib.run.batch import _slugs
    params = load_params(home)
    everything = _slugs(params, None)
    public = _slugs(params, None, public=True)
    assert "briefing" in everything and "briefing" not in public  # the Mayor's briefing
    assert "clean-streets" in everything and "clean-streets" not in public  # a roundtable
    assert set(public) == set(params.departments) | {"citywide"}
