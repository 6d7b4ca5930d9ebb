"""The built wheel works on its own: not just the editable checkout the other tests import.

What is tested
--------------
1. The wheel is built from a copy of the repository (``pip wheel --no-deps``), not in place: an
   in-place build writes ``build/`` and ``stat_lib.egg-info/`` into the checkout (other runs and
   other people use it) and a stale ``build/lib`` can leak deleted modules into the wheel.
   With setuptools>=77 in this interpreter (the ``test`` extra) it is built with
   ``--no-build-isolation --no-index``: no network at all. With an older setuptools it falls
   back to pip's isolated build, which fetches setuptools>=77 from the cache or the registry.
2. Its file list holds every module of ``stat_lib/``, the packaged notebooks and the
   ``stat_packet`` template (``stat_lib/packaged/``), the kernel fork stub, the console
   script, and nothing outside ``stat_lib/`` and its ``.dist-info``.
3. It is installed into a fresh virtual environment that reuses this interpreter's installed
   dependencies without seeing the editable stat_lib:

   - the venv is created without system site-packages and without pip (fast);
     ``python -m pip --python VENV/bin/python install --no-deps --no-index WHEEL`` installs the
     wheel from this interpreter's pip;
   - ``VENV/.../site-packages/_stat_lib_test_deps.pth`` then lists this interpreter's
     site-packages folders as plain path lines. A plain line only *appends* the folder to
     ``sys.path`` (after the venv's own site-packages, so the wheel's stat_lib wins); the
     ``.pth`` files *inside* that folder are not processed, so setuptools' editable hook
     (``__editable__.stat_lib-0.1.0.pth``, which installs ``__editable___stat_lib_*_finder``
     on ``sys.meta_path`` mapping ``stat_lib`` to the checkout) never runs. (``xstatic``'s
     ``-nspkg.pth`` files are not needed: it imports as an implicit namespace package.) A
     ``--system-site-packages`` venv would not do: made from .venv's python it sees the *base*
     interpreter's site-packages, not .venv's;
   - ``VENV/share/jupyter`` and ``VENV/etc/jupyter`` link to this interpreter's: packages'
     data files live under their environment's prefix, and the packet template extends
     nbconvert's ``lab`` template from ``<prefix>/share/jupyter/nbconvert/templates``. In a
     real install they are in the same prefix; here the deps' prefix is another one.

   ``test_installed_wheel_is_isolated_from_the_checkout`` proves it: ``stat_lib.__file__``,
   the packaged folders and the stub resolve inside the venv, no editable finder is loaded,
   no ``sys.path`` entry points into the checkout except the dependency folders.
4. From a working folder outside the repository, with an environment stripped of
   ``PYTHON*`` / ``VIRTUAL_ENV`` / ``STAT_LIB_*`` variables, the venv's ``stat-lib`` ingests
   a home holding copies of the sample city's params, sample and boundaries, and runs
   2026-10 for one department plus citywide. Each kernel reports which stat_lib it imported
   through an IPython startup file (``IPYTHONDIR`` points at a private profile): every one
   must be the wheel's, run by the venv's python, and papermill's ``input_path`` must be the
   packaged notebook.
5. ``stat-lib init --notebooks`` from the wheel copies the packaged notebooks and templates.

Run from a folder holding a stat_lib checkout, the kernels still import the installed wheel
(the warm kernel template starts in its own folder; see the last test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"
DEPARTMENT = "sanitation"
PACKAGED = {  # wheel path -> repository path
    "stat_lib/packaged/notebooks/department.ipynb": "notebooks/department.ipynb",
    "stat_lib/packaged/notebooks/citywide.ipynb": "notebooks/citywide.ipynb",
    "stat_lib/packaged/notebooks/explore.ipynb": "notebooks/explore.ipynb",
    "stat_lib/packaged/templates/stat_packet/conf.json": "templates/stat_packet/conf.json",
    "stat_lib/packaged/templates/stat_packet/index.html.j2": "templates/stat_packet/index.html.j2",
    "stat_lib/packaged/templates/stat_packet/static/packet.css":
        "templates/stat_packet/static/packet.css",
    "stat_lib/run/kernel_fork_stub.py": "stat_lib/run/kernel_fork_stub.py",
}
# Top-level folders a build does not need (large, or written by tools); junk at any depth.
NOT_BUILD_INPUTS = {".git", ".venv", "venv", "data", "outputs", "build", "dist", "tests", "docs",
                    "bench"}
JUNK = ("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", ".pytest_cache",
        ".hypothesis", ".ruff_cache")

# IPython runs a profile's startup files in every kernel, cold or forked from the template.
KERNEL_PROBE = '''\
def _stat_lib_wheel_probe():
    import json, os, sys
    import stat_lib
    with open(os.environ["STAT_LIB_WHEEL_PROBE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), "executable": sys.executable,
                            "stat_lib": stat_lib.__file__, "sys_path": sys.path}) + "\\n")
_stat_lib_wheel_probe()
del _stat_lib_wheel_probe
'''

ISOLATION_PROBE = '''\
import importlib.metadata, json, sys
import stat_lib
from stat_lib.present.resources import packaged
from stat_lib.run import kernel_fork
dist = importlib.metadata.distribution("stat-lib")
print(json.dumps({
    "stat_lib": stat_lib.__file__,
    "notebooks": str(packaged("notebooks")),
    "templates": str(packaged("templates")),
    "stub": str(kernel_fork.STUB),
    "dist_init": str(dist.locate_file("stat_lib/__init__.py")),
    "editable": sorted({getattr(f, "__module__", "") for f in sys.meta_path} |
                       set(sys.modules)),
    "sys_path": sys.path,
    "prefix": sys.prefix,
}))
'''


# --- helpers --------------------------------------------------------------------------------

def _run(cmd, *, cwd, env=None, timeout=600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, (f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                                  f"--- stdout\n{proc.stdout[-4000:]}\n"
                                  f"--- stderr\n{proc.stderr[-8000:]}")
    return proc


def _ignore_for_build(folder: str, names: list[str]) -> set[str]:
    ignored = set(shutil.ignore_patterns(*JUNK)(folder, names))
    if Path(folder) == ROOT:
        ignored |= NOT_BUILD_INPUTS & set(names)
    return ignored


def _setuptools_major() -> int:
    try:
        return int(metadata.version("setuptools").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 0


def _dependency_dirs() -> list[str]:
    """This interpreter's site-packages folders (venv, system or user), not the checkout."""
    dirs = [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages")
            and Path(p).is_dir()]
    return list(dict.fromkeys(dirs))


