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


def sample_home(base: Path, folders=("sample", "boundaries"), **city_updates) -> Path:
    """A home with the sample city's params (``city_updates`` applied to city.yaml) and the
    repo's ``data/<folder>`` linked in; its store and outputs are its own."""
    import yaml
    shutil.copytree(ROOT / "params", base / "params")
    (base / "data").mkdir()
    for folder in folders:
        (base / "data" / folder).symlink_to(ROOT / "data" / folder)
    if city_updates:
        city_file = base / "params" / "city.yaml"
        city = yaml.safe_load(city_file.read_text())
        city.update(city_updates)
        city_file.write_text(yaml.safe_dump(city, sort_keys=False))
    return base


def needs_ci_tool(path: str, what: str):
    """Skip locally when a system tool is missing, but fail on CI (env CI set)."""
    if Path(path).exists() or shutil.which(path):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} ({path}) is required on CI: .ci/run installs it")
    pytest.skip(f"{what} not installed")
