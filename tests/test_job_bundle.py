"""What a shipped job carries (stat_lib.run.job_bundle): a department its own rows, the
citywide packet and the briefing every department's figures and no 311 request row."""

from __future__ import annotations

import io
import pickle

import pyarrow.parquet as pq
import pytest

from stat_lib.metrics import period_figures as pf
from stat_lib.present.notebook_kinds import kind_of, notebook_for
from stat_lib.run.batch import parameters_for
from stat_lib.run.job_bundle import pack
from stat_lib.run.jobs import Job
from support.builders import hand_city

OCT = "2026-10"


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    return hand_city(tmp_path_factory.mktemp("home"))


def _job(params, slug: str) -> Job:
    from stat_lib.core.periods import Period
    period = Period.parse(OCT, params.city.timezone)
    return Job(department=slug, kind=kind_of(params, slug).name,
               notebook=notebook_for(slug, kind_of(params, slug)),
               out_dir=params.home / "outputs" / OCT,
               parameters=parameters_for(params, period, slug), params=params, meta={},
               pdf=False, cell_timeout=60, notebook_timeout=600, cwd=params.home)


def _rows(bundle, table: str) -> int:
    _ddl, data = bundle.tables["data/stat.duckdb"][table]
    return pq.read_table(io.BytesIO(data)).num_rows


@pytest.mark.parametrize("slug", ["citywide", "briefing"])
def test_a_period_wide_job_ships_figures_and_no_request_row(params, slug):
    bundle = pack(_job(params, slug))
    assert _rows(bundle, "requests") == 0
    shipped = [k for k in bundle.files if k.endswith(pf.SHIPPED)]
    assert shipped == [f"data/cache/figures/{OCT}/{pf.SHIPPED}"]
    figures = pickle.loads(bundle.files[shipped[0]])
    assert set(figures.departments) == set(params.departments)
    assert figures.departments["sanitation"].summary["created"] == 12  # the hand figure


def test_a_department_job_ships_its_own_rows_and_no_figures(params):
    bundle = pack(_job(params, "sanitation"))
    from stat_lib import store
    own = len(store.load_requests(params, ["sanitation"]))
    assert _rows(bundle, "requests") == own > 0
    assert not [k for k in bundle.files if k.endswith(pf.SHIPPED)]


def test_a_roundtable_job_ships_its_members_rows_and_notes_only(params):
    from stat_lib import store
    from stat_lib.run.job_bundle import members_rows
    assert members_rows(params, "clean-streets") == ("sanitation", "beautification")
    notes = params.home / "sessions" / OCT
    notes.mkdir(parents=True, exist_ok=True)
    for slug in ("sanitation", "beautification", "ocb"):
        (notes / f"{slug}.md").write_text(f"# {slug}\n")
    bundle = pack(_job(params, "clean-streets"))
    members = len(store.load_requests(params, ["sanitation", "beautification"]))
    with store.connect(params) as con:
        everyone = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    assert _rows(bundle, "requests") == members == 16 < everyone  # R14 (ocb) stays home
    shipped = sorted(k for k in bundle.files if k.startswith("sessions/"))
    assert shipped == [f"sessions/{OCT}/beautification.md", f"sessions/{OCT}/sanitation.md"]
    assert f"data/cache/figures/{OCT}/{pf.PRIVATE_HOME}" in bundle.files  # caches no figures
