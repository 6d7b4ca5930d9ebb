"""Faults survived: kill -9 and SIGTERM of a real `stat-lib run` (cases 38, 39, 40).

Each test starts the real CLI on a batch home (two departments + citywide, real kernels), waits
(by polling, never by timing) until the run is where the fault should hit, sends the signal and
checks what is left: no process of the run survives it, nothing is written after it, the
previous good packet is intact and the exit is one plain line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from support.browser import CHROMIUM, needs_ci_tool
from support.builders import batch_home, notebooks_dir

pytestmark = pytest.mark.slow
STAT_LIB = str(Path(sys.executable).with_name("stat-lib"))


def _start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([STAT_LIB, "--home", str(home), "run", "--period", "2026-10",
                             "--workers", "2", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def _name(p: psutil.Process) -> str:
    """A descendant's name; "" for one that ended since it was listed (a Chromium helper)."""
    try:
        return p.name()
    except psutil.Error:
        return ""


def _wait_for(proc: subprocess.Popen, what, timeout: float = 240.0) -> list[psutil.Process]:
    """Descendants of ``proc`` once ``what(descendants)`` holds (polled)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            family = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
        if what(family):
            return family
        time.sleep(0.05)
    out, err = proc.communicate(timeout=30) if proc.poll() is not None else ("", "")
    raise AssertionError(f"the run never reached the state waited for\n{out}\n{err}")


def _kernels(family) -> list[psutil.Process]:
    return [p for p in family if "ipykernel" in _cmdline(p)]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*") if p.is_file()}


def _slow_home(tmp_path: Path) -> Path:
    home = batch_home(tmp_path / "home")
    notebooks_dir(tmp_path, department="slow").rename(home / "notebooks")
    out = home / "outputs" / "2026-10"
    out.mkdir(parents=True)
    (out / "sanitation.html").write_text("previous good packet")
    return home


def test_kill_9_of_run_leaves_no_worker_or_kernel_and_nothing_written_after(tmp_path):
    home = _slow_home(tmp_path)
    proc = _start(home)
    family = _wait_for(proc, lambda f: len(_kernels(f)) >= 2)
    proc.kill()
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(family, timeout=20)
    assert alive == [], f"outlived their parent: {[_cmdline(p) for p in alive]}"
    before = _snapshot(home / "outputs")
    time.sleep(2)  # anything still alive would now rename packets into place
    assert _snapshot(home / "outputs") == before
    assert (home / "outputs" / "2026-10" / "sanitation.html").read_text() == \
        "previous good packet"


def test_sigterm_while_executing_exits_at_once_with_one_line(tmp_path):
    home = _slow_home(tmp_path)
    proc = _start(home)
    family = _wait_for(proc, lambda f: len(_kernels(f)) >= 2)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    seconds = time.monotonic() - t0
    print(f"SIGTERM while executing: exit in {seconds:.2f} s")
    assert proc.returncode == 143, err
    assert seconds < 15, f"exit took {seconds:.1f} s"  # generous: measured ~2 s here
    assert "Traceback" not in err and "zmq" not in err.lower(), err
    assert "stopped by SIGTERM" in err and "previous outputs kept" in err, err
    gone, alive = psutil.wait_procs(family, timeout=20)
    assert alive == [], [_cmdline(p) for p in alive]
    out_dir = home / "outputs" / "2026-10"
    assert (out_dir / "sanitation.html").read_text() == "previous good packet"
    assert not list(out_dir.glob(".*tmp-*")) and not (out_dir / "manifest.json").exists()


def test_sigterm_during_pdf_export_stops_everything_and_nothing_is_retried(tmp_path):
    needs_ci_tool(CHROMIUM, "chromium")
    home = batch_home(tmp_path / "home")
    notebooks_dir(tmp_path).rename(home / "notebooks")
    proc = _start(home, "--pdf")
    family = _wait_for(proc, lambda f: any("chrom" in _name(p) for p in f))
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    seconds = time.monotonic() - t0
    print(f"SIGTERM during PDF export: exit in {seconds:.2f} s")
    assert proc.returncode == 143, err
    assert seconds < 15, f"exit took {seconds:.1f} s"
    assert "Traceback" not in err and "retrying" not in err, err
    gone, alive = psutil.wait_procs(family, timeout=20)
    assert alive == [], [_cmdline(p) for p in alive]
    before = _snapshot(home / "outputs")
    time.sleep(2)
    assert _snapshot(home / "outputs") == before, "nothing runs after the abort"
