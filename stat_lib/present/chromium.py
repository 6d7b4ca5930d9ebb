"""Headless Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No port and no websocket: Chromium reads commands on fd 3 and writes replies and events on fd 4,
each a JSON message ending in a NUL byte. The network is closed twice: a proxy on a closed port,
and the Fetch domain failing every request that is not ``file:``, ``data:``, ``about:`` or
``blob:``. One process prints many packets (about half the time of one process per PDF).
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

from ..core.errors import MissingDependency, StatLibError
from ..core.lifeline import die_with_parent

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--hide-scrollbars",
         "--mute-audio")
LOCAL = ("file:", "data:", "about:", "blob:")


def find_chromium() -> str:
    """The Chromium executable (``STAT_LIB_CHROMIUM``, else chromium/chrome on PATH)."""
    for name in (os.environ.get("STAT_LIB_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome", "chrome"):
        if name and (shutil.which(name) or Path(name).is_file()):
            return shutil.which(name) or name
    raise MissingDependency("PDF packets need Chromium, which was not found; install it "
                            "(Debian: `apt-get install -y chromium`) or set STAT_LIB_CHROMIUM "
                            "to its path, or run without --pdf")


def _child_setup(child_r: int, child_w: int):
    """In the child: the DevTools pipe on fds 3 and 4, and a lifeline to this process."""
    parent = os.getpid()

    def setup() -> None:
        os.dup2(child_r, 3)
        os.dup2(child_w, 4)
        die_with_parent(parent=parent)
    return setup


class Chromium:
    """One headless Chromium process; use as a context manager."""

    def __init__(self, timeout: float = 60.0, executable: str | None = None):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="stat-lib-chromium-")
        child_r, self._w = os.pipe()
        self._r, child_w = os.pipe()
        self.proc = subprocess.Popen(
            [executable or find_chromium(), *FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=_child_setup(child_r, child_w))
        os.close(child_r)
        os.close(child_w)
        self._buf, self._id, self.events = b"", 0, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- protocol -------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and return its result (events seen meanwhile go to ``events``)."""
        mid = self.send(method, params, session)
        msg = self.wait(lambda m: m.get("id") == mid)
        if "error" in msg:
            raise StatLibError(f"Chromium refused {method}: {msg['error'].get('message')}")
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
                raise StatLibError(f"Chromium did not answer within {self.timeout:.0f} s")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise StatLibError("Chromium exited (closed its DevTools pipe)")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _on_event(self, msg: dict) -> None:
        self.events.append(msg)
        if msg["method"] == "Fetch.requestPaused":
            p = msg["params"]
            if p["request"]["url"].startswith(LOCAL):
                self.send("Fetch.continueRequest", {"requestId": p["requestId"]},
                          msg.get("sessionId"))
            else:
                self.send("Fetch.failRequest", {"requestId": p["requestId"],
                                                "errorReason": "BlockedByClient"},
                          msg.get("sessionId"))

    # --- pages ----------------------------------------------------------------------------
    def open(self, path: str | Path, width: int = 1200) -> tuple[str, str]:
        """Load a local file with the network blocked; returns ``(session_id, target_id)``
        once its load event fired."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=sid)
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, sid)
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, sid)
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri()}, sid)
        self.wait(lambda m: m.get("method") == "Page.loadEventFired"
                  and m.get("sessionId") == sid)
        return sid, target

    def print_pdf(self, html_path: str | Path) -> bytes:
        """Print a page with its own ``@page`` size and margins (print CSS), backgrounds on."""
        sid, target = self.open(html_path)
        try:
            data = self.call("Page.printToPDF", {"preferCSSPageSize": True,
                                                 "printBackground": True}, sid)["data"]
        finally:
            self.call("Target.closeTarget", {"targetId": target})
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
