"""The printed packet is a memo: at most 12 pages for the largest department, 8 for a small one,
with everything the demo loads (KPI submissions, sessions and commitments); tables never split
across pages, and table cells that hold a figure or a date never wrap."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from stat_lib.present.html import table
from support.browser import CHROMIUM, needs_ci_tool
from support.builders import sample_home
from support.html_text import table_rows

PERIOD = "2026-10"
BUDGET = {"sanitation": 12, "information-technology": 8}  # the largest and a small department


def test_figures_and_dates_never_wrap_but_words_do():
    rows = pd.DataFrame([{"what": "Raise the share of tickets closed on time", "days": "1.1 days",
                          "due": "2026-10-07", "state": "done 2026-10-24 (late)",
                          "n": "3,169", "rate": "100.0%", "badge": "<b>met</b>"}])
    html = table(rows, {c: c for c in rows.columns}, raw=("badge",))
    cells = html.split("<tbody><tr>", 1)[1].split("</td>")
    assert cells[0] == "<td>Raise the share of tickets closed on time"      # words wrap
    for i in (1, 2, 4, 5):                                                 # figures, dates
        assert cells[i].startswith('<td class="stat-nowrap">'), cells[i]
    # a date inside words keeps its hyphens together; the words around it may wrap
    assert cells[3] == '<td>done <span class="stat-nowrap">2026-10-24</span> (late)'
    assert cells[6] == "<td><b>met</b>"                                     # raw: untouched
    assert table_rows(html) == [["Raise the share of tickets closed on time", "1.1 days",
                                 "2026-10-07", "done 2026-10-24 (late)", "3,169", "100.0%",
                                 "met"]]


def test_text_is_escaped_before_dates_are_kept_whole():
    html = table(pd.DataFrame([{"x": "<i>2026-10-07</i>"}]), {"x": "x"})
    assert '&lt;i&gt;<span class="stat-nowrap">2026-10-07</span>&lt;/i&gt;' in html


@pytest.fixture(scope="module")
def demo_pdfs(tmp_path_factory):
    """Sanitation and IT printed from the sample city with the demo's submissions and minutes."""
    needs_ci_tool(CHROMIUM, "Chromium")
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    from stat_lib.run.batch import run_period
    from stat_lib.run.sessions_cli import load_sample as load_sessions
    from stat_lib.run.submissions_cli import load_sample as load_submissions
    params = load_params(sample_home(tmp_path_factory.mktemp("print-budget")))
    ingest(params)
    load_submissions(params, echo=lambda *_: None)
    load_sessions(params, echo=lambda *_: None)
    result = run_period(params, PERIOD, list(BUDGET), workers=2, pdf=True, progress=False)
    assert result.ok, result.summary()
    return {slug: params.outputs / PERIOD / f"{slug}.pdf" for slug in BUDGET}


def _pages(pdf) -> int:
    from pypdf import PdfReader
    return len(PdfReader(pdf).pages)


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.slow
@pytest.mark.parametrize("slug", list(BUDGET))
def test_a_packet_prints_within_its_page_budget(demo_pdfs, slug):
    pages = _pages(demo_pdfs[slug])
    assert pages <= BUDGET[slug], f"{slug}: {pages} pages, budget {BUDGET[slug]}"


@pytest.mark.slow
def test_page_one_is_on_the_first_printed_page(demo_pdfs):
    first = _text(demo_pdfs["sanitation"]).split("\f")[0]
    # the cover, then what needs a decision: the lead finding and the headline tiles
    assert "Bureau of Sanitation Stat" in first and "First:" in first
    assert "Needs attention" in first and "Contents" not in first  # the list is for screens


@pytest.mark.slow
@pytest.mark.parametrize("slug", list(BUDGET))
def test_tables_are_not_split_across_pages(demo_pdfs, slug):
    # a split table repeats its header on the next page: each header would print twice
    text = _text(demo_pdfs[slug])
    for header in ("FY2027-", "Days overdue", "Did its metric move as"):
        assert text.count(header) <= 1, (slug, header)
    assert "FY2027-" in text and "Did its metric move as" in text


@pytest.mark.slow
def test_the_budget_check_can_fail(demo_pdfs, tmp_path):
    # the same packet with a page per section (the rule before) is over its budget
    from stat_lib.present import packets
    html = demo_pdfs["information-technology"].with_suffix(".html")
    forced = tmp_path / "forced.html"
    forced.write_text(html.read_text(encoding="utf-8").replace(
        "</style>", ".jp-MarkdownCell:has(h2) { break-before: page; }</style>", 1),
        encoding="utf-8")
    assert _pages(packets.export_pdf(forced, tmp_path / "forced.pdf")) > BUDGET[
        "information-technology"]
