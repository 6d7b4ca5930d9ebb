"""Prove that the six demo packets (5 departments + citywide) are identical before and after a
refactor. See bench/README.md, section "same packets". Not a test: it prints a report.

Usage
-----
::

    .venv/bin/python bench/same_packets.py --before REV [--after REV|WORKTREE] [--keep DIR]
    .venv/bin/python bench/same_packets.py ... --self-check
    .venv/bin/python bench/same_packets.py --self-check OUTPUTS/2026-10   # no demo run

Parameters
----------
--before REV
    Git revision of the "before" side (checked out with ``git worktree add --detach``).
--after REV | WORKTREE
    Git revision of the "after" side, or ``WORKTREE`` (default): the repository as it is on
    disk, uncommitted changes included.
--keep DIR
    Keep both sides (source worktrees, homes, logs) under ``DIR/before`` and ``DIR/after``;
    otherwise everything goes to a temporary folder that is removed at the end (worktrees
    with ``git worktree remove``).
--self-check [PERIOD_DIR]
    Check that the comparison can fail: one period's outputs against in-memory copies with a
    digit altered in metrics.csv, in a packet's text, in a chart spec and in a map's GeoJSON
    (each must be reported), and with the random ids renumbered (must stay identical). With
    PERIOD_DIR, only that, on those outputs; without, after the comparison, on the before side.

Each side gets a fresh home (``params/`` copied from its tree, ``data/sample`` and
``data/boundaries`` symlinked to its tree) and runs
``python -c "from stat_lib.cli import main; main()" --home HOME demo --no-pdf`` from the home
folder, with ``PYTHONPATH`` = that tree (first) + a folder holding a ``sitecustomize.py`` that
logs where every process imports ``stat_lib`` from: the CLI, its workers and the kernels (or
the kernel template they are forked from) must all import the side's tree, never the
editable install. Notebooks/templates used (manifest ``template``) must come from it too.

Compared, per packet (``<slug>.html`` for every department in params/, ``citywide.html``):

- ``text``: visible text (no <head>, <script>, <style>), one line per block element,
  whitespace collapsed;
- ``charts``: every ``statPacket.chart("stat-chart-N", {...})`` spec, as canonical JSON;
- ``maps``: every Leaflet/folium map script (GeoJSON features, styles, tooltips, popups,
  marker data, legends), the whole script text;
- ``metrics``: the packet's rows of metrics.csv (the whole file is also compared byte for
  byte);
- ``page``: the whole page (static SVGs, CSS, JS bundles included), a stricter extra check.

Also: the period's ``index.html`` (text + page) and the manifest (period, data as of, each
run's status and summary; not its timestamps, durations, hashes or paths).

Masked, in the packets (and the index) only, and nothing else: folium/branca's random element
ids (32 hex digits after ``<name>_``: ``map_``, ``geo_json_``, ``fast_marker_cluster_``...),
numbered in order of first appearance (so references between them must still match),
papermill's random id of the injected-parameters cell (``cell-id=`` + 8 hex digits), and the
cover's "extracted" time (``; extracted 2026-12-04 13:34 PST``: when that side's demo ingested).
The packets carry no generated-at time (only the manifest does, and it is not compared there).

Exit status: 0 all identical, 1 some difference, 2 a side could not be built or run.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITYWIDE = "citywide"
DIFF_LINES = 40

# --- masks ------------------------------------------------------------------------------------

# folium/branca element ids: ``<name>_`` + uuid4().hex. The lookbehind keeps 32-hex runs that
# are data (the vega bundle's colour schemes) out.
FOLIUM_ID = re.compile(r"(?<=[A-Za-z]_)[0-9a-f]{32}(?![0-9a-f])")
# papermill gives its injected cell a random id; nbconvert writes it as an element id.
PAPERMILL_CELL = re.compile(r'(celltag_injected-parameters" id="cell-id=)[0-9a-f]{8}(?=")')


# "Data as of ...; extracted <time>": each side's demo ingests at its own minute.
EXTRACTED = re.compile(r"(; extracted )\d{4}-\d\d-\d\d \d\d:\d\d [A-Za-z][\w+-]*")


def mask(html: str) -> tuple[str, int]:
    """``html`` with random ids replaced by ``ID<n>`` (n: order of first appearance) and the
    extracted time by ``MASKED``."""
    numbers: dict[str, str] = {}
    html = FOLIUM_ID.sub(lambda m: numbers.setdefault(m.group(0), f"ID{len(numbers) + 1}"),
                         html)
    html, cells = PAPERMILL_CELL.subn(r"\1MASKED", html)
    html, extracted = EXTRACTED.subn(r"\1MASKED", html)
    return html, len(numbers) + cells + extracted


# --- parsing a packet -------------------------------------------------------------------------

BLOCK = set("address article aside blockquote br caption dd div dl dt fieldset figcaption figure "
            "footer form g h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section svg table "
            "tbody td text tfoot th thead title tr ul".split())


@dataclass
class Packet:
    """The parts of one (masked) page that are compared."""
    page: str
    text: list[str] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (element id, canonical JSON)
    maps: list[str] = field(default_factory=list)                # map scripts, masked
    masked: int = 0


class _Parser(HTMLParser):
    """Collects block-separated visible text and the body's scripts (with their figure)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines, self.scripts, self._buf = [], [], []
        self._head = self._skip = False
        self._figures: list[tuple[int, str]] = []  # open figures: (number, class)
        self._n = 0

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self._head = True
        elif tag in ("script", "style"):
            self._skip = tag
        elif tag == "figure":
            self._n += 1
            self._figures.append((self._n, dict(attrs).get("class") or ""))
        if tag in BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "head":
            self._head = False
        elif tag == self._skip:
            self._skip = False
        elif tag == "figure" and self._figures:
            self._figures.pop()
        if tag in BLOCK:
            self._flush()

    def handle_data(self, data):
        if self._skip == "script" and not self._head:
            self.scripts.append((self._figures[-1] if self._figures else (0, ""), data))
        elif not (self._skip or self._head):
            self._buf.append(data)

    def _flush(self):
        line = " ".join("".join(self._buf).split())
        if line:
            self.lines.append(line)
        self._buf = []

    def close(self):
        super().close()
        self._flush()


