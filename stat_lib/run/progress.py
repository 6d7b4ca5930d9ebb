"""What a batch shows while it runs: a rich bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("stat_lib.batch")


class Progress:
    """A rich bar on a terminal, one log line per notebook otherwise."""

    def __init__(self, total: int, enabled: bool | None):
        self.total, self.done = total, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            # no refresh thread: worker processes are forked while the bar is shown
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                auto_refresh=False)
            self.bar.start()
            self.task = self.bar.add_task("notebooks", total=self.total)
            self.bar.refresh()
        return self

    def advance(self, slug: str, result) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {slug}: {result.status} in {result.seconds:.1f} s"
        if result.status == "failed":
            line += f" ({result.error})"
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
            self.bar.advance(self.task)
            self.bar.refresh()
        else:
            log.info(line)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


class log_to_stderr:
    """Show stat_lib's INFO lines when the application configured no logging."""

    def __enter__(self):
        logger = logging.getLogger("stat_lib")
        self.handler = None
        if not logger.handlers and not logging.getLogger().handlers:
            self.handler = logging.StreamHandler()
            self.handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            logger.addHandler(self.handler)
            self.level = logger.level
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        if self.handler is not None:
            logger = logging.getLogger("stat_lib")
            logger.removeHandler(self.handler)
            logger.setLevel(self.level)
