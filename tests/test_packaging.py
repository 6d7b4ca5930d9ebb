"""pyproject.toml (pip) and environment.yml (conda) list the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    return {_name(s): s.strip() for s in specs}


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in items:
            if spec.startswith("-e") or _name(spec) in ("python", "pip"):
                continue
            out[_name(spec)] = spec.strip()
    return out


def test_same_packages_in_pyproject_and_environment():
    pip = {CONDA_NAMES.get(n, n) for n in _pyproject()}
    conda = set(_environment())
    assert pip - conda == set(), "in pyproject.toml but not environment.yml"
    assert conda - pip == set(), "in environment.yml but not pyproject.toml"


def test_same_version_bounds():
    conda = _environment()
    for name, spec in _pyproject().items():
        bound = spec[len(name):].strip()
        other = conda[CONDA_NAMES.get(name, name)]
        assert other.endswith(bound), f"{name}: pyproject says {spec!r}, environment {other!r}"


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "stat_lib").rglob("__init__.py")}
    assert found - listed == set(), "subpackages missing from [tool.setuptools] packages"