CHART_CALL = re.compile(r'statPacket\.chart\(\s*("(?:[^"\\]|\\.)*")\s*,\s*')


def chart_specs(script: str) -> list[tuple[str, str]]:
    """(element id, canonical JSON) of each ``statPacket.chart(id, spec)`` call in a script."""
    specs, decoder = [], json.JSONDecoder()
    for m in CHART_CALL.finditer(script):
        spec, _ = decoder.raw_decode(script, m.end())
        specs.append((json.loads(m.group(1)), canonical(spec)))
    return specs


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False)


def is_map(figure_class: str, script: str) -> bool:
    """A script of a ``stat-map`` figure, or any Leaflet map script."""
    return "stat-map" in figure_class.split() or "L.map(" in script


def parse_packet(html: str) -> Packet:
    """Mask ``html``, then split it into the compared parts."""
    page, masked = mask(html)
    parser = _Parser()
    parser.feed(page)
    parser.close()
    packet = Packet(page=page, text=parser.lines, masked=masked)
    maps: dict = {}  # one entry per map figure: all its scripts
    for (number, figure), script in parser.scripts:
        packet.charts += chart_specs(script)
        if is_map(figure, script):
            key = number if "stat-map" in figure.split() else f"bare-{len(maps)}"
            maps[key] = maps.get(key, "") + script
    packet.maps = list(maps.values())
    return packet


# --- views for diffs and counts -------------------------------------------------------------

MAP_JSON = re.compile(r"(_add\(|var data = )(?=[\[{])")


def map_payloads(script: str) -> list:
    """The JSON a map script feeds Leaflet: GeoJSON (``..._add({...})``), marker rows."""
    decoder, out = json.JSONDecoder(), []
    for m in MAP_JSON.finditer(script):
        try:
            out.append(decoder.raw_decode(script, m.end())[0])
        except json.JSONDecodeError:
            pass
    return out


