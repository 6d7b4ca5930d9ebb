"""The layers hold: import contracts (pyproject's [tool.importlinter]) kept, and able to fail.

Also: every dataset kind has its part in every layer, and every registry is the one place its
things are listed (the CLI's choices come from them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(package_parent: Path | None = None) -> subprocess.CompletedProcess:
    """Run the project's contracts on stat_lib (or on a copy under ``package_parent``)."""
    env = dict(os.environ)
    if package_parent is not None:
        env["PYTHONPATH"] = str(package_parent)
    return subprocess.run([str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          cwd=package_parent or ROOT, env=env, capture_output=True, text=True)


def copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of stat_lib whose ``module`` (a path under stat_lib/) gains ``line``."""
    shutil.copytree(ROOT / "stat_lib", tmp_path / "stat_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "stat_lib" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return tmp_path


def test_the_import_contracts_are_kept():
    out = lint()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 kept, 0 broken" in out.stdout


def test_a_lower_layer_importing_a_higher_one_fails_naming_both_modules(tmp_path):
    out = lint(copy_with(tmp_path, "core/periods.py", "from ..present import charts"))
    assert out.returncode != 0
    assert "BROKEN" in out.stdout
    assert "stat_lib.core.periods -> stat_lib.present.charts" in out.stdout


def test_metrics_importing_ingest_fails(tmp_path):
    out = lint(copy_with(tmp_path, "metrics/tidy.py", "from ..ingest import profiles"))
    assert out.returncode != 0
    assert "stat_lib.metrics.tidy -> stat_lib.ingest.profiles" in out.stdout


def test_plotting_below_present_fails(tmp_path):
    out = lint(copy_with(tmp_path, "metrics/scoring.py", "import altair"))
    assert out.returncode != 0
    assert "stat_lib.metrics.scoring -> altair" in out.stdout


def test_the_copy_is_what_lint_imports_analyses(tmp_path):
    """The violation tests above look at the copy, not the installed package."""
    parent = copy_with(tmp_path, "core/text.py", "")
    out = subprocess.run([sys.executable, "-c", "import stat_lib; print(stat_lib.__file__)"],
                         cwd=parent, env={**os.environ, "PYTHONPATH": str(parent)},
                         capture_output=True, text=True)
    assert out.stdout.strip() == str(parent / "stat_lib" / "__init__.py")


# --- dataset kinds: one part per layer -------------------------------------------------------

def test_every_dataset_kind_has_its_part_in_every_layer():
    from stat_lib import metrics, store
    from stat_lib.core.kinds import KINDS
    from stat_lib.ingest.kinds import INGESTS
    from stat_lib.params.kinds import KIND_PARAMS
    assert "requests" in KINDS
    for name, kind in KINDS.items():
        assert name in KIND_PARAMS, f"{name}: no params part (stat_lib.params.kinds)"
        tables = [t for t in store.TABLES.values() if t.kind == name]
        assert tables, f"{name}: no table (stat_lib.store.schema)"
        assert {t.store for t in tables} == {kind.origin}, name
        assert any(m.kind == name for m in metrics.METRICS.values()), f"{name}: no metric"
        if kind.origin == "source":
            assert name in INGESTS, f"{name}: no ingest part (stat_lib.ingest.kinds)"


def test_a_table_of_an_unknown_kind_is_refused():
    from stat_lib.core.errors import StatLibError
    from stat_lib.store.schema import Table, register_table
    with pytest.raises(StatLibError, match="unknown dataset kind 'weather'"):
        register_table(Table("weather", "readings", "id VARCHAR"))


# --- registries drive the choices ------------------------------------------------------------

def test_the_cli_offers_the_registered_executors():
    from click.testing import CliRunner

    from stat_lib.cli import main
    from stat_lib.run.executors import EXECUTORS
    out = CliRunner().invoke(main, ["run", "--period", "2026-10", "--executor", "nope"])
    assert out.exit_code == 2
    for name in EXECUTORS:
        assert repr(name) in out.output


def test_the_source_formats_come_from_the_reader_registry(tmp_path):
    from stat_lib.core.errors import SourceError
    from stat_lib.ingest.readers import READERS, format_of
    from stat_lib.params import Source
    assert set(READERS) == {"csv", "parquet", "json", "excel", "sql"}
    assert format_of(Source(path="a.CSV", profile="myla311")) == "csv"
    assert format_of(Source(path="a.pq", profile="myla311")) == "parquet"
    with pytest.raises(SourceError, match=r"cannot tell the format.*csv \(\.csv \.txt \.gz\)"):
        format_of(Source(path="a.dbf", profile="myla311"))
    with pytest.raises(SourceError, match="unknown format 'dbf'"):
        format_of(Source(path="a.x", format="dbf", profile="myla311"))


def test_the_notebook_kinds_give_the_batch_its_runs(home):
    from stat_lib.params import load_params
    from stat_lib.present.notebook_kinds import NOTEBOOK_KINDS, plan
    params = load_params(home)
    assert list(NOTEBOOK_KINDS) == ["department", "citywide", "explore", "briefing",
                                    "roundtable", "contact-center"]
    assert NOTEBOOK_KINDS["explore"].on_demand  # stat-lib explore runs it, never the batch
    # the sample city.yaml has a briefing: and one roundtable (clean-streets)
    assert plan(params) == [(s, NOTEBOOK_KINDS["department"]) for s in sorted(
        params.departments)] + [("citywide", NOTEBOOK_KINDS["citywide"]),
                                ("briefing", NOTEBOOK_KINDS["briefing"]),
                                ("clean-streets", NOTEBOOK_KINDS["roundtable"]),
                                ("contact-center", NOTEBOOK_KINDS["contact-center"])]


def test_each_packaged_notebook_displays_its_kinds_report():
    import json

    from stat_lib.present.notebook_kinds import NOTEBOOK_KINDS
    from stat_lib.present.resources import packaged
    for kind in NOTEBOOK_KINDS.values():
        nb = json.loads((packaged("notebooks") / kind.notebook).read_text())
        source = "".join("".join(c["source"]) for c in nb["cells"])
        module, cls = kind.report.rsplit(".", 1)
        assert f"from {module} import {cls}" in source, kind.name
        assert getattr(__import__(module, fromlist=[cls]), cls)


def test_present_importing_the_explorer_fails(tmp_path):
    # explore sits between run and present: reports and packets never depend on it
    out = lint(copy_with(tmp_path, "present/html.py", "from ..explore import home"))
    assert out.returncode != 0
    assert "stat_lib.present.html -> stat_lib.explore.home" in out.stdout
