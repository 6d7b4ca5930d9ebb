"""Batch kernels forked from a warm template instead of started cold.

A cold ipykernel spends ~1.3 s of CPU before the notebook's first line runs: Python and
IPython start-up, then the set-up cell imports pandas, altair, duckdb, folium... The template
(``python -m stat_lib.run.kernel_fork serve SOCKET``, one per batch) imports all that once and
forks one child per kernel; the child becomes an ordinary ``ipykernel`` with the connection
file, working folder and environment the kernel manager asked for. Each notebook still gets a
fresh process with an empty namespace, so outputs are those of a cold kernel. Before its
first fork the template forks one more child, the batch's vl_convert
(:mod:`stat_lib.present.svg_server`): V8 starts once a batch instead of once a kernel.

The kernel manager launches a stub (``kernel_fork_stub.py``, a few ms of Python) in place of
``python -m ipykernel_launcher``: the stub passes its stdin/stdout/stderr, argv, working folder
and environment to the template, forwards SIGINT/SIGTERM to the kernel and exits when the
kernel exits; the kernel exits when the stub dies (killed by the manager). No template, or a
kernel spec that is not this interpreter's ipykernel: the kernel starts cold as before.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..core import lifeline

STUB = Path(__file__).with_name("kernel_fork_stub.py")
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.display", "pandas",
           "pyarrow", "duckdb", "vl_convert", "stat_lib.present.reports", "stat_lib.present.charts",
           "stat_lib.present.maps", "stat_lib.store",
           # imported on first use by a department notebook (about 0.4 CPU s per kernel):
           # every country's holidays (the calendar's), the districts' geometry, altair's
           # pandas adapter, pandas-from-arrow, the sections a report imports when it runs
           "holidays.countries", "geopandas", "narwhals.stable.v1",
           "narwhals._pandas_like.dataframe", "pyarrow.pandas_compat",
           "stat_lib.present.district_maps", "stat_lib.present.kpi_section",
           "stat_lib.present.page_one", "stat_lib.present.reports.permits",
           "stat_lib.present.satisfaction_section", "stat_lib.present.sessions_section",
           "stat_lib.present.svg_server", "xstatic.pkg.leaflet",
           "xstatic.pkg.leaflet_markercluster",
           # imported by ipykernel's own start-up (about 0.13 CPU s per kernel): its debugger
           # (debugpy), IPython's history (sqlite3), pdb, the asyncio event loop
           "ipykernel.debugger", "sqlite3", "pdb", "faulthandler", "IPython.extensions",
           "tornado.platform.asyncio")


def enabled() -> bool:
    """Forked kernels are on unless ``STAT_LIB_KERNEL_FORK=0`` or ``STAT_LIB_FAST_KERNEL=0``."""
    return (hasattr(os, "fork") and sys.platform.startswith("linux")
            and os.environ.get("STAT_LIB_KERNEL_FORK", "1") != "0"
            and os.environ.get("STAT_LIB_FAST_KERNEL", "1") != "0")


class Template:
    """The template process of one batch; ``close()`` ends it (its kernels end with stubs)."""

    def __init__(self, folder: str):
        self.socket = os.path.join(folder, "template.sock")
        # started in its private folder: ``-m`` puts the working folder first on sys.path, and
        # a stat_lib checkout there must not shadow the installed package in the kernels
        self.proc = subprocess.Popen([sys.executable, "-m", "stat_lib.run.kernel_fork", "serve",
                                      self.socket], stdin=subprocess.DEVNULL, cwd=folder,
                                     preexec_fn=lifeline.preexec())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def stub_cmd(cmd: list[str], sock: str) -> list[str] | None:
    """The stub command replacing ``cmd`` (``python -m ipykernel_launcher ...``), or None
    when ``cmd`` is not this interpreter's ipykernel (then the kernel starts cold)."""
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return None
    try:
        same = os.path.samefile(cmd[0], sys.executable)
    except OSError:
        return None
    if not same:
        return None
    # "ipykernel_launcher" stays in the command line: the stub stands in for it
    return [sys.executable, "-I", "-S", str(STUB), sock, *cmd[2:]]


# --- the template ---------------------------------------------------------------------------

def serve(sock_path: str) -> None:
    """Import the kernel's modules once, then fork a kernel for each stub that connects."""
    sys.modules.setdefault("rfc3987_syntax", None)  # as the kernels' exec_lines do
    # debugpy (ipykernel's debugger) warns on stderr at import that frozen modules may hide
    # breakpoints: nobody debugs a batch kernel, and the batch's log stays clean
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import importlib
    try:
        for name in PRELOAD:
            importlib.import_module(name)
    except BaseException:  # the stubs see the marker and start their kernels cold
        Path(sock_path + ".failed").touch()
        raise
    from ..present import svg_server
    svg_server.start(os.path.join(os.path.dirname(sock_path), "svg.sock"))  # before any thread
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the batch stops the template
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = sock_path + ".tmp"
    server.bind(tmp)
    server.listen(16)
    os.rename(tmp, sock_path)  # stubs connect only once the template is ready
    ppid = os.getppid()
    server.settimeout(1.0)
    while os.getppid() == ppid:  # the batch is gone: stop
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        template = os.getpid()
        if os.fork() == 0:
            server.close()
            _kernel(conn, template)  # never returns
        conn.close()


def _kernel(conn: socket.socket, template: int) -> None:
    """In the forked child: become the kernel the stub asked for."""
    try:
        msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        request = json.loads(msg.decode())
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        lifeline.die_with_parent(parent=template)  # the template is gone: so is the batch
        os.setpgid(0, 0) if request.get("setpgid") else None
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[0] = request["cwd"]  # as ``python -m ipykernel_launcher`` has it
        argv = request["argv"]
        if os.environ.get("JPY_PARENT_PID"):  # ipykernel read it at import, in the template
            argv = [*argv, f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}"]
        sys.argv = [request["launcher"], *argv]
        conn.sendall(f"{os.getpid()}\n".encode())
        threading.Thread(target=_watch_stub, args=(conn,), daemon=True).start()
        from ipykernel import kernelapp
        kernelapp.launch_new_instance(argv=argv)
    except BaseException:
        import traceback
        traceback.print_exc()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _watch_stub(conn: socket.socket) -> None:
    """The stub's end closes when it exits or is killed: the kernel goes with it."""
    try:
        while conn.recv(64):
            pass
    except OSError:
        pass
    os._exit(1)


def wait_ready(sock_path: str, timeout: float = 60.0) -> bool:
    """Wait for the template's socket; False after ``timeout``."""
    end = time.monotonic() + timeout
    while not os.path.exists(sock_path):
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
