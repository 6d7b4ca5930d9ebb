"""The walking skeleton end to end: sample store -> papermill -> packet HTML.

One department, one month, executed for real; the packet's headline numbers must equal what
stat_lib computes from the store, with no code shown and the sample-data notice on the cover.
"""

import html
import re

import pytest

from stat_lib.core.business_calendar import BusinessCalendar
from stat_lib.metrics import department_summary, format_value, metric_def
from stat_lib.core.periods import Period
from stat_lib.present.reports import HEADLINE
from stat_lib.store import load_requests

pytestmark = pytest.mark.slow  # ingests the sample city, executes a real notebook
PERIOD, DEPT = "2026-10", "street-lighting"


@pytest.fixture(scope="module")
def city(sample_city):
    """A home with the sample city's params and data, ingested into a fresh store (the
    session's, conftest.sample_city)."""
    return sample_city


@pytest.fixture(scope="module")
def packet(city):
    from stat_lib.run.batch import run_period
    result = run_period(city, Period.parse(PERIOD), [DEPT], workers=1, force=True)
    assert result.ok, result.summary()
    return (city.outputs / PERIOD / f"{DEPT}.html").read_text(encoding="utf-8")


def expected_headline(params) -> dict[str, str]:
    period = Period.parse(PERIOD, params.city.timezone)
    requests = load_requests(params, [DEPT], end=period.end)
    summary = department_summary(requests, params.department(DEPT), period,
                                 BusinessCalendar.from_city(params.city))
    return {k: format_value(summary[k], metric_def(k).unit) for k, _ in HEADLINE}


def test_headline_numbers_equal_the_library(city, packet):
    shown = dict(re.findall(r'data-metric="(\w+)">([^<]*)<', packet))
    expected = expected_headline(city)
    assert {k: html.unescape(v) for k, v in shown.items() if k in expected} == expected
    assert expected["created"] != "0"  # the sample has street-lighting requests in October


def test_no_code_is_shown(packet):
    assert "DepartmentReport(" not in packet
    code_cells = re.findall(r'class="(jp-Cell jp-CodeCell[^"]*)"', packet)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert "hl-ipython3" not in packet and 'class="jp-InputPrompt' not in packet
    assert "Traceback" not in packet


def test_cover_says_the_data_is_synthetic(packet):
    cover = packet[: packet.index("Scorecard")]
    assert "Synthetic data" in cover and "MyLA311" in cover
    assert "Bureau of Street Lighting" in cover


def test_packet_has_charts_and_maps(packet):
    assert packet.count("vegaEmbed") >= 1 or "vega-embed" in packet
    assert "leaflet" in packet.lower()
    assert "cdn.jsdelivr" not in packet and "unpkg.com" not in packet


def test_no_configuration_or_developer_text_reaches_a_reader(packet):
    # what a reader sees: the page without its scripts and styles
    text = re.sub(r"<(script|style)\b.*?</\1>", "", packet, flags=re.S | re.I)
    for dev in ("params/", ".yaml", "rejects table", "value row(s)", "<code>", "standards:"):
        assert dev not in text, dev
