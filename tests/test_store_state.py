"""A store left half-built says plainly what state it is in and what to run (case 33)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from stat_lib.cli import main
from stat_lib.params import load_params
from support.builders import sample_home


def _metrics(home):
    return CliRunner().invoke(main, ["--home", str(home), "metrics", "--period", "2026-10"])


def test_a_store_without_tables_names_the_cause_and_the_fix(tmp_path):
    home = sample_home(tmp_path)
    store = load_params(home).store_path
    store.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(store)).close()  # what a first ingest killed before its commit leaves
    result = _metrics(home)
    assert result.exit_code == 5, result.output
    assert "the store has no tables: its first ingest did not finish" in result.output
    assert "run `stat-lib ingest`" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_kill_9_during_the_first_ingest_then_run_says_what_to_do(tmp_path):
    home = sample_home(tmp_path)
    stat_lib = Path(sys.executable).with_name("stat-lib")
    proc = subprocess.Popen([str(stat_lib), "--home", str(home), "ingest"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = load_params(home).store_path
    deadline = time.monotonic() + 60
    while not store.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the ingest: reading and placing 120,900 rows takes seconds
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = _metrics(home)
    assert result.exit_code == 5, result.output
    assert "first ingest did not finish" in result.output
    assert "Traceback" not in result.output
    ok = subprocess.run([str(stat_lib), "--home", str(home), "ingest"], capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr  # the suggested command recovers
    assert _metrics(home).exit_code == 0
