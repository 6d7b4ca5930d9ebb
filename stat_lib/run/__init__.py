"""Run: the batch (papermill in parallel, incremental, safe), its executors, nightly and demo.

- :mod:`~stat_lib.run.batch`: ``run_period``: plan, hash, skip, execute, write the period;
- :mod:`~stat_lib.run.jobs`: the typed ``Job`` and ``JobResult``;
- :mod:`~stat_lib.run.executors`: the executors (registered: ``local``, ``dask``), ``run_job``;
- :mod:`~stat_lib.run.kernel_fork`: kernels forked from a warm template;
- :mod:`~stat_lib.run.parameters`: notebook parameters checked before execution;
- :mod:`~stat_lib.run.period_files`: manifest.json, metrics.csv and the index pages;
- :mod:`~stat_lib.run.outputs_lock`: one run at a time per outputs folder;
- :mod:`~stat_lib.run.progress`: the progress bar and log lines;
- :mod:`~stat_lib.run.nightly` / :mod:`~stat_lib.run.demo`: ``stat-lib nightly`` / ``demo``.
"""
