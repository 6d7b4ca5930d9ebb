import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# A shared, loaded 2-core machine: no per-example deadlines (tests never fail on time).
settings.register_profile("stat_lib", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("stat_lib")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path) -> Path:
    """A copy of the sample city's params in a fresh home folder (no store, no outputs)."""
    shutil.copytree(ROOT / "params", tmp_path / "params")
    return tmp_path


def needs_ci_tool(path: str, what: str):
    """Skip locally when a system tool is missing, but fail on CI (env CI set)."""
    if Path(path).exists() or shutil.which(path):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} ({path}) is required on CI: .ci/run installs it")
    pytest.skip(f"{what} not installed")
