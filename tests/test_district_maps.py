"""Maps that point at the right districts: judged against the target, numbered, ranked.

By hand: the sample city's sanitation target is 85% on time with a 5% tolerance, so "near"
starts at 85% x 0.95 = 80.75%. A district at 87% is met (never red), 84% near, 80% missed; a
district with 9 requests behind its rate is too few to judge, one with none has no requests.
"""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.params.models import Target
from stat_lib.present import district_classes as dc
from stat_lib.present import maps
from stat_lib.present.district_maps import district_maps
from stat_lib.present.html import trend_text
from stat_lib.present.reports.department import counts_text, zero_median_note
from support.builders import EVIL, ROOT

TARGET = Target(target=0.85, direction="higher", tolerance=0.05)
MET, NEAR, MISSED = (dc.CLASSES[c][0] for c in ("met", "near", "missed"))


@pytest.fixture(scope="module")
def council():
    gdf = gpd.read_file(ROOT / "data/boundaries/la-city-council-districts-2012.json")
    gdf = gdf[["name", "geometry"]].rename(columns={"name": "key"})
    gdf["label"] = "District " + gdf["key"]
    return gdf


def council_values(council) -> pd.DataFrame:
    """Districts 1..5 by hand; the other ten at 95% with 50 requests each (met)."""
    hand = {"1": (0.87, 40), "2": (0.84, 40), "3": (0.80, 40), "4": (0.95, 9), "5": (None, 0)}
    rows = [(k, *hand.get(k, (0.95, 50))) for k in council["key"]]
    return pd.DataFrame(rows, columns=["key", "value", "count"])


def test_judge_by_hand():
    classes = dc.judge([0.87, 0.84, 0.80, 0.95, None], [40, 40, 40, 9, 0], TARGET)
    assert classes == ["met", "near", "missed", "too_few", "none"]
    # exactly on the target is met; exactly on the near edge (80.75%) is near
    assert dc.judge([0.85, 0.8075, 0.8074], [10, 10, 10], TARGET) == ["met", "near", "missed"]
    # lower is better: 4 days target, 10% tolerance -> near up to 4.4 days
    lower = Target(target=4, direction="lower", tolerance=0.10)
    assert dc.judge([3.9, 4.3, 4.5], [20, 20, 20], lower) == ["met", "near", "missed"]