def map_view(script: str) -> list[str]:
    """A map script as lines, its JSON payloads pretty-printed (key order kept)."""
    decoder, parts, pos = json.JSONDecoder(), [], 0
    for m in MAP_JSON.finditer(script):
        try:
            obj, end = decoder.raw_decode(script, m.end())
        except json.JSONDecodeError:
            continue
        parts += [script[pos:m.end()], json.dumps(obj, indent=1, ensure_ascii=False)]
        pos = end
    return "".join(parts + [script[pos:]]).splitlines()


def map_counts(maps: list[str]) -> tuple[int, int]:
    """(GeoJSON features, marker rows) over all maps of a packet."""
    features = markers = 0
    for script in maps:
        for obj in map_payloads(script):
            if isinstance(obj, dict):
                features += len(obj.get("features", []))
            else:
                markers += len(obj)
    return features, markers


def page_lines(page: str, width: int = 200) -> list[str]:
    """The page as short lines: split at tags, long runs cut every ``width`` characters."""
    out = []
    for line in page.replace("><", ">\n<").splitlines():
        out += [line[i:i + width] for i in range(0, max(len(line), 1), width)]
    return out


def udiff(a: list[str], b: list[str], name: str, limit: int = DIFF_LINES) -> str:
    """The first ``limit`` lines of a unified diff of ``a`` and ``b``, lines cut at 200."""
    lines = list(difflib.unified_diff(a, b, f"before/{name}", f"after/{name}", n=1,
                                      lineterm=""))
    cut = [line if len(line) <= 200 else line[:197] + "..." for line in lines[:limit]]
    if len(lines) > limit:
        cut.append(f"... ({len(lines) - limit} more diff lines)")
    return "\n".join(cut)


# --- comparing two period folders -----------------------------------------------------------

@dataclass
class Row:
    """One line of the summary table, with the diffs behind its 'no's."""
    name: str
    cells: dict[str, str]
    ok: bool
    diffs: list[str]


def compare_packet(name: str, a_html: str, b_html: str, metrics: tuple | None) -> Row:
    """Compare one packet's parts; ``metrics`` is (rows before, rows after) or None."""
    a, b = parse_packet(a_html), parse_packet(b_html)
    diffs, cells = [], {}

    def check(key: str, same: bool, shown: str, diff) -> bool:
        cells[key] = shown + ("yes" if same else "NO")
        if not same and diff is not None:
            diffs.append(f"--- {name}: {key} differs\n{diff()}")
        return same

    ok = check("text", a.text == b.text, "", lambda: udiff(a.text, b.text, f"{name} text"))
    ok &= check("charts", a.charts == b.charts, f"{len(a.charts)}/{len(b.charts)} ",
                lambda: _charts_diff(name, a.charts, b.charts))
    features, markers = map_counts(a.maps)
    ok &= check("maps", a.maps == b.maps,
                f"{len(a.maps)}/{len(b.maps)} ({features:,} feat, {markers:,} mark) ",
                lambda: _maps_diff(name, a.maps, b.maps))
    if metrics is None:
        cells["metrics"] = "-"
    else:
        # its diff is the whole file's, printed once below the table
        ok &= check("metrics", metrics[0] == metrics[1], f"{len(metrics[0])} rows ", None)
    ok &= check("page", a.page == b.page, "",
                lambda: udiff(page_lines(a.page), page_lines(b.page), f"{name} page"))
    cells["masked"] = f"{a.masked}/{b.masked}"
    return Row(name, cells, ok, diffs)


def _charts_diff(name, a, b) -> str:
    out = [f"chart ids: {[c for c, _ in a]} vs {[c for c, _ in b]}"] if len(a) != len(b) else []
    for (ida, sa), (idb, sb) in zip(a, b):
        if (ida, sa) != (idb, sb):
            out.append(udiff([ida, *sa.splitlines()], [idb, *sb.splitlines()],
                             f"{name} {ida}"))
    return "\n".join(out)


