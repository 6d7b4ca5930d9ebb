"""Metrics: every Stat number, defined once and computed here, never in a report.

- :mod:`~stat_lib.metrics.registry`: the metric registry (id, label, unit, good direction,
  definition, computation), ``format_value``;
- :mod:`~stat_lib.metrics.windows`: the period window and "open" rules, written once;
- :mod:`~stat_lib.metrics.prepare`: a department's requests prepared once (end, due, flags);
- :mod:`~stat_lib.metrics.requests`: the ``requests`` kind's metrics and views;
- :mod:`~stat_lib.metrics.standards`: customer service standards and redress;
- :mod:`~stat_lib.metrics.permits`: the ``permits`` kind: stop-clock, standards, redress ledger;
- :mod:`~stat_lib.metrics.satisfaction`: the ``surveys`` kind: share satisfied with its margin;
- :mod:`~stat_lib.metrics.telephony`: the ``telephony`` kind: the 311 contact center's metrics;
- :mod:`~stat_lib.metrics.scoring`: targets, status, trends, scorecards, CityScore, what moved;
- :mod:`~stat_lib.metrics.methods` / :mod:`~stat_lib.metrics.spc`: how a metric is judged over
  time (the method registry; statistical process control) and the verdicts;
- :mod:`~stat_lib.metrics.moved`: "what moved", ranked for the memo;
- :mod:`~stat_lib.metrics.tidy`: every metric as tidy rows (``metrics.csv``).
"""

from .permits import prepare_permits
from .prepare import Prepared, data_as_of, due_for, due_from_sla, prepare, sla_table
from .registry import METRICS, Metric, check, format_value, metric_def, rate, rate_parts, tiles
from .requests import (
                       DAY_BUCKETS,
                       GROUP_COUNTS,
                       SLA_BUCKETS,
                       aging,
                       by_district,
                       combine_districts,
                       counts_by,
                       created_requests,
                       department_summary,
                       on_time_by_service,
                       open_ages,
                       open_requests,
                       overdue_requests,
                       summary,
                       time_to_close_distribution,
                       trend,
)
from . import spc  # noqa: F401  (registers the "spc" method)
from .methods import METHODS, Assessment, assess, check_methods
from .standards import standards_report
from . import telephony  # noqa: F401,E402  (registers the telephony metrics)
from . import kpis  # noqa: F401,E402  (registers the kpi_submissions metrics)
from . import satisfaction  # noqa: F401,E402  (the surveys metric and its "survey_margin")
from . import commitments  # noqa: F401,E402  (registers the sessions/commitments metrics)
from . import page_one_commitments  # noqa: F401,E402  (page one's commitment items)
from .windows import closed_in, created_in, ended_in, open_at

check()
check_methods(METRICS)
RATE_PARTS = rate_parts()

__all__ = ["Prepared", "data_as_of", "due_for", "due_from_sla", "prepare", "sla_table",
           "METRICS", "Metric", "format_value", "metric_def", "rate", "rate_parts", "tiles",
           "DAY_BUCKETS", "GROUP_COUNTS", "SLA_BUCKETS", "aging", "by_district",
           "combine_districts", "counts_by", "created_requests", "department_summary",
           "on_time_by_service", "open_ages", "open_requests", "overdue_requests", "summary",
           "time_to_close_distribution", "trend", "standards_report", "closed_in",
           "created_in", "ended_in", "open_at", "RATE_PARTS", "METHODS", "Assessment", "assess",
           "prepare_permits"]
