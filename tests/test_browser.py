"""A real packet in headless Chromium with every network request blocked.

Proves: no console errors, no request but the packet file, every chart drawn, every map drew
its polygons and legend, data text shows literally and runs nothing. Saves screenshots of a
department packet and of an index page to outputs/screenshots/ for a person to look at.
"""


import pytest

from stat_lib.present import index_pages
from support.browser import CHARTS_DRAWN, CHROMIUM, Browser, needs_ci_tool
from support.builders import EVIL, ROOT, executed_packet

pytestmark = pytest.mark.slow  # executes the test packet (a kernel) and drives Chromium
SHOTS = ROOT / "outputs" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    needs_ci_tool(CHROMIUM, "Chromium")
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def packet():
    return executed_packet()


@pytest.fixture(scope="module")
def report(browser, packet):
    return browser.open(packet["html"], settle=CHARTS_DRAWN)


def test_no_console_errors(report):
    assert report.console_errors() == []


def test_no_request_leaves_the_packet(report):
    assert report.requests[0] == report.url
    assert report.foreign_requests() == []


def test_every_chart_is_drawn(report):
    # status bars, 13-period trend, on time by service, time to close, aging = 5 charts
    drawn = report.js("[...document.querySelectorAll('.stat-chart .stat-live')]"
                      ".map(el => el.querySelectorAll('svg.marks, canvas').length)")
    assert drawn == [1, 1, 1, 1, 1]


def test_every_map_drew_its_polygons_and_legend(report):
    maps = report.js("""[...document.querySelectorAll('.stat-map')].map(m => ({
        paths: m.querySelectorAll('.leaflet-overlay-pane path').length,
        legend: m.querySelectorAll('.stat-live .stat-legend').length,
        printed: m.querySelectorAll('.stat-static .stat-print-legend').length,
        clusters: m.querySelectorAll('.marker-cluster').length}))""")
    assert len(maps) == 3
    assert [m.pop("printed") for m in maps] == [1, 1, 1]  # each legend printed as HTML too
    council, density, overdue = maps
    assert council == {"paths": 15, "legend": 1, "clusters": 0}  # 15 council districts
    assert density["paths"] > 500 and density["legend"] == 1  # ~1000 grid cells of real rows
    assert overdue["paths"] >= 15 and overdue["legend"] == 1 and overdue["clusters"] > 0


def test_data_text_shows_literally_and_runs_nothing(report):
    assert report.js("typeof window.__pwned") == "undefined"
    # the chart axis shows the service name as text
    labels = report.js("[...document.querySelectorAll('.stat-chart svg text')]"
                       ".map(t => t.textContent)")
    assert any(t.startswith("<script>window") for t in labels)
    # district tooltips, opened the way a hover does, hold the name as text and no element
    tips = report.js("""(() => {
        const out = [];
        for (const k of Object.keys(window).filter(k => k.startsWith('geo_json_')
                                                   && window[k] && window[k].eachLayer)) {
          window[k].eachLayer(l => {
            l.fire('mouseover', {latlng: l.getBounds().getCenter()}, true);
            const t = window[k].getTooltip() && window[k].getTooltip().getElement();
            if (t) { out.push([t.textContent, t.querySelectorAll('script').length]); }
          });
        }
        return out; })()""")
    assert len(tips) >= 30  # 15 districts on the district map + 15 outlines on the overdue map
    evil = [t for t in tips if EVIL in t[0]]
    assert evil and all(n == 0 for _, n in tips)
    # overdue popups as Leaflet renders them (innerHTML of the content string)
    popups = report.js("""(() => {
        const k = Object.keys(window).find(k => k.startsWith('fast_marker_cluster_')
                                             && window[k].getLayers);
        return window[k].getLayers().map(l => {
          const d = document.createElement('div'); d.innerHTML = l.getPopup().getContent();
          return [d.textContent, d.querySelectorAll('script').length]; }); })()""")
    assert any(EVIL in text for text, _ in popups)
    assert all(n == 0 for _, n in popups)
    assert report.js("typeof window.__pwned") == "undefined"


def test_screenshots_of_a_packet_and_an_index(browser, report, packet):
    shot = report.screenshot(SHOTS / "department-packet.png")
    index = index_pages.write_period_index(packet["dir"], [{
        "department": "sanitation", "notebook": "sanitation.ipynb", "status": "ok",
        "html": "sanitation.html", "pdf": None, "error": None,
        "summary": {"met": 3, "near": 1, "missed": 2, "cityscore": 1.05}}],
        packet["params"], {"period": "2026-01", "as_of": "2026-02-01"})
    page = browser.open(index)
    assert page.console_errors() == [] and page.foreign_requests() == []
    assert page.js("document.querySelectorAll('tr.stat-run-ok').length") == 1
    index_shot = page.screenshot(SHOTS / "period-index.png")
    for png in (shot, index_shot):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_the_checks_can_fail(browser, tmp_path):
    # a page that reaches for a CDN and logs an error must show up in both checks
    bad = tmp_path / "bad.html"
    bad.write_text('<html><head><script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
                   '</head><body><script>console.error("boom")</script></body></html>')
    page = browser.open(bad)
    assert page.foreign_requests() == ["https://cdn.jsdelivr.net/npm/vega@5"]
    assert "boom" in page.console_errors()
