"""A full disk during export and during ingest (cases 37 and 46), on a real small tmpfs.

The outputs folder (or the data folder) is a tmpfs of a few MB mounted for the test (root is
needed: skipped elsewhere, required on CI); a filler file leaves only the free space the case
needs. Each test checks the exit code and the one-line message, that no file at a final path
is partial or invalid, that the previous files are byte for byte intact, and that the next
command after space is freed simply works.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.builders import batch_home, grid_params, myla_row, notebooks_dir, write_csv

pytestmark = pytest.mark.slow
STAT_LIB = str(Path(sys.executable).with_name("stat-lib"))


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "8m"):
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"mounting a tmpfs is required on CI: {mounted.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """A filler file in ``folder`` so that about ``leave`` bytes stay free."""
    filler = folder / "filler.bin"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def files(folder: Path, skip=("filler.bin",)) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in skip}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STAT_LIB, "--home", str(home), *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("leave", [2_000, 120_000], ids=["nothing-fits", "notebooks-fit"])
def test_disk_full_during_export_keeps_every_previous_file_and_exits_11(tmp_path, leave):
    home = batch_home(tmp_path / "home")
    notebooks_dir(tmp_path).rename(home / "notebooks")
    with tmpfs(home / "outputs") as outputs:
        first = cli(home, "run", "--period", "2026-10", "--workers", "2")
        assert first.returncode == 0, first.stderr
        before = files(outputs)
        filler = fill(outputs, leave)
        full = cli(home, "run", "--period", "2026-10", "--workers", "2", "--force")
        assert full.returncode == 11, full.stdout + full.stderr
        assert "no space left on the disk" in full.stderr and "previous" in full.stderr
        assert "Traceback" not in full.stderr, full.stderr
        after = files(outputs)
        period = outputs / "2026-10"
        # no temporary file, nothing partial: every notebook and manifest at a final path parses
        assert not [n for n in after if ".tmp-" in n or n.endswith(".tmp")], after
        for name in after:
            if name.endswith((".ipynb", ".json")):
                json.loads((outputs / name).read_text())
        assert not list(period.glob("*.failed.ipynb")), "a disk failure is not a notebook's"
        for name, digest in before.items():  # packets, notebooks, metrics.csv, indexes
            if not name.endswith(("manifest.json", "index.html")):
                assert after[name] == digest, f"{name} changed"
        filler.unlink()  # space again: the next run simply works
        again = cli(home, "run", "--period", "2026-10", "--workers", "2")
        assert again.returncode == 0, again.stderr
        statuses = {e["status"] for e in json.loads((period / "manifest.json").read_text())[
            "runs"]}
        assert statuses <= {"ok", "skipped"}, statuses  # a run stopped before work skips


def test_disk_full_during_ingest_leaves_the_store_as_it_was_and_exits_11(tmp_path):
    with tmpfs(tmp_path / "data", size="48m") as data:
        rows = [myla_row(str(i)) for i in range(50)]
        params = grid_params(tmp_path / "home", write_csv(data / "a.csv", rows))
        home = params.home
        params_file = home / "params" / "city.yaml"
        params_file.write_text(params_file.read_text() + f"store: {data / 'stat.duckdb'}\n")
        first = cli(home, "ingest")
        assert first.returncode == 0, first.stderr
        more = [myla_row(f"n{i}", Address=f"{i} " + "LONG STREET NAME " * 20)
                for i in range(20_000)]
        write_csv(data / "a.csv", rows + more)
        fill(data, 200_000)
        full = cli(home, "ingest")
        assert full.returncode == 11, full.stdout + full.stderr
        assert "no space left on the disk" in full.stderr and "stat.duckdb" in full.stderr
        assert "Traceback" not in full.stderr and "rollback" not in full.stderr, full.stderr
        (data / "filler.bin").unlink()
        # the store is as the first ingest left it, and readable
        count = subprocess.run([sys.executable, "-c", (
            "import sys; from stat_lib.params import load_params; from stat_lib import store\n"
            f"print(len(store.load_requests(load_params({str(home)!r}))))")],
            capture_output=True, text=True)
        assert count.stdout.strip() == "50", count.stderr
        again = cli(home, "ingest")
        assert again.returncode == 0, again.stderr