def _inside(path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


class Installed:
    """The venv holding the wheel, and how to run its commands away from the checkout."""

    def __init__(self, base: Path, wheel: Path):
        self.base, self.wheel = base, wheel
        self.venv = base / "venv"
        self.python = self.venv / "bin" / "python"
        self.stat_lib = self.venv / "bin" / "stat-lib"
        self.elsewhere = base / "elsewhere"  # the working folder: not the repository
        self.elsewhere.mkdir()
        self.ipython_dir = base / "ipython"
        startup = self.ipython_dir / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-stat-lib-wheel-probe.py").write_text(KERNEL_PROBE)
        self.deps = _dependency_dirs()

    @property
    def site(self) -> Path:
        return next((self.venv / "lib").glob("python3*/site-packages"))

    def env(self, probe: Path | None = None) -> dict:
        drop = ("PYTHON", "VIRTUAL_ENV", "CONDA_PREFIX", "STAT_LIB_", "JUPYTER_PATH", "PIP_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        env["IPYTHONDIR"] = str(self.ipython_dir)
        env["STAT_LIB_WHEEL_PROBE"] = str(probe or self.base / "unused-probe.jsonl")
        return env

    def stat_lib_cmd(self, *args, cwd=None, probe=None, timeout=600):
        return _run([self.stat_lib, *args], cwd=cwd or self.elsewhere, env=self.env(probe),
                    timeout=timeout)


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src, dist = base / "src", base / "dist"
    shutil.copytree(ROOT, src, ignore=_ignore_for_build, symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, src]
    if _setuptools_major() >= 77:  # offline: the build uses this interpreter's setuptools
        cmd[4:4] = ["--no-build-isolation", "--no-index"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(cmd, cwd=base, env=env, timeout=600)
    wheels = list(dist.glob("stat_lib-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Installed:
    inst = Installed(tmp_path_factory.mktemp("installed"), wheel)
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(inst.venv)
    assert "include-system-site-packages = false" in (inst.venv / "pyvenv.cfg").read_text()
    _run([sys.executable, "-m", "pip", "--python", inst.python, "install", "--no-deps",
          "--no-index", "--quiet", "--disable-pip-version-check", wheel], cwd=inst.base)
    # after the install: pip sees only the new venv's own site-packages
    (inst.site / "_stat_lib_test_deps.pth").write_text("".join(f"{d}\n" for d in inst.deps))
    for data in ("share/jupyter", "etc/jupyter"):
        if (Path(sys.prefix) / data).is_dir():
            (inst.venv / data).parent.mkdir(parents=True, exist_ok=True)
            (inst.venv / data).symlink_to(Path(sys.prefix) / data, target_is_directory=True)
    return inst


@pytest.fixture(scope="module")
def city(installed, tmp_path_factory) -> Path:
    """A home with copies of the sample city's params, sample and boundaries, ingested by the
    wheel's stat-lib."""
    home = tmp_path_factory.mktemp("city")
    shutil.copytree(ROOT / "params", home / "params")
    shutil.copytree(ROOT / "data" / "boundaries", home / "data" / "boundaries")
    (home / "data" / "sample").mkdir(parents=True)
    for name in ("la_sample_requests.parquet", "permits.csv", "permit_stops.csv", "surveys.csv",
                 "telephony.csv"):
        shutil.copy2(ROOT / "data" / "sample" / name, home / "data" / "sample")
    proc = installed.stat_lib_cmd("--home", home, "ingest")
    assert re.search(r"[1-9][\d,]* loaded, 0 rejected", proc.stdout), proc.stdout
    assert (home / "data" / "stat.duckdb").is_file()
    return home


def _kernels(probe: Path) -> list[dict]:
    assert probe.is_file(), "no kernel ran the IPython startup probe"
    return [json.loads(line) for line in probe.read_text().splitlines()]


# --- tests ----------------------------------------------------------------------------------

def test_wheel_holds_every_module_and_the_packaged_files(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for inside, source in PACKAGED.items():
            assert inside in names, f"{inside} missing from {wheel.name}"
            assert zf.read(inside) == (ROOT / source).read_bytes(), f"{inside} differs"
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "stat-lib = stat_lib.cli:main" in zf.read(entry_points).decode()
    src = wheel.parents[1] / "src"  # what was built
    modules = {p.relative_to(src).as_posix() for p in (src / "stat_lib").rglob("*.py")}
    assert modules - names == set(), "modules of stat_lib/ missing from the wheel"
    for folder in ("notebooks", "templates"):
        files = {f"stat_lib/packaged/{p.relative_to(src).as_posix()}"
                 for p in (src / folder).rglob("*") if p.is_file()}
        assert files and files - names == set(), f"files of {folder}/ missing from the wheel"
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"stat_lib", wheel.name.split("-py3")[0] + ".dist-info"}, top


def test_installed_wheel_is_isolated_from_the_checkout(installed):
    proc = _run([installed.python, "-c", ISOLATION_PROBE], cwd=installed.elsewhere,
                env=installed.env())
    info = json.loads(proc.stdout)
    site = installed.site
    assert _inside(info["stat_lib"], site), info["stat_lib"]
    assert Path(info["notebooks"]) == (site / "stat_lib/packaged/notebooks").resolve()
    assert Path(info["templates"]) == (site / "stat_lib/packaged/templates").resolve()
    assert Path(info["stub"]).is_file() and _inside(info["stub"], site)
    assert Path(info["dist_init"]).resolve() == Path(info["stat_lib"]).resolve()
    assert [m for m in info["editable"] if m.startswith("__editable__")] == []
    into_checkout = [p for p in info["sys_path"]
                     if p and _inside(p, ROOT) and p not in installed.deps]
    assert into_checkout == [], "sys.path reaches the checkout"
    assert Path(info["prefix"]) == installed.venv
    version = installed.stat_lib_cmd("--version").stdout
    assert "0.1.0" in version


def test_installed_wheel_ingests_and_runs_a_period(installed, city):
    probe = installed.base / "kernels-run.jsonl"
    proc = installed.stat_lib_cmd("--home", city, "run", "--period", PERIOD,
                                  "--department", DEPARTMENT, "--department", "citywide",
                                  probe=probe)
    assert "2 ok, 0 failed" in proc.stdout, proc.stdout
    out = city / "outputs" / PERIOD
    assert (out / "index.html").is_file()
    css = (ROOT / "templates/stat_packet/static/packet.css").read_text().splitlines()[0]
    for slug, kind in ((DEPARTMENT, "department"), ("citywide", "citywide")):
        page = (out / f"{slug}.html").read_text(encoding="utf-8")
        assert "statPacket.chart(" in page, f"{slug}: no vega-lite chart"
        assert "L.map(" in page and 'class="stat-map"' in page, f"{slug}: no Leaflet map"
        assert re.search(r"Leaflet \d+\.\d+", page), f"{slug}: Leaflet not inlined"
        assert css in page, f"{slug}: not the packaged stat_packet template"
        assert str(ROOT) not in page
        executed = json.loads((out / f"{slug}.ipynb").read_text(encoding="utf-8"))
        ran = Path(executed["metadata"]["papermill"]["input_path"])
        assert ran == installed.site / "stat_lib/packaged/notebooks" / f"{kind}.ipynb"
    kernels = _kernels(probe)
    assert len({k["pid"] for k in kernels}) >= 2, kernels  # one kernel per notebook
    for k in kernels:
        assert Path(k["executable"]) == installed.python, k
        assert _inside(k["stat_lib"], installed.site), k


def test_init_notebooks_copies_the_packaged_files(installed, tmp_path):
    home = tmp_path / "new-city"
    proc = installed.stat_lib_cmd("--home", home, "init", "--notebooks")
    assert (home / "params" / "city.yaml").is_file()
    for inside in PACKAGED:
        if inside.startswith("stat_lib/packaged/"):
            copied = home / inside.removeprefix("stat_lib/packaged/")
            assert copied.is_file(), f"init --notebooks did not write {copied}"
            assert copied.read_bytes() == (installed.site / inside).read_bytes()
            assert f"wrote {copied}" in proc.stdout
    again = installed.stat_lib_cmd("--home", home, "init", "--notebooks")
    assert "wrote" not in again.stdout  # existing files are kept without --force


def test_a_checkout_in_the_working_folder_does_not_shadow_the_wheel(installed, city, tmp_path):
    """``stat-lib`` run from a folder holding a stat_lib checkout still uses the wheel.

    The CLI itself is immune (a console script's ``sys.path[0]`` is its bin folder), but the
    warm kernel template is ``python -m stat_lib.run.kernel_fork serve``: ``-m`` puts the
    working folder first on ``sys.path``, so it imported the checkout's stat_lib and every
    kernel forked from it ran that copy.
    """
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "stat_lib", checkout / "stat_lib",
                    ignore=shutil.ignore_patterns(*JUNK))
    shutil.copy2(ROOT / "pyproject.toml", checkout)
    probe = installed.base / "kernels-checkout.jsonl"
    proc = installed.stat_lib_cmd("--home", city, "run", "--period", "2026-09",
                                  "--department", DEPARTMENT, cwd=checkout, probe=probe)
    assert "1 ok, 0 failed" in proc.stdout, proc.stdout
    for k in _kernels(probe):
        assert _inside(k["stat_lib"], installed.site), (
            f"a kernel imported {k['stat_lib']}, not the installed wheel")
