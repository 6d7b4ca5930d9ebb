"""Every department's figures of a period, computed once (stat_lib.metrics.period_figures).

The readers that used to load every department's rows (metrics.csv, the citywide packet, the
briefing, the public district tables) now read these figures: they must give the same values
as the rows did, be recomputed exactly when their inputs change, and be computed once when
two processes ask at the same time.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil

import pandas as pd
import pytest

from stat_lib import store
from stat_lib.core.periods import Period
from stat_lib.metrics import period_figures as pf
from stat_lib.metrics import tidy
from stat_lib.params import load_params
from support.builders import hand_city

OCT = "2026-10"


@pytest.fixture
def params(tmp_path):
    return hand_city(tmp_path / "home")


@pytest.fixture
def computed(monkeypatch):
    """The slugs whose figures were computed (not read from the cache), in order."""
    seen: list[str] = []
    real = pf.compute

    def counting(params, period, slug, *args):
        seen.append(slug)
        return real(params, period, slug, *args)
    monkeypatch.setattr(pf, "compute", counting)
    return seen


def _oct(params) -> Period:
    return Period.parse(OCT, params.city.timezone)


def test_metrics_csv_rows_equal_the_rows_computed_from_all_requests(params):
    """The figures path gives metrics.csv exactly what the all-rows path gives."""
    period = _oct(params)
    via_figures = tidy.tidy_figures(params, period)
    # as_of given: each department's rows loaded and computed in turn (its KPIs after it)
    direct = tidy.tidy_figures(params, period,
                               as_of=store.latest_change(params, None, period.end))
    pd.testing.assert_frame_equal(via_figures, direct)
    assert via_figures["metric"].str.startswith("kpi.").any()
    san = via_figures[via_figures["department"] == "sanitation"].set_index("metric")
    assert san.loc["created", "value"] == 12 and san.loc["closed", "value"] == 7  # by hand


def test_citywide_windows_equal_the_cityscore_figures_of_all_rows(params):
    from stat_lib.present.reports.citywide import CitywideReport
    report = CitywideReport(str(params.home), OCT)
    expected = tidy.cityscore_figures(params, _oct(params))
    pd.testing.assert_frame_equal(report.figures, expected)
    assert not hasattr(report, "prepared")  # it holds figures, never the rows


def test_one_department_in_memory_at_a_time(params, monkeypatch):
    asked = []
    real = store.load_requests

    def recording(p, departments=None, **kw):
        asked.append(departments)
        return real(p, departments, **kw)
    monkeypatch.setattr(store, "load_requests", recording)
    pf.period_figures(params, OCT)
    assert asked == [[slug] for slug in params.departments]


def test_cached_figures_are_reused_and_only_a_changed_department_is_recomputed(params,
                                                                                computed):
    first = pf.period_figures(params, OCT)
    assert computed == list(params.departments)
    computed.clear()
    again = pf.period_figures(params, OCT)
    assert computed == []  # every department from the cache
    pd.testing.assert_frame_equal(again.departments["sanitation"].windows,
                                  first.departments["sanitation"].windows)
    # move one sanitation request created in October to another council district: the
    # city's latest change is the same, so only sanitation is recomputed
    layer = params.city.boundaries[0].layer
    col = f"district_{layer}"
    before = first.departments["sanitation"].created[layer]
    with store.write_lock(params), store.connect(params, read_only=False) as con:
        rid, old = con.execute(
            f"SELECT request_id, \"{col}\" FROM requests WHERE department = 'sanitation' AND "
            f"requested_at >= TIMESTAMPTZ '2026-10-01 07:00:00+00' AND \"{col}\" IS NOT NULL "
            f"ORDER BY request_id LIMIT 1").fetchone()
        con.execute(f"UPDATE requests SET \"{col}\" = 'elsewhere' WHERE request_id = ?", [rid])
    changed = pf.period_figures(params, OCT)
    assert computed == ["sanitation"]
    after = changed.departments["sanitation"].created[layer]
    assert after.get("elsewhere") == 1 and after.get(old, 0) == before[old] - 1
    assert int(after.sum()) == int(before.sum())  # every request still counted once
    # a department's own params file changes its figures' key, and only its own
    computed.clear()
    yaml = params.home / "params" / "departments" / "water-and-power.yaml"
    yaml.write_text(yaml.read_text() + "\n# a comment\n")
    pf.period_figures(load_params(params.home), OCT)
    assert computed == ["water-and-power"]


def _figures_in_child(home, out):
    """Run in a forked child: the period's figures, recording which were computed."""
    real = pf.compute

    def counting(params, period, slug, *args):
        with open(out, "a") as fh:
            fh.write(slug + "\n")
        return real(params, period, slug, *args)
    pf.compute = counting
    pf.period_figures(load_params(home), OCT)


