"""A home's own notebooks and templates override the packaged ones, each on its own.

Behaviour change (named in the restructuring issue): a home's ``notebooks/<slug>.ipynb`` is used
even when the home has no ``notebooks/department.ipynb``; before, it was silently ignored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from support.builders import TEST_NOTEBOOKS, params_home

from stat_lib.params import load_params
from stat_lib.present import packets
from stat_lib.present.notebook_kinds import NOTEBOOK_KINDS, kind_of, notebook_for
from stat_lib.present.resources import copy_into, packaged, template_dirs
from stat_lib.run.batch import run_period
from stat_lib.store import connect, ensure_schema

OK = TEST_NOTEBOOKS / "ok.ipynb"
DEPARTMENT, CITYWIDE = NOTEBOOK_KINDS["department"], NOTEBOOK_KINDS["citywide"]


def own(home: Path, name: str) -> Path:
    (home / "notebooks").mkdir(exist_ok=True)
    return Path(shutil.copy(OK, home / "notebooks" / name))


def test_without_home_notebooks_every_run_uses_the_packaged_notebook(tmp_path):
    nbs = tmp_path / "notebooks"
    assert notebook_for("sanitation", DEPARTMENT, nbs) == packaged("notebooks") / "department.ipynb"
    assert notebook_for("citywide", CITYWIDE, nbs) == packaged("notebooks") / "citywide.ipynb"
    assert notebook_for("sanitation", DEPARTMENT, None) == packaged("notebooks") / \
        "department.ipynb"


def test_a_home_notebook_for_one_department_needs_no_home_department_notebook(tmp_path):
    mine = own(tmp_path, "sanitation.ipynb")
    nbs = tmp_path / "notebooks"
    assert notebook_for("sanitation", DEPARTMENT, nbs) == mine
    assert notebook_for("street-lighting", DEPARTMENT, nbs) == packaged("notebooks") / \
        "department.ipynb"
    assert notebook_for("citywide", CITYWIDE, nbs) == packaged("notebooks") / "citywide.ipynb"


def test_a_home_kind_notebook_serves_every_run_of_its_kind_and_a_slug_notebook_wins(tmp_path):
    kind = own(tmp_path, "department.ipynb")
    mine = own(tmp_path, "sanitation.ipynb")
    nbs = tmp_path / "notebooks"
    assert notebook_for("street-lighting", DEPARTMENT, nbs) == kind
    assert notebook_for("sanitation", DEPARTMENT, nbs) == mine
    assert notebook_for("citywide", CITYWIDE, nbs) == packaged("notebooks") / "citywide.ipynb"


def test_every_run_slug_has_a_kind(tmp_path):
    from stat_lib.core.errors import UsageError
    params = load_params(params_home(tmp_path))
    assert kind_of(params, "sanitation") is DEPARTMENT
    assert kind_of(params, "citywide") is CITYWIDE
    with pytest.raises(UsageError, match="unknown department 'parks'"):
        kind_of(params, "parks")


@pytest.mark.slow
def test_the_batch_runs_a_home_notebook_for_one_department(tmp_path):
    home = params_home(tmp_path)
    mine = own(home, "sanitation.ipynb")
    params = load_params(home)
    with connect(params, read_only=False) as con:  # an empty store: the notebook reads none
        ensure_schema(con, params)
    result = run_period(params, "2026-10", ["sanitation"], workers=1, progress=False)
    entry = result.entries[0]
    assert result.ok, result.summary()
    assert entry.template == str(mine)
    html = (home / "outputs" / "2026-10" / "sanitation.html").read_text()
    assert "sanitation for 2026-10" in html  # the home notebook's own heading


def test_a_home_template_overrides_the_packaged_one(tmp_path):
    home = params_home(tmp_path)
    folder = home / "templates" / "stat_packet"
    shutil.copytree(packaged("templates") / "stat_packet", folder)
    index = folder / "index.html.j2"
    text = index.read_text()
    assert '<p class="stat-city">' in text
    index.write_text(text.replace('<p class="stat-city">', '<p class="stat-city">HOME-MARK ', 1))
    assert template_dirs(home)[0] == (home / "templates").resolve()
    nb = new_notebook(cells=[new_markdown_cell("## Section"), new_code_cell("1")])
    page = packets.render_html(nb, load_params(home))
    assert "HOME-MARK Los Angeles" in page
    assert "HOME-MARK" not in packets.render_html(nbformat.from_dict(nb), None)


def test_init_notebooks_copies_the_packaged_notebooks_and_templates(tmp_path):
    written = copy_into(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"notebooks/department.ipynb", "notebooks/citywide.ipynb",
            "templates/stat_packet/conf.json", "templates/stat_packet/index.html.j2",
            "templates/stat_packet/static/packet.css"} <= names
    (tmp_path / "notebooks" / "department.ipynb").write_text("{}")  # a city's own edits
    assert copy_into(tmp_path) == []  # kept without force
    assert (tmp_path / "notebooks" / "department.ipynb").read_text() == "{}"


def test_an_edited_home_template_is_read_again_by_the_same_process(tmp_path):
    # packets reuse one exporter (its compiled templates) per process, keyed by the files
    home = params_home(tmp_path)
    folder = home / "templates" / "stat_packet"
    shutil.copytree(packaged("templates") / "stat_packet", folder)
    nb = new_notebook(cells=[new_markdown_cell("## Section"), new_code_cell("1")])
    params = load_params(home)
    first = packets.render_html(nbformat.from_dict(nb), params)
    assert packets.render_html(nbformat.from_dict(nb), params) == first  # reused: the same
    index = folder / "index.html.j2"
    index.write_text(index.read_text().replace('<p class="stat-city">',
                                               '<p class="stat-city">EDITED ', 1) + "\n")
    assert "EDITED Los Angeles" in packets.render_html(nbformat.from_dict(nb), params)
