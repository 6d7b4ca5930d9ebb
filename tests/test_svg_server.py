"""The batch's one vl_convert (stat_lib.present.svg_server) gives the SVG a kernel would make."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import vl_convert as vlc

from stat_lib.present import charts, svg_server
from stat_lib.run.kernel_fork import wait_ready

SPEC = {"mark": "line", "title": "Requests",
        "data": {"values": [{"m": "2026-08", "n": 3}, {"m": "2026-09", "n": 7.5}]},
        "encoding": {"x": {"field": "m", "type": "ordinal"},
                     "y": {"field": "n", "type": "quantitative"}}}


@pytest.fixture
def server(tmp_path, monkeypatch):
    path = str(tmp_path / "svg.sock")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from stat_lib.present import "
                             "svg_server; svg_server.serve(sys.argv[1])", path])
    assert wait_ready(path)
    monkeypatch.setattr(svg_server, "SOCKET", path)
    yield proc
    proc.kill()
    proc.wait()


def local(spec) -> str:
    return vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION)


@pytest.mark.slow
def test_served_svg_is_the_local_svg(server):
    served = svg_server.convert(SPEC, charts.VL_VERSION)
    assert served is not None and served.startswith("<svg")
    assert served == local(SPEC) == charts.spec_svg(SPEC)
    chart = charts.trend_chart(pd.DataFrame(
        {"period": ["2026-08", "2026-09"], "value": [0.5, 0.75]}), title="On time")
    assert svg_server.convert(chart.to_dict(), charts.VL_VERSION) == local(chart.to_dict())


@pytest.mark.slow
def test_a_spec_vl_convert_rejects_raises_its_own_error(server):
    bad = {"mark": "nonsense-mark", "data": {"values": [{"a": 1}]}}
    assert svg_server.convert(bad, charts.VL_VERSION) is None  # the server answers nothing
    with pytest.raises(ValueError) as served:
        charts.spec_svg(bad)
    with pytest.raises(ValueError) as direct:
        local(bad)
    assert str(served.value) == str(direct.value)
    assert svg_server.convert(SPEC, charts.VL_VERSION) == local(SPEC)  # still serving


@pytest.mark.slow
def test_without_a_server_the_kernel_converts(server, monkeypatch):
    server.kill()
    server.wait()
    assert svg_server.convert(SPEC, charts.VL_VERSION) is None  # refused
    assert charts.spec_svg(SPEC) == local(SPEC)
    monkeypatch.setattr(svg_server, "SOCKET", None)
    assert svg_server.convert(SPEC, charts.VL_VERSION) is None
    assert charts.spec_svg(SPEC) == local(SPEC)


def test_a_spec_json_cannot_carry_is_converted_locally(monkeypatch, tmp_path):
    monkeypatch.setattr(svg_server, "SOCKET", str(tmp_path / "absent.sock"))
    assert svg_server.convert({"data": {"values": [{"a": object()}]}}, "6.4") is None