def test_two_processes_at_once_compute_each_department_once(params, tmp_path):
    out = tmp_path / "computed.txt"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_figures_in_child, args=(params.home, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sorted(out.read_text().split()) == sorted(params.departments)


def test_a_shipped_home_reads_the_shipped_figures_not_its_empty_store(params, tmp_path):
    """A job's private home (no request rows) uses the client's figures as they are."""
    period = _oct(params)
    data = pf.ship(params, period)
    home = tmp_path / "shipped"
    shutil.copytree(params.home / "params", home / "params")
    shipped = load_params(home)
    with store.write_lock(shipped), store.connect(shipped, read_only=False) as con:
        store.ensure_schema(con, shipped)  # an empty store, as a bundle without rows
    folder = pf.figures_folder(shipped, period)
    folder.mkdir(parents=True)
    (folder / pf.SHIPPED).write_bytes(data)
    got = pf.period_figures(shipped, period)
    want = pf.period_figures(params, period)
    assert got.city_as_of == want.city_as_of and got.partial == want.partial
    pd.testing.assert_frame_equal(got.window_rows("month"), want.window_rows("month"))
    assert tidy.tidy_figures(shipped, period)["value"].notna().sum() == \
        tidy.tidy_figures(params, period)["value"].notna().sum()


def _same(a: pf.DepartmentFigures, b: pf.DepartmentFigures) -> None:
    assert (a.slug, a.empty, a.as_of, a.summary, a.fiscal) == \
        (b.slug, b.empty, b.as_of, b.summary, b.fiscal)
    pd.testing.assert_frame_equal(a.windows, b.windows)
    pd.testing.assert_frame_equal(a.trend, b.trend)
    for layer in a.districts:
        pd.testing.assert_frame_equal(a.districts[layer], b.districts[layer])
        pd.testing.assert_series_equal(a.created[layer], b.created[layer])


def test_a_packet_caches_its_figures_from_its_own_rows_without_loading_them_again(
        params, tmp_path, monkeypatch):
    """keep_own (a department packet's last cell) gives the figures compute() loads itself."""
    from stat_lib.metrics.prepare import prepare
    from stat_lib.present.reports.department import DepartmentReport
    period = _oct(params)
    expected = pf.period_figures(params, OCT).departments["sanitation"]
    shutil.rmtree(pf.figures_folder(params, period))
    report = DepartmentReport(str(params.home), "sanitation", OCT)
    loads = []
    monkeypatch.setattr(store, "load_requests", lambda *a, **k: loads.append(a) or 1 / 0)
    report.publish()  # caches sanitation's figures from report.prep
    assert loads == [] and (pf.figures_folder(params, period) / "sanitation.pkl").exists()
    monkeypatch.undo()
    computed = []
    monkeypatch.setattr(pf, "compute", lambda *a: computed.append(a[2]))
    got = pf.period_figures(params, OCT)
    assert "sanitation" not in computed  # read from the packet's cache entry
    _same(got.departments["sanitation"], expected)
    # rows prepared at another as-of are not the figures' own: compute loads them itself
    other = prepare(report.prep.frame, report.department, report.calendar,
                    as_of=pd.Timestamp("2026-10-15", tz=params.city.timezone))
    monkeypatch.undo()
    again = pf.compute(params, period, "sanitation", got.city_as_of, report.calendar, other)
    _same(again, expected)


def test_a_private_job_home_caches_no_figures_of_its_own(params):
    period = _oct(params)
    folder = pf.figures_folder(params, period)
    folder.mkdir(parents=True)
    (folder / pf.PRIVATE_HOME).write_bytes(b"")
    from stat_lib.present.reports.department import DepartmentReport
    DepartmentReport(str(params.home), "sanitation", OCT).publish()
    assert not (folder / "sanitation.pkl").exists()
