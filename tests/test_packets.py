"""Packets: the template, the preprocessor, offline assets once, atomic export, index pages, PDF."""

import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import (new_code_cell, new_markdown_cell, new_notebook, new_output)

from stat_lib.present import assets
from stat_lib.present import charts
from stat_lib.present import maps
from stat_lib.present import index_pages, packets
from stat_lib.params import load_params
from stat_lib.core.errors import StatLibError
from stat_lib.core.manifest import Entry
from support.browser import CHROMIUM, needs_ci_tool
from support.builders import EVIL, ROOT, SCORECARD, executed_packet

EXTERNAL = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//",
                      re.I)


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT)


def _display(bundle: dict, **kw):
    return new_output("display_data", data=bundle, **kw)


def _chart_output(title: str):
    import pandas as pd
    chart = charts.trend_chart(pd.DataFrame({"period": ["2026-01", "2026-02"],
                                             "value": [0.5, 0.6]}), target=0.55, title=title)
    bundle = chart._repr_mimebundle_()
    return _display(bundle[0] if isinstance(bundle, tuple) else bundle)


@pytest.fixture(scope="module")
def small_map():
    import geopandas as gpd
    import pandas as pd
    gdf = gpd.read_file(ROOT / "data/boundaries/la-city-council-districts-2012.json").head(3)
    gdf = gdf[["name", "geometry"]].rename(columns={"name": "key"}).assign(label="d")
    return maps.choropleth(gdf, pd.DataFrame({"key": gdf["key"], "v": [0.1, 0.5, 0.9]}),
                           value="v", title="Small map")


@pytest.fixture(scope="module")
def notebook(small_map):
    """An executed-looking notebook built by hand (no kernel): two charts, two maps, noise."""
    nb = new_notebook()
    code = new_code_cell("print('secret code that must not show')")
    code.outputs = [new_output("stream", name="stdout", text="visible stdout\n"),
                    new_output("stream", name="stderr", text="stderr noise\n"),
                    _display({"application/vnd.stat-lib.summary+json": {"met": 1}}),
                    _chart_output("First chart"), _chart_output("Second chart")]
    maps_cell = new_code_cell("maps")
    maps_cell.outputs = [_display(small_map._repr_mimebundle_()) for _ in range(2)]
    score_md = new_markdown_cell("## Scorecard")
    score = new_code_cell("scorecard")
    score.outputs = [_display({"text/html": "<table><tr><td>87.5%</td></tr></table>"})]
    for c in (score_md, score):
        c.metadata["tags"] = ["scorecard"]
    nb.cells = [new_markdown_cell("## Trends"), code, new_markdown_cell("## Maps"), maps_cell,
                score_md, score]
    return nb


@pytest.fixture(scope="module")
def page(notebook, params):
    return packets.render_html(nbformat.from_dict(json.loads(json.dumps(notebook))), params,
                               {"title": "Sanitation Stat", "period": "2026-01",
                                "as_of": "2026-02-01"})


def test_template_extends_lab_by_blocks():
    folder = packets.templates_dir() / "stat_packet"
    assert json.loads((folder / "conf.json").read_text())["base_template"] == "lab"
    text = (folder / "index.html.j2").read_text()
    assert "extends 'lab/index.html.j2'" in text
    assert "jp-OutputArea" not in text  # nothing copied from lab


def test_cover_precedence_params_then_notebook_then_meta(params):
    cv = packets.cover(params, {"title": "From notebook", "period": "nb"}, {"period": "2026-01"})
    assert cv["city"] == "Los Angeles"
    assert cv["title"] == "From notebook" and cv["period"] == "2026-01"
    assert cv["notice"].startswith("Synthetic data")  # city.sample_data is true
    assert cv["primary"] == "#1f3b5c"


def test_scorecard_first_toc_from_h2_and_no_code_prompts_or_stderr(page):
    toc = re.search(r'<nav[^>]*class="stat-toc".*?</nav>', page, re.S).group(0)
    assert re.findall(r">([^<]+)</a></li>", toc) == ["Scorecard", "Trends", "Maps"]
    body = page[page.index("</nav>"):]
    assert re.findall(r'<h2 id="([^"]+)"', body) == ["Scorecard", "Trends", "Maps"]
    assert "secret code" not in page and "stderr noise" not in page
    assert "visible stdout" in page
    assert "In&nbsp;[" not in body and "jp-InputPrompt" not in body
    assert "jp-OutputPrompt" not in body


def test_cover_shows_period_as_of_and_sample_notice(page):
    assert 'class="stat-period">2026-01<' in page and 'class="stat-as-of">2026-02-01<' in page
    assert 'class="stat-notice"' in page and "Not real city performance" in page


