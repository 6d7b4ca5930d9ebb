"""One vl_convert for all the kernels of a batch: static SVG without starting V8 per kernel.

vl_convert starts V8 on its first call in a process (about 0.9 CPU s) and every batch kernel
is a new process, so each paid it again for its first chart. The kernel template
(:mod:`stat_lib.run.kernel_fork`) forks this server before it forks any kernel (V8's threads
stay out of the template) and sets :data:`SOCKET`, which its kernels inherit;
:func:`stat_lib.present.charts.spec_svg` sends each spec there. Same library, same spec: the
same SVG. Without a server, or when the server answers nothing (gone, or vl_convert rejected
the spec), the kernel converts the spec itself, raising vl_convert's own error.

Protocol, one request per connection on a Unix socket: the JSON of ``{"spec", "vl_version"}``,
then end of input; the answer is the SVG (UTF-8), or nothing.
"""

from __future__ import annotations

import json
import os
import signal
import socket

from ..core import lifeline

SOCKET: str | None = None  # set in the template, inherited by its kernels
TIMEOUT = 120.0  # seconds a kernel waits for one SVG before converting it itself


def start(path: str) -> int:
    """Fork the server listening at ``path``; its pid. The caller's kernels will use it."""
    global SOCKET
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            serve(path, parent)
        finally:
            os._exit(0)
    SOCKET = path
    return pid


def serve(path: str, parent: int | None = None) -> None:
    """Answer SVG requests at ``path`` until the parent process (``parent``) ends."""
    lifeline.die_with_parent(parent=parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the batch stops its template
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path + ".tmp"
    server.bind(tmp)  # bound before V8 starts: early requests wait in the backlog
    server.listen(16)
    os.rename(tmp, path)
    import vl_convert as vlc

    from .charts import VL_VERSION
    vlc.vegalite_to_svg({"mark": "point"}, vl_version=VL_VERSION)  # V8 up before the 1st chart
    while True:
        conn, _ = server.accept()
        with conn:
            _answer(conn, vlc)


def _answer(conn: socket.socket, vlc) -> None:
    try:
        request = json.loads(_read_all(conn))
        svg = vlc.vegalite_to_svg(request["spec"], vl_version=request["vl_version"])
        conn.sendall(svg.encode("utf-8"))
    except Exception:  # noqa: BLE001 - answer nothing: the kernel converts and raises itself
        pass


def convert(spec: dict, vl_version: str) -> str | None:
    """The SVG of ``spec`` from the batch's server; None without one or without an answer."""
    if not SOCKET:
        return None
    try:
        request = json.dumps({"spec": spec, "vl_version": vl_version}).encode("utf-8")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT)
            conn.connect(SOCKET)
            conn.sendall(request)
            conn.shutdown(socket.SHUT_WR)
            answer = _read_all(conn)
    except (OSError, TypeError, ValueError):  # no server; a spec JSON cannot carry
        return None
    return answer.decode("utf-8") if answer else None


def _read_all(conn: socket.socket) -> bytes:
    parts = []
    while chunk := conn.recv(1 << 16):
        parts.append(chunk)
    return b"".join(parts)
