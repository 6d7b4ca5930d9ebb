"""Headless Chromium for tests: what a page did (requests, console errors, DOM, screenshots).

Built on ``stat_lib.present.chromium.Chromium`` (DevTools protocol over
``--remote-debugging-pipe``): every request the page makes is logged, and every one not for
``file:``/``data:`` is failed before it leaves (Fetch domain), with a proxy to a closed port as
a second wall.

:func:`needs_ci_tool` skips a test when Chromium (or another system tool) is missing locally,
and fails it on CI. The packet these tests open is built by ``support.builders``.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from stat_lib.present.chromium import Chromium

CHROMIUM = "/usr/bin/chromium"


def needs_ci_tool(path: str, what: str):
    """Skip locally when a system tool is missing, but fail on CI (env CI set)."""
    if Path(path).exists() or shutil.which(path):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} ({path}) is required on CI: .ci/run installs it")
    pytest.skip(f"{what} not installed")


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
