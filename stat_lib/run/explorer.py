"""``stat-lib explore DEPT --period P``: the explorer notebook executed for one department,
written where a liaison opens it, and signed so JupyterLab trusts its maps.

The notebook is the kind ``explore`` (on demand, never part of a period's batch): a home's
``notebooks/explore.ipynb``, else the packaged one. It runs with papermill (the batch's IPC
kernels) in the output's folder, so its Excel export lands beside it. A failed run keeps the
executed notebook with papermill's error banner as ``<name>.failed.ipynb`` and raises
``RunFailed`` (exit 10).

**Signing.** JupyterLab shows HTML with scripts (folium maps) only for a trusted notebook. It
trusts a notebook whose signature (an HMAC of its contents under a secret key) is in its
signature database. ``nbformat.sign.NotebookNotary`` signs with the secret
``<jupyter data dir>/notebook_secret`` and records in ``<jupyter data dir>/nbsignatures.db``
(``jupyter --data-dir`` prints the folder; ``JUPYTER_DATA_DIR`` moves it). A signature is
trusted only under the secret and database that made it: run ``stat-lib explore`` as the user
who opens JupyterLab, or give the batch's service account and the liaisons one shared data
dir (``JUPYTER_DATA_DIR``, readable by both, the secret file mode 0600 to that group).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..core.atomic_write import temp_path
from ..core.errors import RunFailed, UsageError
from ..core.periods import Period
from ..present.notebook_kinds import NOTEBOOK_KINDS, notebook_for
from .executors import ipc_kernel_manager, kernel_args
from .trust import sign
from .parameters import check_parameters

KIND = "explore"


def out_path(params, department: str, period: Period, out=None) -> Path:
    """``out`` (an ``.ipynb`` path), default ``outputs/<period>/explore/<department>.ipynb``."""
    out = Path(out) if out is not None else \
        params.outputs / period.label / KIND / f"{department}.ipynb"
    if out.suffix != ".ipynb":
        raise UsageError(f"--out must name an .ipynb file, got {str(out)!r}")
    return out


def write_explorer(params, department: str, period, out=None, *, timeout: int = 600) -> Path:
    """Execute the explorer notebook for ``department`` and ``period``; sign and write it.

    Returns the path written (default :func:`out_path`).
    """
    params.department(department)  # unknown slug: UsageError listing the known ones
    period = period if isinstance(period, Period) else Period.parse(period)
    out = out_path(params, department, period, out)
    notebook = notebook_for(KIND, NOTEBOOK_KINDS[KIND], params.home / "notebooks")
    parameters = {"department": department, "period": period.label,
                  "home": str(params.home), "as_of": None}
    problem = check_parameters(notebook, parameters)
    if problem:
        raise UsageError(problem)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    try:
        _execute(notebook, tmp, parameters, out.parent, timeout)
        sign(tmp)
        tmp.replace(out)
    except Exception as exc:
        failed = out.with_suffix(".failed.ipynb")
        if tmp.exists():
            tmp.replace(failed)
        if isinstance(exc, (UsageError, RunFailed)):
            raise
        raise RunFailed(f"the explorer notebook failed for {department} {period.label}: "
                        f"{type(exc).__name__}: {_last_line(exc)}; "
                        f"the executed notebook with the error is {failed}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _last_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else ""


def _execute(notebook: Path, output: Path, parameters: dict, cwd: Path, timeout: int) -> None:
    import papermill as pm
    ipc_dir = tempfile.mkdtemp(prefix="slk-")
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters,
                            kernel_name="python3", cwd=str(cwd), progress_bar=False,
                            log_output=False, request_save_on_cell_execute=False,
                            execution_timeout=timeout,
                            kernel_manager_class=ipc_kernel_manager(ipc_dir),
                            extra_arguments=kernel_args())
    finally:
        shutil.rmtree(ipc_dir, ignore_errors=True)