def _maps_diff(name, a, b) -> str:
    out = [f"{len(a)} vs {len(b)} maps"] if len(a) != len(b) else []
    for i, (sa, sb) in enumerate(zip(a, b), 1):
        if sa != sb:
            view = udiff(map_view(sa), map_view(sb), f"{name} map {i}")
            out.append(view or udiff(page_lines(sa), page_lines(sb), f"{name} map {i} (raw)"))
    return "\n".join(out)


def metrics_by_department(data: bytes) -> dict[str, list[list[str]]]:
    """metrics.csv rows grouped by their ``department`` column (header kept under '')."""
    rows = list(csv.reader(io.StringIO(data.decode())))
    groups: dict[str, list[list[str]]] = {"": rows[:1]}
    for row in rows[1:]:
        groups.setdefault(row[0] if row else "", []).append(row)
    return groups


MANIFEST_TOP = ("period", "period_label", "as_of", "data_as_of", "city")
MANIFEST_RUN = ("department", "notebook", "status", "html", "pdf", "error", "summary")


def manifest_view(doc: dict) -> str:
    """What two runs' manifests must share: no timestamps, durations, hashes or paths."""
    view = {k: doc.get(k) for k in MANIFEST_TOP}
    view["runs"] = [{k: r.get(k) for k in MANIFEST_RUN} for r in doc.get("runs", [])]
    return canonical(view)


def load_outputs(period_dir: Path, slugs: list[str]) -> dict:
    """The files compared, read once: packets, index, metrics.csv, manifest."""
    read = lambda name: (period_dir / name).read_text(encoding="utf-8")  # noqa: E731
    return {"packets": {s: read(f"{s}.html") for s in slugs}, "index": read("index.html"),
            "metrics": (period_dir / "metrics.csv").read_bytes(),
            "manifest": json.loads(read("manifest.json"))}


def compare_outputs(a: dict, b: dict) -> tuple[list[Row], list[str], bool]:
    """Compare two ``load_outputs`` results: (table rows, footer lines with diffs, all same)."""
    ma, mb = metrics_by_department(a["metrics"]), metrics_by_department(b["metrics"])
    rows = []
    for slug in a["packets"]:
        metrics = None if slug == CITYWIDE and slug not in ma else (
            ma[""] + ma.get(slug, []), mb[""] + mb.get(slug, []))
        rows.append(compare_packet(slug, a["packets"][slug], b["packets"][slug], metrics))
    ia, ib = parse_packet(a["index"]), parse_packet(b["index"])
    rows.append(Row("(index.html)", {"text": "yes" if ia.text == ib.text else "NO",
                                     "page": "yes" if ia.page == ib.page else "NO"},
                    ia.page == ib.page and ia.text == ib.text,
                    [] if ia.page == ib.page else
                    [f"--- index.html differs\n"
                     f"{udiff(page_lines(ia.page), page_lines(ib.page), 'index.html')}"]))
    ok = all(r.ok for r in rows)
    footer = []
    same = a["metrics"] == b["metrics"]
    footer.append(f"metrics.csv byte for byte: {'identical' if same else 'DIFFERENT'} "
                  f"({len(a['metrics']):,} / {len(b['metrics']):,} bytes)")
    if not same:
        footer.append(udiff(a["metrics"].decode().splitlines(),
                            b["metrics"].decode().splitlines(), "metrics.csv"))
    va, vb = manifest_view(a["manifest"]), manifest_view(b["manifest"])
    footer.append(f"manifest (period, data as of, status, summaries): "
                  f"{'identical' if va == vb else 'DIFFERENT'}")
    if va != vb:
        footer.append(udiff(va.splitlines(), vb.splitlines(), "manifest.json"))
    return rows, footer, ok and same and va == vb


COLUMNS = ("text", "charts", "maps", "metrics", "page", "masked")


def print_table(rows: list[Row], footer: list[str]) -> None:
    """Summary table, then footer lines, then every diff."""
    table = [("packet", *COLUMNS)] + [(r.name, *(r.cells.get(c, "-") for c in COLUMNS))
                                      for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) + 1)]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    print("(charts/maps/masked: before/after counts; masked = random ids replaced)")
    for line in footer:
        print(line)
    for row in rows:
        for diff in row.diffs:
            print(diff)


