"""Kernels forked from the warm template (stat_lib.run.kernel_fork) behave like cold kernels."""

import os
import signal
import sys
import time

import nbformat
import papermill as pm
import psutil
import pytest

from stat_lib.run import kernel_fork
from stat_lib.run.executors import ipc_kernel_manager

CODE = ("import os, sys\n"
        "print(os.getcwd()); print(os.environ.get('SL_FORK_PROBE'))\n"
        "print(sorted(k for k in globals() if not k.startswith('_')))\n"
        "print('pandas' in sys.modules, os.getpid())")


@pytest.fixture
def template(tmp_path):
    tpl = kernel_fork.Template(str(tmp_path))
    assert kernel_fork.wait_ready(tpl.socket)
    # its one child before any kernel: the SVG server (stat_lib.present.svg_server)
    tpl.servers = psutil.Process(tpl.proc.pid).children()
    assert len(tpl.servers) == 1
    yield tpl
    tpl.close()


def run(tmp_path, name, socket, env_value):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    src, out, cwd = tmp_path / f"{name}.ipynb", tmp_path / f"{name}.out.ipynb", tmp_path / name
    cwd.mkdir()
    nbformat.write(nb, src)
    os.environ["SL_FORK_PROBE"] = env_value
    try:
        pm.execute_notebook(str(src), str(out), cwd=str(cwd), progress_bar=False,
                            kernel_name="python3",
                            kernel_manager_class=ipc_kernel_manager(str(tmp_path), socket))
    finally:
        del os.environ["SL_FORK_PROBE"]
    lines = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].splitlines()
    return cwd, lines


@pytest.mark.slow
def test_forked_kernel_has_the_cold_kernels_cwd_env_and_namespace(tmp_path, template):
    cold_cwd, cold = run(tmp_path, "cold", None, "a")
    fork_cwd, fork = run(tmp_path, "fork", template.socket, "b")
    fork2_cwd, fork2 = run(tmp_path, "fork2", template.socket, "c")
    assert cold[:2] == [str(cold_cwd), "a"]
    assert fork[:2] == [str(fork_cwd), "b"] and fork2[:2] == [str(fork2_cwd), "c"]
    # same user namespace as a cold kernel: the template's imports are not in it
    assert fork[2] == cold[2] == fork2[2]
    # the forked kernel already has pandas (the point), the cold one not; distinct processes
    assert (cold[3].split()[0], fork[3].split()[0]) == ("False", "True")
    assert fork[3].split()[1] != fork2[3].split()[1]
    # each forked kernel exited after its notebook: only the template and its SVG server remain
    assert psutil.Process(template.proc.pid).children() == template.servers


def test_stub_command_only_for_this_interpreters_ipykernel():
    cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]
    stub = kernel_fork.stub_cmd(cmd, "/s")
    assert stub[3:] == [str(kernel_fork.STUB), "/s", "ipykernel_launcher", "-f", "c.json"]
    assert kernel_fork.stub_cmd(["/usr/bin/R", "-m", "ipykernel_launcher"], "/s") is None
    assert kernel_fork.stub_cmd(["/nonexistent/python", "-m", "ipykernel_launcher"],
                                "/s") is None
    assert kernel_fork.stub_cmd([sys.executable, "-m", "other_kernel"], "/s") is None


@pytest.mark.slow
def test_killed_stub_ends_its_forked_kernel(tmp_path, template):
    import subprocess
    conn = tmp_path / "k.json"
    stub = subprocess.Popen(kernel_fork.stub_cmd(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)], template.socket),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tpl = psutil.Process(template.proc.pid)
    for _ in range(300):  # until the template forked the kernel (polling, not timing)
        kernels = [p for p in tpl.children() if p not in template.servers]
        if kernels:
            break
        time.sleep(0.05)
    assert len(kernels) == 1
    os.kill(stub.pid, signal.SIGKILL)
    stub.wait()
    gone, alive = psutil.wait_procs(kernels, timeout=30)
    assert alive == []


@pytest.mark.slow
def test_stub_starts_a_cold_kernel_when_the_template_failed(tmp_path):
    socket = str(tmp_path / "template.sock")
    (tmp_path / "template.sock.failed").touch()  # what serve() leaves when an import fails
    cwd, lines = run(tmp_path, "nofork", socket, "d")
    assert lines[:2] == [str(cwd), "d"] and lines[3].split()[0] == "False"  # cold: no pandas


def test_stub_whose_kernel_manager_is_already_gone_exits_instead_of_waiting(tmp_path):
    """The manager died while the stub was starting (a batch stopped on a cold disk): the
    stub, reparented, must not wait 30 s for a template that will never come."""
    import subprocess
    cmd = kernel_fork.stub_cmd([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"],
                               str(tmp_path / "never.sock"))
    env = {**os.environ, "JPY_PARENT_PID": str(os.getpid() + 10_000_000)}  # not its parent
    stub = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    assert stub.wait(timeout=25) == 1  # the fallback would start a cold kernel after 30 s


SVG_CODE = ("import vl_convert as vlc\n"
            "from stat_lib.present import charts, svg_server\n"
            "spec = {'mark': 'bar', 'data': {'values': [{'a': 1}, {'a': 3}]},\n"
            "        'encoding': {'y': {'field': 'a', 'type': 'quantitative'}}}\n"
            "served = svg_server.convert(spec, charts.VL_VERSION)\n"
            "print(svg_server.SOCKET is not None, served is not None,\n"
            "      served == vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION))")


@pytest.mark.slow
def test_forked_kernels_get_their_svg_from_the_templates_server(tmp_path, template):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SVG_CODE)])
    src, out = tmp_path / "svg.ipynb", tmp_path / "svg.out.ipynb"
    nbformat.write(nb, src)
    pm.execute_notebook(str(src), str(out), cwd=str(tmp_path), progress_bar=False,
                        kernel_name="python3",
                        kernel_manager_class=ipc_kernel_manager(str(tmp_path), template.socket))
    assert nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].split() == ["True"] * 3
    template.close()  # the server ends with its template
    gone, alive = psutil.wait_procs(template.servers, timeout=30)
    assert alive == []
