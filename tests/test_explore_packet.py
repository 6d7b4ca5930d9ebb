"""The explorer against a real period of the sample city: its numbers agree with metrics.csv,
and ``stat-lib explore`` writes an executed notebook signed for JupyterLab.

The agreement test runs the sanitation packet for 2026-10 with the batch (the real department
notebook, papermill, nbconvert) and reads the ``metrics.csv`` it wrote; every headline and
scorecard figure, and every other figure of the department, computed through
``stat_lib.explore`` must equal that file's row.
"""

import json
import math
import shutil

import nbformat
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from nbformat.sign import NotebookNotary

from stat_lib.cli import main
from stat_lib.core.periods import Period
from stat_lib.explore import open_home
from stat_lib.metrics.scoring import target_for
from stat_lib.present import district_classes as dc
from stat_lib.present.maps import MAP_MIME
from support.builders import TEST_NOTEBOOKS

pytestmark = pytest.mark.slow  # executes real notebooks on the ingested sample city
PERIOD, DEPT = "2026-10", "sanitation"


@pytest.fixture(scope="module")
def csv_rows(sample_city):
    from stat_lib.run.batch import run_period
    result = run_period(sample_city, Period.parse(PERIOD), [DEPT], workers=1, force=True)
    assert result.ok, result.summary()
    # pandas' default float parser reads back repr()'s digits exactly (round trip); an empty
    # cell is n/a, the text "n/a" (display, status) stays text
    table = pd.read_csv(sample_city.outputs / PERIOD / "metrics.csv", keep_default_na=False,
                        na_values=[""])
    return table[table["department"] == DEPT].set_index("metric")


def same(a, b) -> bool:
    """Equal, with n/a (None or NaN) equal to n/a."""
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    return all(missing) if any(missing) else a == b


def test_every_packet_figure_equals_metrics_csv(sample_city, csv_rows):
    home = open_home(sample_city.home)
    headline = home.headline(DEPT, PERIOD)
    for row in headline.itertuples():
        csv = csv_rows.loc[row.metric]
        assert same(row.value, csv["value"]) and row.display == csv["display"], row.metric
    card = home.scorecard(DEPT, PERIOD)
    assert set(headline["metric"]) <= set(card["metric"]) | {"closed"}
    for row in card.itertuples():
        csv = csv_rows.loc[row.metric]
        assert same(row.value, csv["value"]), row.metric
        assert (row.display, row.status) == (csv["display"], csv["status"]), row.metric
        assert same(row.target, csv["target"]), row.metric
    # and every other row of the department in metrics.csv, per-standard figures included
    figures = home.figures(DEPT, PERIOD).iloc[0]
    for metric in csv_rows.index:
        value = home.metric(metric, DEPT, PERIOD) if "." in metric else figures[metric]
        assert same(value, csv_rows.loc[metric, "value"]), metric
    kpi_rows = csv_rows.index.str.startswith("kpi.")
    assert (~kpi_rows).sum() == 30 and csv_rows.loc["overdue_open", "value"] > 0
    assert kpi_rows.sum() >= 1  # the submitted KPIs agree too
    assert "standard_compliance.bulky-items-5-days" in csv_rows.index