def test_rank_puts_the_worst_first():
    frame = pd.DataFrame({"key": list("abcdef"), "v": [0.87, 0.60, 0.84, 0.95, 0.70, np.nan],
                          "cls": ["met", "missed", "near", "too_few", "missed", "none"]})
    ranked = dc.rank(frame, "cls", "v")
    # missed 60% then missed 70%, near 84%, met 87%, too few, no requests
    assert ranked["key"].tolist() == ["b", "e", "c", "a", "d", "f"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    lower = dc.rank(frame.assign(cls="missed"), "cls", "v", direction="lower")
    assert lower["key"].tolist()[:2] == ["d", "a"]  # the highest value is the worst


def test_legend_says_what_the_colours_mean():
    rows = dc.legend_rows(TARGET, ".0%", 10, {"met", "near", "missed", "too_few"})
    assert [text for text, _ in rows] == [
        "✗ Missed: under 80.8%", "! Near: 80.8% to under 85%", "✓ Met: 85% or more",
        "… Too few to judge: under 10 requests, not coloured"]
    assert [c for _, c in rows] == [MISSED, NEAR, MET, dc.CLASSES["too_few"][0]]


def test_target_map_colours_numbers_and_ranks_districts(council):
    m = maps.target_map(council, council_values(council), target=TARGET, title="On time")
    script = m.parts["script"]
    fills = {f["properties"]["tip"].split("</strong>")[0].removeprefix("<strong>"):
             f["properties"]["fill"]
             for f in _features(script)}
    # ranks: 3 (80%, missed) is 1st, 2 (84%, near) 2nd, 1 (87%, met) 3rd, then the ten at 95%
    assert fills["3. District 1"] == MET  # 87% against 85%: met, not red
    assert fills["2. District 2"] == NEAR
    assert fills["1. District 3"] == MISSED
    assert fills["14. District 4"] == dc.CLASSES["too_few"][0]
    assert fills["15. District 5"] == dc.CLASSES["none"][0]
    assert m.numbers == {**m.numbers, "3": 1, "2": 2, "1": 3, "4": 14, "5": 15}
    # numbered labels on the live map (the table's 12 rows) and on the print map
    assert script.count('class=\\"stat-district-no\\"') == 12
    assert m.svg().count(">1</text>") >= 1
    # the table beside: worst first, the count behind each rate, small counts marked
    rows = read_table(m.aside)
    assert rows["#"].tolist() == [str(i) for i in range(1, 13)]
    assert rows["District"].tolist()[:3] == ["District 3", "District 2", "District 1"]
    assert rows["Requests judged"].tolist()[:3] == ["40", "40", "40"]
    assert rows["Status"].tolist()[:3] == ["✗ Missed", "! Near", "✓ Met"]
    # ranks 3..13 are the eleven met districts, so 13 is met, 14 too few, 15 none
    assert "Not listed, ranks 13–15: 1 met, 1 too few to judge, 1 no requests." in m.aside
    assert "✓ Met: 85% or more" in m.legend and "On time against the 85% target" in m.legend


def test_target_map_table_escapes_district_names(council):
    districts = council.assign(label=lambda d: d["label"].where(d["key"] != "3", EVIL))
    m = maps.target_map(districts, council_values(council), target=TARGET, title="t")
    assert EVIL not in m.aside and "&lt;script&gt;" in m.aside
    assert EVIL not in m.parts["script"]


def test_district_maps_number_both_maps_alike(council):
    values = council_values(council).rename(columns={"value": "on_time_rate"})
    values["created"] = [1200 if k == "7" else 30 for k in values["key"]]
    rate, volume = district_maps(council, values, "Council district", TARGET)
    assert rate.title == "Closed on time by council district, against the target"
    assert volume.title == "Requests created by council district"
    top = read_table(volume.aside)
    assert top["District"].iloc[0] == "District 7" and top["Requests"].iloc[0] == "1,200"
    assert top["#"].iloc[0] == str(rate.numbers["7"])  # the same number on both maps


def test_no_district_to_judge_is_said_not_mapped(council):
    values = council_values(council).rename(columns={"value": "on_time_rate"})
    values["count"], values["created"] = 3, 3  # 3 requests each: under 10, too few everywhere
    rate, volume = district_maps(council, values, "Council district", TARGET)
    assert "no council district had 10 or more requests" in rate.data
    assert volume.title == "Requests created by council district"
    # no on-time ranks: numbered by requests (all 3, ties by name), its top 8 labelled
    assert volume.parts["script"].count('class=\\"stat-district-no\\"') == 8
    assert "1 = the most requests" in volume.aside
    assert read_table(volume.aside)["#"].tolist() == [str(i) for i in range(1, 9)]


def test_density_map_draws_the_district_outline(council):
    pts = pd.DataFrame({"lat": [34.05, 34.06, 34.2], "lon": [-118.25, -118.26, -118.5]})
    m = maps.density_map(pts, outline=council)
    assert m.static.to_dict()["layer"][1]["mark"]["filled"] is False
    assert len(m.static.to_dict()["layer"][1]["data"]["values"]) == 15
    assert "stat-district-no" not in m.parts["script"]  # "District 1" is too long to print
    # short labels (the store's council districts are named "1".."15") are printed on it
    short = council.assign(label=council["key"])
    m = maps.density_map(pts, outline=short)
    assert m.parts["script"].count('class=\\"stat-district-no\\"') == 15
    assert {str(i) for i in range(1, 16)} <= set(re.findall(r">(\d+)</text>", m.svg()))
    over = pts.assign(request_id=["a", "b", "c"], service_name="s", address="x",
                      days_overdue=[1.0, 2.0, 3.0])
    assert maps.overdue_map(over, districts=short).parts["script"].count(
        'class=\\"stat-district-no\\"') == 15


@given(st.lists(st.integers(0, 500), min_size=1, max_size=60), st.integers(1, 7))
def test_count_classes_never_overlap_and_hold_every_value(values, n):
    idx, labels = maps.count_classes(values, n)
    assert len(labels) <= n and len(set(labels)) == len(labels)
    for v, i in zip(values, idx):
        lab = labels[i].replace(",", "")
        lo, _, hi = lab.partition(" – ")
        assert int(lo) <= v <= int(hi or lo)
    assert not any(lab.split(" – ")[0] == lab.split(" – ")[-1] and " – " in lab
                   for lab in labels)  # never "1 – 1"


def test_small_counts_get_one_class_per_value():
    assert maps.count_classes([1, 1, 1]) == (pytest.approx([0, 0, 0]), ["1"])
    idx, labels = maps.count_classes([1, 2, 3])
    assert labels == ["1", "2", "3"] and idx.tolist() == [0, 1, 2]


def test_trend_words_agree_with_the_good_direction():
    assert trend_text("improving", "higher") == "▲ improving"
    assert trend_text("improving", "lower") == "▼ improving"  # a backlog that fell
    assert trend_text("worsening", "lower") == "▲ worsening"
    assert trend_text("steady", "lower") == "► steady"


def test_thousands_separators_and_the_zero_median_note():
    frame = pd.DataFrame({"closed": [2302, 7], "other": [1, 2]})
    assert counts_text(frame, ("closed", "missing")) == {"closed": ["2,302", "7"]}
    assert "closed at the moment it was logged" in zero_median_note([0.01, 3.2])
    assert zero_median_note([0.06, 3.2]) == ""  # 0.06 shows as "0.1 days"


def _features(script: str) -> list:
    """The GeoJSON features folium wrote into the map's script (the first layer)."""
    import json
    import re
    found = re.search(r"\.addData\((\{.*?\})\);", script, re.S) or re.search(
        r"geo_json_\w+_add\((\{.*?\})\);", script, re.S)
    return json.loads(found.group(1))["features"]


def read_table(fragment: str) -> pd.DataFrame:
    """The first HTML table of ``fragment`` as text cells (standard library parser)."""
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell, self.done = [], None, False

        def handle_starttag(self, tag, attrs):
            if tag == "tr" and not self.done:
                self.rows.append([])
            elif tag in ("td", "th") and not self.done:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(self.cell.strip())
                self.cell = None
            elif tag == "table":
                self.done = True

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    p = Cells()
    p.feed(fragment)
    return pd.DataFrame(p.rows[1:], columns=p.rows[0])


def test_short_district_names_are_printed_instead_of_ranks(council):
    # the store's council districts are named "1".."15": a rank "2" printed on district "14"
    # would read as district 2, so every district shows its own name and the table its rank
    named = council.assign(label=council["key"])
    m = maps.target_map(named, council_values(council), target=TARGET, title="t")
    shown = re.findall(r'stat-district-no\\"\\u003e(\d+)\\u003c', m.parts["script"])
    assert sorted(shown, key=int) == [str(i) for i in range(1, 16)]
    rows = read_table(m.aside)
    assert rows[["#", "District"]].values.tolist()[:3] == [["1", "3"], ["2", "2"], ["3", "1"]]