def test_vega_and_leaflet_inlined_once_never_from_a_network(page):
    assert page.count("window.vegaEmbed=") == 1
    assert page.count("statPacket.chart(") == 2  # one call per chart
    assert page.count(assets.leaflet_js()[:200]) == 1
    assert page.count('class="folium-map"') == 2
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert "require.min.js" not in page and "mathjax" not in page.lower()


def test_the_page_title_names_the_packet_and_period(page, notebook, params):
    assert page.count("<title>Sanitation Stat - 2026-01</title>") == 1
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    evil = packets.render_html(nb, params, {"title": EVIL, "period": "October 2026"})
    title = re.search(r"<title>(.*?)</title>", evil, re.S).group(1)
    assert "<script>" not in title and title.endswith(" - October 2026")


def test_static_mode_has_svg_and_no_scripts(notebook, params):
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    page = packets.render_html(nb, params, static=True)
    assert "window.vegaEmbed=" not in page and "statPacket.chart(\"" not in page
    assert "L.map(" not in page
    assert page.count('class="stat-static"><svg') == 4  # two charts, two maps
    assert page.count('class="stat-legend stat-print-legend"') == 2  # each map's legend, HTML
    assert ".stat-static { display: block; }" in page


def test_cover_values_are_escaped(notebook, params):
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    page = packets.render_html(nb, params, {"title": EVIL, "department": EVIL})
    assert EVIL not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_export_html_writes_atomically(tmp_path, notebook, params):
    src = tmp_path / "dept.ipynb"
    nbformat.write(notebook, src)
    out = packets.export_html(src, tmp_path / "out" / "dept.html", params, {"period": "2026-01"})
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in out.parent.iterdir()] == ["dept.html"]  # no temporary file left


def test_export_html_names_an_unreadable_notebook(tmp_path, params):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    with pytest.raises(StatLibError, match=r"broken\.ipynb.*cannot read the executed notebook"):
        packets.export_html(bad, tmp_path / "x.html", params)
    assert not (tmp_path / "x.html").exists()


# --- index pages ----------------------------------------------------------------------------

def _entries():
    ok = Entry(department="sanitation", notebook="sanitation.ipynb", parameters={}, status="ok",
               seconds=7.5, html="sanitation.html", pdf="sanitation.pdf", error=None,
               input_hash="h", summary={"met": 3, "near": 1, "missed": 2, "cityscore": 1.05})
    no_summary = {"department": "street-lighting", "notebook": "street-lighting.ipynb",
                  "parameters": {}, "status": "ok", "seconds": 6.0,
                  "html": "street-lighting.html", "pdf": None, "error": None,
                  "input_hash": "h"}
    failed = {"department": "water-and-power", "notebook": "water-and-power.ipynb",
              "parameters": {}, "status": "failed", "seconds": 2.0, "html": None, "pdf": None,
              "error": f"KeyError: {EVIL}", "input_hash": "h",
              "failed_notebook": "water-and-power.failed.ipynb"}
    return [ok, no_summary, failed]


def test_period_index_lists_runs_counts_and_links(tmp_path, params):
    (tmp_path / "manifest.json").write_text("{}")
    page = index_pages.write_period_index(tmp_path, _entries(), params,
                                      {"period": "2026-01", "as_of": "2026-02-01"}).read_text()
    assert "Stat packets: 2026-01" in page and "2 ready" in page and "1 failed" in page
    assert "&#34;" not in page  # the inlined CSS is not HTML-escaped
    rows = re.findall(r"<tr class=\"stat-run-(\w+)\">(.*?)</tr>", page, re.S)
    names = [re.search(r"<th scope=\"row\">(.*?)</th>", r).group(1) for _, r in rows]
    # by concern: a failed run, then the most missed measures
    assert names == ["Department of Water and Power", "Bureau of Sanitation",
                     "Bureau of Street Lighting"]
    san = rows[1][1]
    cells = re.findall(r'<td class="(num[^"]*)">(.*?)</td>', san)
    assert cells == [("num stat-met", '<span aria-hidden="true">✓ </span>3'),
                     ("num stat-near", '<span aria-hidden="true">! </span>1'),
                     ("num stat-missed", '<span aria-hidden="true">✗ </span>2'),
                     ("num", "1.05")]
    assert 'href="sanitation.html"' in san and 'href="sanitation.pdf"' in san
    assert re.findall(r'<td class="num[^"]*">(.*?)</td>', rows[2][1]) == ["–"] * 4
    assert rows[0][0] == "failed"
    failed = rows[0][1]
    assert "there is no earlier packet" in failed  # none on disk in this folder
    analysts = failed.split('<details class="stat-analysts">')[1]
    assert 'href="water-and-power.failed.ipynb"' in analysts  # for analysts, not leadership
    assert EVIL not in page and "KeyError: &lt;script&gt;" in analysts
    assert "CityScore: each measure with a target scores its value against the target" in page
    assert 'href="manifest.json"' in page and 'href="../index.html"' in page