# --- one side: source tree, home, demo ------------------------------------------------------

class Failure(Exception):
    """A side could not be built or run (exit status 2)."""


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, text=True,
                          capture_output=True).stdout.strip()


def source_tree(spec: str, dest: Path) -> tuple[Path, str]:
    """The side's source tree and a description: a detached worktree of ``spec``, or REPO."""
    if spec == "WORKTREE":
        return REPO, f"working tree of {REPO}"
    commit = git("rev-parse", "--verify", f"{spec}^{{commit}}")
    git("worktree", "add", "--detach", str(dest), commit)
    return dest, f"{spec} = {commit[:10]} in {dest}"


def remove_tree(tree: Path) -> None:
    if tree != REPO:
        git("worktree", "remove", "--force", str(tree))


def make_home(tree: Path, home: Path) -> None:
    """params/ copied from ``tree``; its data/sample and data/boundaries symlinked."""
    shutil.copytree(tree / "params", home / "params")
    (home / "data").mkdir()
    for name in ("sample", "boundaries"):
        (home / "data" / name).symlink_to(tree / "data" / name, target_is_directory=True)


SPY = '''\
"""Written by bench/same_packets.py: logs where each process imports stat_lib from."""
import os
import sys

_LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.log")


class _ImportSpy:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "stat_lib":
            return None
        for finder in sys.meta_path:  # the spec the import system would pick
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if finder is not cls and find else None
            if spec is not None:
                argv = " ".join(getattr(sys, "orig_argv", sys.argv))[:150]
                with open(_LOG, "a") as log:
                    log.write(f"{os.getpid()}\\t{spec.origin}\\t{argv}\\n")
                return spec
        return None


sys.meta_path.insert(0, _ImportSpy)
'''


def side_env(tree: Path, spy: Path) -> dict:
    """The environment of a side's demo: its tree first on PYTHONPATH, then the spy."""
    env = dict(os.environ)
    env.pop("STAT_LIB_HOME", None)  # --home decides; a stray value must not leak in
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(spy)])
    return env


def import_origin(env: dict, cwd: Path) -> Path:
    out = subprocess.run([sys.executable, "-c", "import stat_lib; print(stat_lib.__file__)"],
                         env=env, cwd=cwd, check=True, text=True, capture_output=True).stdout
    return Path(out.strip())


def spy_report(log: Path, tree: Path) -> tuple[bool, str]:
    """(every import from ``tree``, a one-line account of who imported what)."""
    entries = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    outside = [e for e in entries if not _under(Path(e[1]), tree)]
    roles: dict[str, int] = {}
    for _, _, argv in entries:
        roles[_role(argv)] = roles.get(_role(argv), 0) + 1
    who = ", ".join(f"{n} {r}" for r, n in roles.items()) or "none"
    if outside:
        return False, f"stat_lib imported from outside {tree}: {outside[:3]}"
    kernel_side = any(r.startswith("kernel") for r in roles)
    return True, (f"stat_lib imported in {len(entries)} process(es), all from {tree}/stat_lib "
                  f"({who})" + ("" if kernel_side else "; WARNING: no kernel-side import seen"))


def _role(argv: str) -> str:
    """Who a logged command line is: the CLI, the kernel template, a cold kernel, other."""
    if "kernel_fork" in argv:
        return "kernel template"
    if "ipykernel" in argv:
        return "kernel"
    return "cli" if "stat_lib.cli" in argv else argv[:60]


