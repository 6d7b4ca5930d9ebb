"""Headless Chromium for tests: the DevTools protocol over ``--remote-debugging-pipe``.

No ports, no websocket: Chromium reads commands on fd 3 and writes replies and events on fd 4,
each a JSON message ending in a NUL byte. Every request the page makes is logged, and every one
not for ``file://`` or ``data:`` is failed before it leaves (the Fetch domain), with a proxy to a
closed port as a second wall.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("STAT_LIB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--hide-scrollbars", "--mute-audio"]
LOCAL = ("file:", "data:", "about:", "blob:")


class Browser:
    """One Chromium process; :meth:`open` loads a page and returns a :class:`PageReport`."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="stat-lib-chromium-")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(3, 4),
            preexec_fn=lambda: (os.dup2(to_child_r, 3), os.dup2(from_child_w, 4)))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf, self._id, self.events = b"", 0, []

    # --- protocol -------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        mid = self.send(method, params, session)
        msg = self.wait(lambda m: m.get("id") == mid)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    def wait(self, predicate, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._next(deadline)
            if "method" in msg:
                self._on_event(msg)
            if predicate(msg):
                return msg

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _on_event(self, msg: dict) -> None:
        self.events.append(msg)
        if msg["method"] == "Fetch.requestPaused":
            p = msg["params"]
            local = p["request"]["url"].startswith(LOCAL)
            self.send("Fetch.continueRequest" if local else "Fetch.failRequest",
                      {"requestId": p["requestId"]} | ({} if local else
                                                       {"errorReason": "BlockedByClient"}),
                      msg.get("sessionId"))

    # --- pages ----------------------------------------------------------------------------
    def open(self, path: str | Path, *, settle: str = "", width: int = 1200) -> "PageReport":
        """Load ``path`` with the network blocked; ``settle`` is a JS expression (may return a
        promise) awaited before the report is taken."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=sid)
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, sid)
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900,
                                                         "deviceScaleFactor": 1,
                                                         "mobile": False}, sid)
        url = Path(path).resolve().as_uri()
        self.call("Page.navigate", {"url": url}, sid)
        self.wait(lambda m: m.get("method") == "Page.loadEventFired"
                  and m.get("sessionId") == sid)
        if settle:
            self.evaluate(sid, settle)
        return PageReport(self, sid, target, url)

    def evaluate(self, sid: str, expression: str):
        res = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}, sid)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


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
from stat_lib import charts, maps
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

        from stat_lib import packets
        from stat_lib.config import load_params
        out = Path(tempfile.mkdtemp(prefix="stat-lib-packet-"))
        nbformat.write(build_notebook(), out / "input.ipynb")
        pm.execute_notebook(str(out / "input.ipynb"), str(out / "sanitation.ipynb"),
                            kernel_name="python3", progress_bar=False, cwd=str(out))
        params = load_params(ROOT)
        html = packets.export_html(out / "sanitation.ipynb", out / "sanitation.html", params,
                                   {"period": "2026-01", "as_of": "2026-02-01 06:00"})
        _PACKET.update(ipynb=out / "sanitation.ipynb", html=html, dir=out, params=params)
    return _PACKET