def test_a_failed_run_links_its_last_good_packet_and_zero_counts_are_plain(tmp_path, params):
    (tmp_path / "water-and-power.html").write_text("last good")
    entries = _entries()
    entries[0].summary = {"met": 0, "near": 0, "missed": 0, "cityscore": 1.0}
    page = index_pages.write_period_index(tmp_path, entries, params, {"period": "2026-01"}
                                          ).read_text()
    rows = dict((n, r) for n, r in re.findall(
        r"<tr class=\"stat-run-\w+\">\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", page, re.S))
    wp = rows["Department of Water and Power"]
    assert 'href="water-and-power.html"' in wp.split("<details")[0]
    assert "This packet is from the previous run; this run failed" in wp
    san = re.findall(r'<td class="(num[^"]*)">(.*?)</td>', rows["Bureau of Sanitation"])
    assert san[:3] == [("num", "0")] * 3  # nothing to see: no colour, no mark


def test_root_index_lists_periods_newest_first(tmp_path):
    for name, runs in [("2026-Q3", 1), ("2026-09", 2), ("2026-W42", 1), ("2026-10", 3)]:
        (tmp_path / name).mkdir()
        doc = {"period": name, "runs": [{"department": f"d{i}", "status": "ok"}
                                        for i in range(runs)]}
        (tmp_path / name / "manifest.json").write_text(json.dumps(doc))
    (tmp_path / "screenshots").mkdir()  # not a period: no manifest, no index
    page = index_pages.write_root_index(tmp_path).read_text()
    # starts: W42 = 2026-10-12, 10 = 2026-10-01, 09 = 2026-09-01, Q3 = 2026-07-01
    assert re.findall(r'<a href="([^"]+)/index.html">', page) == [
        "2026-W42", "2026-10", "2026-09", "2026-Q3"]
    assert "screenshots" not in page


# --- the real, executed packet --------------------------------------------------------------

@pytest.fixture(scope="module")
def packet():
    return executed_packet()


@pytest.mark.slow
def test_real_packet_is_small_and_offline(packet):
    page = packet["html"].read_text()
    size = packet["html"].stat().st_size
    assert size < 3_000_000, f"{size:,} bytes"
    assert page.count("window.vegaEmbed=") == 1
    assert page.count(assets.leaflet_js()[:200]) == 1
    assert not EXTERNAL.search(page)
    assert "noise for stderr" not in page and "must not reach the packet" not in page


@pytest.mark.slow
def test_pdf_has_pages_numbers_and_scorecard_figures(packet, tmp_path):
    needs_ci_tool(CHROMIUM, "Chromium")
    pdf = packets.export_pdf(packet["html"], tmp_path / "sanitation.pdf")
    from pypdf import PdfReader
    reader = PdfReader(pdf)
    # sections flow under the cover (no page per section): the test notebook prints on 3 to 6
    assert 3 <= len(reader.pages) <= 6
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout if Path("/usr/bin/pdftotext").exists() else \
        "\n".join(p.extract_text() for p in reader.pages)
    for label, figure in SCORECARD.items():
        assert re.search(rf"{label}\s+{re.escape(figure)}", text), (label, figure)
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Synthetic data" in text
    assert "stderr" not in text


def test_logo_is_inlined_from_params_and_a_missing_logo_names_the_file(home):
    params = load_params(home)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    (home / "logo.png").write_bytes(png)
    params.city.branding.logo = "logo.png"
    assert packets.cover(params)["logo"].startswith("data:image/png;base64,iVBORw0KGgo")
    params.city.branding.logo = "missing.png"
    with pytest.raises(StatLibError, match=r"missing\.png.*branding logo not found"):
        packets.cover(params)


def test_the_first_output_of_a_kernel_carries_the_packet_css_for_jupyterlab():
    import subprocess
    import sys
    code = ("from stat_lib.present.html import HTML, badge\n"
            "a, b = HTML('<p>one</p>').data, HTML('<p>two</p>').data\n"
            "print(a.count('class=\"stat-lab-style\"'), b.count('stat-lab-style'),"
            " '.stat-tile' in a, '--stat-primary: #1f3b5c' in a)\n"
            "print(badge('near'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "1 0 True True"  # once per kernel, with the tiles' rules and colours
    # a pill states its status in words with a mark, dark text on the light yellow
    assert out[1] == ('<span class="stat-badge" style="background:#f9a825;color:#1a1a1a">'
                      '! near</span>')
