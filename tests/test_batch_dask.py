"""The dask executors (shipped jobs, shared disk): the same batch on a distributed.LocalCluster;
the real scheduler and worker processes are tests/test_dask_cluster.py."""

from __future__ import annotations

import pytest

from stat_lib.run.batch import run_period
from stat_lib.params import load_params
from support.builders import batch_home, manifest_runs, notebooks_dir


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["dask", "dask-shared-disk"])
def test_dask_local_cluster_runs_the_period_into_one_manifest(tmp_path, executor):
    from distributed import LocalCluster
    home = batch_home(tmp_path)
    nbs = notebooks_dir(tmp_path, **{"street-lighting": "broken"})
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=":0") as cluster:
        result = run_period(load_params(home), "2026-10", notebooks_dir=nbs, executor=executor,
                            scheduler=cluster.scheduler_address, progress=False)
    out = home / "outputs" / "2026-10"
    status = {d: r["status"] for d, r in manifest_runs(out).items()}
    assert status == {"sanitation": "ok", "street-lighting": "failed", "citywide": "ok"}
    assert not result.ok
    # 6 * 7, from the dask worker
    assert manifest_runs(out)["sanitation"]["summary"]["answer"] == 42
    assert (out / "sanitation.html").exists() and (out / "street-lighting.failed.ipynb").exists()


def test_dask_without_a_scheduler_is_a_usage_error(tmp_path):
    from stat_lib.core.errors import UsageError
    home = batch_home(tmp_path)
    with pytest.raises(UsageError, match="needs a scheduler address"):
        run_period(load_params(home), "2026-10", notebooks_dir=notebooks_dir(tmp_path),
                   executor="dask", progress=False)