def invoke(home, *args, env=None):
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env)


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_stat_lib_explore_writes_a_signed_executed_notebook(sample_city, tmp_path):
    data_dir = tmp_path / "jupyter-data"
    out = tmp_path / "liaison" / "sanitation.ipynb"
    result = invoke(sample_city.home, "explore", DEPT, "--period", PERIOD, "--out", str(out),
                    env={"JUPYTER_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    nb = nbformat.read(out, as_version=4)
    # trusted under the secret that signed it, not under another one
    assert NotebookNotary(data_dir=str(data_dir)).check_signature(nb)
    (tmp_path / "other").mkdir()
    assert not NotebookNotary(data_dir=str(tmp_path / "other")).check_signature(nb)
    outs = outputs(nb)
    assert not [o for o in outs if o.output_type == "error"]
    home = open_home(sample_city.home)
    overdue = home.metric("overdue_open", DEPT, PERIOD)
    text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
    assert f"{overdue:,} requests open and overdue at the end of {PERIOD}; the tile says " \
           f"{overdue:,}" in text
    tiles = next(o for o in outs if "text/html" in o.get("data", {}))["data"]["text/html"]
    for display in home.headline(DEPT, PERIOD)["display"]:
        assert f"<td>{display}</td>" in tiles
    maps = [o for o in outs if MAP_MIME in o.get("data", {})]
    assert len(maps) == 2 and all("<iframe srcdoc=" in o["data"]["text/html"] for o in maps)
    # the field crew's workbook, beside the notebook: the focus service's overdue requests
    focus = text.split("Service in focus: ")[1].splitlines()[0]
    ws = openpyxl.load_workbook(out.parent / f"{DEPT}-{PERIOD}-overdue.xlsx")["Overdue"]
    assert ws.max_row - 1 == len(home.behind("overdue_open", DEPT, PERIOD, service=focus))
    # the batch's period never runs the explorer
    assert not (sample_city.outputs / PERIOD / "explore").exists()


def test_a_failed_explorer_keeps_the_evidence(sample_city, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_city.home / "params", home / "params")
    (home / "data").symlink_to(sample_city.home / "data")
    (home / "notebooks").mkdir()
    shutil.copy(TEST_NOTEBOOKS / "broken.ipynb", home / "notebooks" / "explore.ipynb")
    out = tmp_path / "x.ipynb"
    result = invoke(home, "explore", DEPT, "--period", PERIOD, "--out", str(out),
                    env={"JUPYTER_DATA_DIR": str(tmp_path / "jd")})
    assert result.exit_code == 10
    assert "broken on purpose: sanitation" in result.output
    failed = tmp_path / "x.failed.ipynb"
    assert failed.exists() and not out.exists()
    assert "papermill-error-cell" in json.dumps(json.loads(failed.read_text()))


def test_charts_and_maps_draw_the_explorers_figures(sample_city):
    home = open_home(sample_city.home)
    by_district = home.metric("overdue_open", DEPT, PERIOD, by="district")
    spec = home.chart("overdue_open", DEPT, PERIOD, by="district").to_dict()
    drawn = {r["group"]: r["value"] for rows in spec["datasets"].values() for r in rows
             if "group" in r}  # (the other dataset is the target's rule: 300)
    assert drawn == dict(zip(by_district["group"], by_district["value"].astype(float)))
    trend = home.chart("on_time_rate", DEPT, PERIOD, service="Bulky Items").to_dict()
    points = [r for rows in trend["datasets"].values() for r in rows if "period" in r]
    assert points[-1] == {"period": PERIOD, "value": home.metric(
        "on_time_rate", DEPT, PERIOD, service="Bulky Items")}
    # the map of one district's overdue requests draws exactly the requests behind the figure
    key = by_district.sort_values("value")["group"].iloc[-1]
    n = len(home.behind("overdue_open", DEPT, PERIOD, district=key))
    located = home.behind("overdue_open", DEPT, PERIOD, district=key)[["lat", "lon"]].notna()
    shown = int(located.all(axis=1).sum())
    pmap = home.map(DEPT, PERIOD, what="overdue_open", district=key)
    assert pmap.note.startswith(f"{shown:,} of {n:,} shown")
    choropleth = home.map(DEPT, PERIOD, what="on_time_rate")
    assert MAP_MIME in choropleth._repr_mimebundle_()
    # a rate with a target is judged as the packet judges it: districts ranked worst first
    # against the 85% target, too few requests marked, the target named in the legend
    assert choropleth.title.startswith("Closed on time by district, against the target: ")
    assert "against the 85% target" in choropleth.legend
    rates = home.metric("on_time_rate", DEPT, PERIOD, by="district")
    classes = dc.judge(rates["value"].astype(float), rates["denominator"],
                       target_for(home.params.department(DEPT), "on_time_rate"))
    # district 1: 163 of 192 on time = 84.9%, just under 85%: "near", the worst, number 1
    judged = dict(zip(rates["group"], classes))
    assert judged["1"] == "near" and "missed" not in classes
    assert choropleth.numbers["1"] == 1
