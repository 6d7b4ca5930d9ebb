"""Headless Chromium for tests: what a page did (requests, console errors, DOM, screenshots).

Built on ``stat_lib.present.chromium.Chromium`` (DevTools protocol over ``--remote-debugging-pipe``):
every request the page makes is logged, and every one not for ``file:``/``data:`` is failed
before it leaves (Fetch domain), with a proxy to a closed port as a second wall.
"""

from __future__ import annotations

import atexit
import base64
import shutil
import tempfile
from pathlib import Path

from stat_lib.present.chromium import Chromium

CHROMIUM = "/usr/bin/chromium"


class Browser(Chromium):
    """One Chromium process; :meth:`open` loads a page and returns a :class:`PageReport`."""

    def open(self, path: str | Path, *, settle: str = "", width: int = 1200) -> "PageReport":
        """Load ``path`` with the network blocked; ``settle`` is a JS expression (may return a
        promise) awaited before the report is taken."""
        sid, target = super().open(path, width)
        if settle:
            self.evaluate(sid, settle)
        return PageReport(self, sid, target, Path(path).resolve().as_uri())

    def evaluate(self, sid: str, expression: str):
        res = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}, sid)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")


class PageReport:
    """What one page did: requests, console errors, plus DOM queries and screenshots."""

    def __init__(self, browser: Browser, sid: str, target: str, url: str):
        self.browser, self.sid, self.target, self.url = browser, sid, target, url

    @property
    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self._all()
                if e.get("method") == "Network.requestWillBeSent"]

    def foreign_requests(self) -> list[str]:
        """Requests for anything but the packet file itself and inline ``data:`` URIs."""
        return [u for u in self.requests if not (u.split("#")[0] == self.url
                                                 or u.startswith(("data:", "about:")))]

    def console_errors(self) -> list[str]:
        out = []
        for e in self._all():
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                exc = d.get("exception", {})
                out.append(f"{d.get('text', '')} {exc.get('description') or exc.get('value', '')}")
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def _all(self) -> list:
        return [e for e in self.browser.events if e.get("sessionId") == self.sid]

    def js(self, expression: str):
        return self.browser.evaluate(self.sid, expression)

    def screenshot(self, path: str | Path, width: int = 1200) -> Path:
        """A full-page PNG."""
        height = self.js("Math.ceil(document.documentElement.scrollHeight)")
        self.browser.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": int(min(height, 16000)), "deviceScaleFactor": 1,
            "mobile": False}, self.sid)
        data = self.browser.call("Page.captureScreenshot", {"format": "png"}, self.sid)["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})


# Waits until every chart container holds an SVG or canvas (vega-embed is asynchronous).
CHARTS_DRAWN = """new Promise(resolve => {
  const t0 = Date.now();
  (function poll() {
    const live = [...document.querySelectorAll('.stat-chart .stat-live')];
    const done = live.every(el => el.querySelector('svg, canvas'));
    if (done || Date.now() - t0 > 8000) { resolve(done); } else { setTimeout(poll, 50); }
  })();
})"""


# --- one executed test packet, shared by test modules (built once per test process) ---------

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>window.__pwned=1</script>"
# The scorecard the test notebook shows; test_packets checks these figures in the PDF.
# On-time rate 7 of 8 closed requests = 0.875 -> "87.5%"; backlog 12; CityScore 1.05.
SCORECARD = {"On-time rate": "87.5%", "Open backlog": "12", "CityScore": "1.05"}

SETUP = f'''
import sys, warnings
import numpy as np, pandas as pd, geopandas as gpd
from IPython.display import HTML, Markdown, display
from stat_lib.present import charts
from stat_lib.present import maps
ROOT = {str(ROOT)!r}
EVIL = {EVIL!r}
print("noise for stderr", file=sys.stderr)
warnings.warn("a warning that must not reach the packet")
raw = pd.read_csv(ROOT + "/data/la311/MyLA311_2018_mini.csv", usecols=[
    "SRNumber", "RequestType", "Status", "CreatedDate", "ClosedDate", "Address",
    "Latitude", "Longitude", "CD"])
fmt = "%m/%d/%Y %I:%M:%S %p"
raw["created"] = pd.to_datetime(raw.CreatedDate, format=fmt)
raw["closed"] = pd.to_datetime(raw.ClosedDate, format=fmt)
raw["days"] = (raw.closed - raw.created).dt.total_seconds() / 86400
raw["key"] = raw.CD.astype("Int64").astype(str)
cd = gpd.read_file(ROOT + "/data/boundaries/la-city-council-districts-2012.json")
cd = cd[["name", "geometry"]].rename(columns={{"name": "key"}})
cd["label"] = "District " + cd["key"]
cd.loc[cd.key == "1", "label"] = EVIL
'''
SCORECARD_CELL = f'''
rows = "".join(f"<tr><th>{{k}}</th><td>{{v}}</td></tr>" for k, v in {SCORECARD!r}.items())
display(HTML(f'<table class="stat-table scorecard">{{rows}}</table>'))
charts.status_bars({{"met": 3, "near": 1, "missed": 2}})
'''
TREND_CELL = '''
trend = pd.DataFrame({"period": [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"],
                      "value": [0.78 + 0.01 * i for i in range(13)]})
display(charts.trend_chart(trend, target=0.85, title="On-time rate, last 13 months"))
closed = raw.dropna(subset=["days"])
svc = closed.groupby("RequestType").agg(on_time_rate=("days", lambda d: (d <= 3).mean()),
                                        closed=("days", "size")).reset_index()
svc = svc.rename(columns={"RequestType": "service_name"})
svc.loc[len(svc)] = [EVIL, 0.5, 2]
display(charts.ontime_by_service(svc, target=0.9))
display(charts.time_to_close_chart(closed["days"], sla_days=3))
charts.aging_chart(np.arange(0, 120, 0.7))
'''
MAPS_CELL = '''
by_cd = closed.groupby("key").agg(on_time=("days", lambda d: (d <= 3).mean()),
                                  n=("days", "size")).reset_index()
display(maps.choropleth(cd, by_cd, value="on_time", count="n", title="On time by district",
                        value_title="Closed within 3 days"))
pts = raw.rename(columns={"Latitude": "lat", "Longitude": "lon"})
display(maps.density_map(pts))
od = pts.rename(columns={"SRNumber": "request_id", "RequestType": "service_name",
                         "Address": "address"}).head(300)
od = od.assign(days_overdue=np.arange(len(od)) / 10.0)
od.loc[od.index[-1], "address"] = EVIL
maps.overdue_map(od, districts=cd)
'''


def build_notebook():
    """The test packet notebook: scorecard (tagged), trends, maps; real LA 311 rows."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["stat_packet"] = {"title": "Sanitation Stat", "department": "Sanitation"}
    cells = [new_code_cell(SETUP), new_markdown_cell("## Trends and services"),
             new_code_cell(TREND_CELL), new_markdown_cell("## Maps"),
             new_code_cell(MAPS_CELL), new_markdown_cell("## Scorecard"),
             new_code_cell(SCORECARD_CELL)]
    for cell in cells[-2:]:
        cell.metadata["tags"] = ["scorecard"]
    nb.cells = cells
    return nbformat.from_dict(nb)


_PACKET: dict = {}


def executed_packet() -> dict:
    """Execute the test notebook once (papermill, kernel ``python3``) and export it.

    Returns paths: ``ipynb``, ``html`` (interactive), ``dir``.
    """
    if not _PACKET:
        import nbformat
        import papermill as pm

        from stat_lib.present import packets
        from stat_lib.params import load_params
        out = Path(tempfile.mkdtemp(prefix="stat-lib-packet-"))
        atexit.register(shutil.rmtree, out, True)
        nbformat.write(build_notebook(), out / "input.ipynb")
        pm.execute_notebook(str(out / "input.ipynb"), str(out / "sanitation.ipynb"),
                            kernel_name="python3", progress_bar=False, cwd=str(out))
        params = load_params(ROOT)
        html = packets.export_html(out / "sanitation.ipynb", out / "sanitation.html", params,
                                   {"period": "2026-01", "as_of": "2026-02-01 06:00"})
        _PACKET.update(ipynb=out / "sanitation.ipynb", html=html, dir=out, params=params)
    return _PACKET