def _under(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


@dataclass
class Side:
    label: str
    tree: Path
    home: Path
    period_dir: Path
    seconds: float
    period: str


def run_side(label: str, tree: Path, base: Path) -> Side:
    """Fresh home under ``base``, the demo with ``tree``'s code on PYTHONPATH, checked."""
    home, spy = base / "home", base / "spy"
    make_home(tree, home)
    spy.mkdir()
    (spy / "sitecustomize.py").write_text(SPY)
    env = side_env(tree, spy)
    origin = import_origin(env, home)
    if not _under(origin, tree):
        raise Failure(f"{label}: stat_lib imports from {origin}, not from {tree}")
    (spy / "imports.log").unlink(missing_ok=True)  # keep only the demo's own imports
    print(f"[{label}] python -c 'import stat_lib' -> {origin}")
    cmd = [sys.executable, "-c", "from stat_lib.cli import main; main()", "--home", str(home),
           "demo", "--no-pdf"]
    t0 = time.perf_counter()
    with open(base / "demo.log", "w") as log:
        proc = subprocess.run(cmd, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print((base / "demo.log").read_text()[-3000:])
        raise Failure(f"{label}: demo failed ({proc.returncode}); log: {base / 'demo.log'}")
    ok, account = spy_report(spy / "imports.log", tree)
    print(f"[{label}] {account}")
    if not ok:
        raise Failure(f"{label}: wrong stat_lib")
    period_dir, period = find_period(home)
    check_templates(label, period_dir, tree)
    print(f"[{label}] demo: {seconds:.1f} s wall, period {period} -> {period_dir}")
    return Side(label, tree, home, period_dir, seconds, period)


def find_period(home: Path) -> tuple[Path, str]:
    """The one period folder the demo wrote, and its period (from its manifest)."""
    found = sorted(p.parent for p in (home / "outputs").glob("*/manifest.json"))
    if len(found) != 1:
        raise Failure(f"expected one period in {home / 'outputs'}, found {found}")
    period = json.loads((found[0] / "manifest.json").read_text())["period"]
    if period != found[0].name:
        raise Failure(f"{found[0]}: manifest says period {period}")
    return found[0], period


def check_templates(label: str, period_dir: Path, tree: Path) -> None:
    """Every notebook the manifest records as run must come from ``tree``."""
    runs = json.loads((period_dir / "manifest.json").read_text()).get("runs", [])
    used = {r.get("template") for r in runs if r.get("template")}
    outside = sorted(t for t in used if not _under(Path(t), tree))
    if outside:
        raise Failure(f"{label}: notebooks from outside {tree}: {outside}")
    print(f"[{label}] notebooks run: " + (", ".join(sorted(Path(t).name for t in used))
                                          + f", all from {tree}" if used else "not recorded"))


def packet_slugs(home: Path) -> list[str]:
    return sorted(p.stem for p in (home / "params" / "departments").glob("*.yaml")) + [CITYWIDE]


# --- self-check -----------------------------------------------------------------------------

def _alter_digit(text: str, pattern: str, group: int = 1) -> str:
    """``text`` with the first digit of ``pattern``'s group ``group`` changed (d -> d+1)."""
    m = re.search(pattern, text, re.S)
    if m is None:
        raise AssertionError(f"self-check: no match for {pattern!r}")
    start = m.start(group) + re.search(r"\d", m.group(group)).start()
    return text[:start] + str((int(text[start]) + 1) % 10) + text[start + 1:]


def self_check(period_dir: Path, slugs: list[str]) -> None:
    """Each altered copy must be reported in (at least) the expected column; a copy with its
    random ids renumbered must compare identical."""
    base = load_outputs(period_dir, slugs)
    dept = slugs[0]
    html = base["packets"][dept]
    fresh = lambda: json.loads(json.dumps(base["manifest"]))  # noqa: E731
    cases = {
        "metrics": ("metrics", _alter_digit(base["metrics"].decode(), r"\n[^\n]*?,(\d[\d.]*),")
                    .encode()),
        "text": ("packet", _alter_digit(html, r'class="stat-as-of">([^<]+)<')),
        "charts": ("packet", _alter_digit(html, r'statPacket\.chart\([^\n]*?"datasets":\{'
                                                r'[^\n]*?:(\d)')),
        "maps": ("packet", _alter_digit(html, r'_add\(\{"features": \[\{"geometry": '
                                              r'\{"coordinates": \[\[\[-?(\d+)')),
    }
    for expect, (where, altered) in cases.items():
        copy = dict(base, packets=dict(base["packets"]), manifest=fresh())
        if where == "metrics":
            copy["metrics"] = altered
        else:
            copy["packets"][dept] = altered
        rows, _, ok = compare_outputs(base, copy)
        row = next(r for r in rows if r.name == dept)
        assert not ok, f"self-check: altered {expect} not reported"
        assert row.cells[expect].endswith("NO"), f"self-check: {expect} not flagged: {row.cells}"
        flagged = [k for k, v in row.cells.items() if v.endswith("NO")]
        print(f"self-check: a digit altered in {dept} {expect}: reported, in {flagged}")
    renumbered = FOLIUM_ID.sub(lambda m: m.group(0)[::-1], html)
    renumbered = PAPERMILL_CELL.sub(r"\g<1>0badf00d", renumbered)
    renumbered = EXTRACTED.sub(r"\g<1>1999-01-01 00:00 PST", renumbered)
    assert renumbered != html
    copy = dict(base, packets={**base["packets"], dept: renumbered}, manifest=fresh())
    assert compare_outputs(base, copy)[2], "self-check: renumbered random ids reported"
    broken = FOLIUM_ID.sub(lambda m: "0" * 32, html, count=1)  # one reference broken
    copy = dict(base, packets={**base["packets"], dept: broken}, manifest=fresh())
    assert not compare_outputs(base, copy)[2], "self-check: a broken id reference not reported"
    print(f"self-check: random ids renumbered and the extracted time changed in {dept}: "
          f"identical; one id reference broken: reported. OK")


# --- main -----------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", help="git revision of the before side")
    p.add_argument("--after", default="WORKTREE", help="git revision, or WORKTREE (default)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep both sides under DIR")
    p.add_argument("--self-check", nargs="?", const="", metavar="PERIOD_DIR",
                   help="check that the comparison can fail (alone on PERIOD_DIR)")
    args = p.parse_args(argv)
    if not args.before and not args.self_check:
        p.error("--before is required (or --self-check PERIOD_DIR)")
    return args


def main(argv=None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up as they happen
    args = parse_args(argv)
    if args.self_check:  # outputs given: no demo run
        period_dir = Path(args.self_check)
        home = period_dir.resolve().parents[1]
        self_check(period_dir, packet_slugs(home))
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    base = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="same_packets_"))
    trees: list[Path] = []
    try:
        sides = []
        for label, spec in (("before", args.before), ("after", args.after)):
            (base / label).mkdir(exist_ok=False)
            tree, what = source_tree(spec, base / label / "tree")
            trees.append(tree)
            print(f"[{label}] {what}")
            sides.append(run_side(label, tree, base / label))
        return report(sides, args.self_check is not None)
    except subprocess.CalledProcessError as exc:
        print(f"failed: {' '.join(exc.cmd)}\n{exc.stderr}", file=sys.stderr)
        return 2
    except (Failure, FileExistsError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept under {base} (remove the worktrees with `git worktree remove`: "
                  f"{', '.join(str(t) for t in trees if t != REPO) or 'none'})")
        else:
            for tree in trees:
                remove_tree(tree)
            shutil.rmtree(base, ignore_errors=True)


def report(sides: list[Side], run_self_check: bool) -> int:
    """Compare both sides' outputs, print the table and verdict; 0 identical, 1 not."""
    before, after = sides
    slugs = packet_slugs(before.home)
    if packet_slugs(after.home) != slugs:
        print(f"different departments: {slugs} vs {packet_slugs(after.home)}")
        return 1
    if before.period != after.period:
        print(f"different periods: {before.period} vs {after.period}")
        return 1
    print(f"\nperiod {before.period}: {len(slugs)} packets; demo wall time: before "
          f"{before.seconds:.1f} s, after {after.seconds:.1f} s\n")
    rows, footer, ok = compare_outputs(load_outputs(before.period_dir, slugs),
                                       load_outputs(after.period_dir, slugs))
    print_table(rows, footer)
    print("\nALL IDENTICAL" if ok else "\nDIFFERENCES FOUND")
    if run_self_check:
        self_check(before.period_dir, slugs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
