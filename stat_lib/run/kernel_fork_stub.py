"""Stand-in for ``python -m ipykernel_launcher ARGS`` (see ``stat_lib.run.kernel_fork``).

``python -I -S kernel_fork_stub.py SOCKET ipykernel_launcher ARGS``: asks the template at
SOCKET for a kernel with ARGS, this process's stdio, working folder and environment; forwards
SIGINT/SIGTERM to it; exits when it exits. Without a template (its imports failed, socket
missing after 30 s or refused) it becomes the cold kernel itself (exec). Standard library
only, no site: it starts in a few milliseconds.
"""

import json
import os
import signal
import socket
import sys
import time

# The kernel manager's pid (jupyter_client sets it for ipykernel's parent poller). Not
# getppid(): when the manager died while this interpreter was still starting, getppid() is
# already the reaper's pid, and the stub would wait for a template that never comes.
PARENT = int(os.environ.get("JPY_PARENT_PID") or os.getppid())


def cold(args):
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])


def die_with_parent() -> None:
    """SIGKILL when the kernel manager dies (``stat_lib/core/lifeline.py``, loaded by path:
    this stub runs without site-packages); the kernel then ends with the stub's socket."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "core"))
    try:
        import lifeline
    except ImportError:
        return
    finally:
        del sys.path[0]
    lifeline.die_with_parent(parent=PARENT)


def main():
    die_with_parent()
    sock_path, args = sys.argv[1], sys.argv[3:]
    end = time.monotonic() + 30  # the kernel manager's start timeout is 60 s
    while not os.path.exists(sock_path) and time.monotonic() < end:
        if os.getppid() != PARENT:  # the batch stopped while the template was starting
            sys.exit(1)
        if os.path.exists(sock_path + ".failed"):  # the template could not import
            cold(args)
        time.sleep(0.02)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
    except OSError:
        cold(args)
    request = {"argv": args, "cwd": os.getcwd(), "env": dict(os.environ),
               "launcher": "ipykernel_launcher"}
    socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    reply = b""
    while not reply.endswith(b"\n"):
        try:
            chunk = conn.recv(64)
        except OSError:  # the template was stopped (the batch is ending): no traceback
            sys.exit(1)
        if not chunk:
            sys.exit(1)  # the kernel died before it started
        reply += chunk
    pid = int(reply)

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    parent = PARENT
    conn.settimeout(1.0)
    while True:  # the kernel's end closes when it exits
        try:
            if not conn.recv(64):
                break
        except socket.timeout:
            if os.getppid() != parent:  # the kernel manager is gone: as ipykernel's poller
                forward(signal.SIGTERM, None)
                break
        except InterruptedError:
            continue
        except OSError:  # the kernel's end was reset: it is gone
            break
    sys.exit(0)


if __name__ == "__main__":
    main()
