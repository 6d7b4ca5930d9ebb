"""One exception root. Every message says what was expected, what was found, and the fix."""

from __future__ import annotations


class StatLibError(Exception):
    """Root of stat_lib's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, path=None, key=None, row=None, column=None,
                 department=None):
        self.message = message
        self.path, self.key, self.row = path, key, row
        self.column, self.department = column, department
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path) + (f", line {self.row}" if self.row is not None else ""))
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.department is not None:
            where.append(f"department '{self.department}'")
        return (": ".join([", ".join(where), self.message]) if where else self.message)


class UsageError(StatLibError):
    """A command-line argument is wrong (bad period, unknown department)."""

    exit_code = 2


class ParamsError(StatLibError):
    """A params file is missing or holds a wrong key or value."""

    exit_code = 3


class ParamsErrors(ParamsError):
    """Several params problems, reported at once."""

    def __init__(self, errors: list[ParamsError]):
        self.errors = errors
        lines = [f"{len(errors)} problem(s) in params:"] + [f"  - {e}" for e in errors]
        super().__init__("\n".join(lines))

    def _render(self) -> str:
        return self.message


class SourceError(StatLibError):
    """A data source cannot be read or does not have the shape its profile expects."""

    exit_code = 4


class StoreError(StatLibError):
    """The store is missing, busy or was built by an incompatible version."""

    exit_code = 5


class StoreBusyError(StoreError):
    """Another process holds the store's lock."""


class OutputsBusyError(StatLibError):
    """Another run holds the outputs folder's lock."""

    exit_code = 6


class MetricError(StatLibError):
    """A metric cannot be computed as asked (unknown metric id, bad period)."""

    exit_code = 7


class RunFailed(StatLibError):
    """At least one notebook of a batch failed; the others still ran."""

    exit_code = 10


class MissingDependency(StatLibError):
    """An optional tool (chromium, a Python package) is not installed."""

    exit_code = 8


class StaleData(StatLibError):
    """The nightly's newest data is older than ``batch.stale_after_hours``."""

    exit_code = 12


class OutOfSpace(StatLibError):
    """The disk filled while writing; whatever was being written was discarded."""

    exit_code = 11


def out_of_space(exc: BaseException, path) -> OutOfSpace | None:
    """An ``OutOfSpace`` for ``exc`` when it is a full disk or quota, else None.

    Recognises ``OSError`` ENOSPC/EDQUOT anywhere in the exception's chain and the engines that
    report it as text (DuckDB's "No space left on device").
    """
    import errno
    import os
    import shutil
    seen = exc
    while seen is not None:
        if isinstance(seen, OutOfSpace):
            return seen
        if (isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT)) or \
                "No space left on device" in str(seen):
            break
        seen = seen.__cause__ or seen.__context__
    else:
        return None
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        free = f"{shutil.disk_usage(folder).free / 1e6:,.1f} MB free there now"
    except OSError:
        free = "free space unknown"
    return OutOfSpace(f"no space left on the disk ({free}); what was being written was "
                      "discarded and the previous files are intact: free some space and run "
                      "the command again", path=path)


class SubmissionRejected(StatLibError):
    """A KPI submission file has problems; nothing of it was stored (``problems``: each one
    names the file, sheet, cell and reason)."""

    exit_code = 9

    def __init__(self, path, problems: list[str]):
        self.problems = problems
        lines = [f"{path}: rejected, nothing stored ({len(problems)} problem(s)):"]
        super().__init__("\n".join(lines + [f"  - {p}" for p in problems]))

    def _render(self) -> str:
        return self.message


class MinutesRejected(SubmissionRejected):
    """A sessions/commitments file (CSV or Excel minutes) has problems; nothing of it was
    stored (``problems``: each names the row, the column, what was found and the fix)."""
