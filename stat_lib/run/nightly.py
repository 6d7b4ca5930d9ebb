"""The nightly job: ingest, run the month to date, re-finalize last month early in a month.

Month to date is ``Period.month_to_date(now)``: folder ``outputs/<YYYY-MM>/``, the notebooks
receive ``as_of`` (the exclusive cut-off, ``now``) and the manifest records it. During the
first ``batch.refinalize_days`` days of a month the previous month is re-run in full (late
closures and updates land in it), before the month to date. Each night writes one log file
``outputs/logs/nightly-<YYYYmmdd-HHMMSS>.log``; the newest ``batch.log_keep`` are kept.
See docs/operations.md for cron and systemd.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from ..core.errors import RunFailed, StaleData, StatLibError, UsageError

log = logging.getLogger("stat_lib.nightly")
LOG_PATTERN = "nightly-*.log"


def run_nightly(params, now=None, *, ingest=True, workers=None, pdf=False, executor="local",
                scheduler=None, notebooks_dir=None, lock_timeout: float = 900) -> int:
    """Run the nightly job once; return an exit code (0 when everything succeeded).

    Parameters
    ----------
    params : stat_lib.params.Params
    now : datetime or str, optional
        The moment to act as of (ISO 8601 string accepted; naive means city time). Default:
        the current time in the city's timezone. Tests and replays pass a fixed clock.
    ingest : bool
        Ingest the configured sources first (default True).
    workers, pdf, executor, scheduler, notebooks_dir
        Passed to :func:`stat_lib.run.batch.run_period`.
    lock_timeout : float
        Seconds to wait for an interactive run holding the outputs folder.

    Returns
    -------
    int
        0, or the exit code of the first failure (``RunFailed.exit_code`` when a notebook
        failed, the error's own code when ingest or the lock failed), else
        ``StaleData.exit_code`` (12) when the newest request is older than
        ``batch.stale_after_hours``.
    """
    now = city_now(params, now)
    with _log_file(params, now) as log_path:
        log.info("nightly for %s as of %s (log %s)", params.city.name, now.isoformat(), log_path)
        codes = [_ingest(params)] if ingest else []
        fresh = _freshness(params, now)
        stale = fresh.notice() if fresh else None
        if stale:
            log.warning(stale)
        for period in nightly_periods(params, now, fresh.data_end if stale else None):
            codes.append(_run(params, period, dict(
                workers=workers, pdf=pdf, executor=executor, scheduler=scheduler,
                notebooks_dir=notebooks_dir, lock_timeout=lock_timeout, progress=False,
                stale=stale)))
        code = next((c for c in codes if c), 0)
        _finish(code, stale)
    return code or (StaleData.exit_code if stale else 0)


def _freshness(params, now):
    from .freshness import freshness
    try:
        return freshness(params, now)
    except StatLibError as exc:  # no store: the periods report it themselves
        log.error("cannot tell how fresh the data is: %s", exc)
        return None


def _finish(code: int, stale: str | None) -> None:
    """The last log line: ok, stale (exit 12), failed, or failed and stale (the failure's code)."""
    if code:
        log.info("nightly finished: FAILED (exit code %s)%s", code,
                 "; the data is also stale (exit code 12 otherwise)" if stale else "")
    elif stale:
        log.info("nightly finished: STALE DATA (exit code %s)", StaleData.exit_code)
    else:
        log.info("nightly finished: ok")


def city_now(params, now=None) -> dt.datetime:
    """``now`` as an aware datetime in the city's timezone (default: the current time)."""
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(params.city.timezone)
    if now is None:
        return dt.datetime.now(tz)
    if isinstance(now, str):
        try:
            now = dt.datetime.fromisoformat(now.strip())
        except ValueError:
            raise UsageError(f"cannot read --now {now!r}; expected ISO 8601 such as "
                             f"2026-11-03T02:00 or 2026-11-03T02:00-08:00") from None
    return now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)


def nightly_periods(params, now: dt.datetime, data_end=None) -> list:
    """Periods to run at ``now``: last month in full during its re-finalize window, then
    the month to date. With ``data_end`` (stale data) each is cut where the data ends, and one
    the data does not reach is skipped (logged)."""
    from ..core.periods import Period
    from .freshness import cut_at_data_end
    tz = params.city.timezone
    periods = []
    if now.day <= params.city.batch.refinalize_days:
        periods.append(Period.containing(now, "month", tz).prior())
    periods.append(Period.month_to_date(now, tz))
    if data_end is None:
        return periods
    covered = []
    for period in periods:
        cut = cut_at_data_end(period, data_end)
        if cut is None:
            log.warning("%s skipped: the data ends %s, before it starts", period.label,
                        f"{data_end:%Y-%m-%d %H:%M %Z}")
        else:
            covered.append(cut)
    return covered


def _ingest(params) -> int:
    from ..ingest import ingest
    try:
        report = ingest(params)
    except StatLibError as exc:
        log.error("ingest failed: %s", exc)
        return exc.exit_code
    summary = getattr(report, "summary", None)
    log.info("ingest: %s", summary() if callable(summary) else report)
    return 0


def _run(params, period, options: dict) -> int:
    from .batch import run_period
    log.info("running %s%s", period.label,
             f" to date (as of {period.as_of.isoformat()})" if period.as_of is not None else "")
    try:
        result = run_period(params, period, **options)
    except StatLibError as exc:
        log.error("%s: %s", period.label, exc)
        return exc.exit_code
    log.info(result.summary())
    return 0 if result.ok else RunFailed.exit_code


class _log_file:
    """Send stat_lib's log lines to ``outputs/logs/nightly-<stamp>.log``; prune old logs."""

    def __init__(self, params, now: dt.datetime):
        self.folder = params.outputs / "logs"
        self.path = self.folder / f"nightly-{now:%Y%m%d-%H%M%S}.log"
        self.keep = params.city.batch.log_keep

    def __enter__(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.handler = logging.FileHandler(self.path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                                    "%(message)s"))
        self.logger = logging.getLogger("stat_lib")
        self.level = self.logger.level
        self.handlers = [self.handler]
        if not logging.getLogger().handlers:  # no app logging: echo to stderr (cron mails it)
            echo = logging.StreamHandler()
            echo.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            self.handlers.append(echo)
        for h in self.handlers:
            self.logger.addHandler(h)
        self.logger.setLevel(logging.INFO)
        return self.path

    def __exit__(self, *exc):
        if exc[0] is not None:
            log.error("nightly crashed", exc_info=exc)
        for h in self.handlers:
            self.logger.removeHandler(h)
        self.logger.setLevel(self.level)
        self.handler.close()
        prune_logs(self.folder, self.keep)


def prune_logs(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` nightly logs (names sort by time)."""
    logs = sorted(folder.glob(LOG_PATTERN))
    old = logs[:-keep] if keep else logs
    for p in old:
        p.unlink(missing_ok=True)
    return old
