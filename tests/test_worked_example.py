"""docs/onboarding.md, step 6: the worked example runs, and prints exactly what the doc says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "fixtures" / "worked_example"
STAT_LIB = str(Path(sys.executable).with_name("stat-lib"))


def _documented(marker: str) -> str:
    text = (ROOT / "docs" / "onboarding.md").read_text()
    return re.search(rf"<!-- {marker} -->\n```text\n(.*?)```", text, re.S).group(1)


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "example"
    shutil.copytree(EXAMPLE, home)
    city = home / "params" / "city.yaml"
    city.write_text(city.read_text().replace("../../../data", str(ROOT / "data")))
    return home


def _cli(home: Path, *args):
    return subprocess.run([STAT_LIB, "--home", str(home), *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow  # over ~1.5 s: stat-lib processes on the doc's home
def test_validate_says_what_the_doc_says(tmp_path):
    out = _cli(_home(tmp_path), "validate")
    assert out.returncode == 3
    assert out.stderr == _documented("validate")


@pytest.mark.slow  # over ~1.5 s: stat-lib processes on the doc's home
def test_ingest_says_what_the_doc_says_and_loses_nothing(tmp_path):
    home = _home(tmp_path)
    out = _cli(home, "ingest")
    assert out.returncode == 0, out.stderr
    expected = _documented("ingest").replace("<home>", str(home))
    assert out.stdout == expected
    from stat_lib import store
    from stat_lib.params import load_params
    rows = store.load_requests(load_params(home)).set_index("request_id")
    assert rows.loc["WX-1002", "status"] == "closed"  # the later version of the repeated row
    assert rows.loc["WX-1003", "status"] == "cancelled"
    assert str(rows.loc["WX-1003", "closed_at"]).startswith("2026-10-03 10:00")
