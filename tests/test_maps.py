"""Maps: classes and grid cells by hand, real LA boundaries and 311 rows, escaping, no CDN."""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.present import maps
from stat_lib.core.errors import StatLibError
from support.builders import EVIL, ROOT


@pytest.fixture(scope="module")
def council():
    gdf = gpd.read_file(ROOT / "data/boundaries/la-city-council-districts-2012.json")
    gdf = gdf[["name", "geometry"]].rename(columns={"name": "key"})
    gdf["label"] = "District " + gdf["key"]
    return gdf


@pytest.fixture(scope="module")
def la311():
    df = pd.read_csv(ROOT / "data/la311/MyLA311_2018_mini.csv",
                     usecols=["SRNumber", "RequestType", "Address", "Latitude", "Longitude", "CD"])
    return df.rename(columns={"Latitude": "lat", "Longitude": "lon", "SRNumber": "request_id",
                              "RequestType": "service_name", "Address": "address"})


def test_class_edges_and_classify_by_hand():
    # 0.5..0.9 in 4 equal classes: edges .5 .6 .7 .8 .9; the top value joins the last class.
    edges = maps.class_edges([0.5, 0.6, 0.7, 0.8, 0.9], 4)
    assert np.allclose(edges, [0.5, 0.6, 0.7, 0.8, 0.9])
    assert maps.classify([0.5, 0.65, 0.9, np.nan], edges).tolist() == [0, 1, 3, -1]
    # all equal -> one class
    assert maps.class_edges([3, 3], 5).tolist() == [3, 3]
    assert maps.classify([3, 3], np.array([3.0, 3.0])).tolist() == [0, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.integers(1, 7))
def test_classify_is_in_range_and_monotone(values, n):
    edges = maps.class_edges(values, n)
    idx = maps.classify(values, edges)
    assert ((idx >= 0) & (idx <= max(len(edges) - 2, 0))).all()
    order = np.argsort(values, kind="stable")
    assert (np.diff(idx[order]) >= 0).all()


def test_grid_cells_by_hand():
    # 1000 m cells at lat 34: dlat = 1000/111320 = 0.008983 deg. Two points 100 m apart share a
    # cell; a third 5 km north is alone; a fourth has no coordinates and is counted as missing.
    pts = pd.DataFrame({"lat": [34.0001, 34.0010, 34.0451, None],
                        "lon": [-118.2501, -118.2502, -118.2501, -118.25]})
    cells = maps.grid_cells(pts, 1000)
    assert sorted(cells["count"]) == [1, 2]
    assert cells.attrs["missing"] == 1
    assert cells.geometry.is_valid.all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(33.7, 34.4), st.floats(-118.7, -118.1)), max_size=80))
def test_grid_cells_place_every_located_point_once(points):
    df = pd.DataFrame(points, columns=["lat", "lon"])
    cells = maps.grid_cells(df, 750)
    assert cells["count"].sum() == len(points)
    assert cells["key"].is_unique


def test_choropleth_on_real_council_districts(council, la311):
    # volume by council district from the real MyLA311 rows; a district key not on the map
    # ("99", 5 requests) is counted in the note in a reader's words, never silently dropped.
    vol = la311.assign(key=la311["CD"].astype("Int64").astype(str)).groupby("key").size()
    vol = vol.rename("n").reset_index()
    vol.loc[len(vol)] = ["99", 5]
    m = maps.choropleth(council, vol, value="n", title="Requests", fmt=",.0f",
                        value_title="Requests", higher_is_better=None)
    assert m.note == "5 request(s) outside the mapped districts are not drawn."
    parts = m.parts
    assert parts["html"].count('class="folium-map"') == 1
    body = parts["header"] + parts["html"] + parts["script"]
    for forbidden in ("<script src", "<link", "cdn", "http://", "https://"):
        assert forbidden not in body.lower()
    assert "stat-legend" in parts["script"]
    svg = m.svg()
    assert svg.lstrip().startswith("<svg")
    assert "Requests" in m.legend  # the legend prints as HTML beside or under the map


def test_choropleth_escapes_district_names_in_tooltips_and_legend(council):
    districts = council.copy()
    districts.loc[0, "label"] = EVIL
    values = pd.DataFrame({"key": districts["key"], "v": np.linspace(0.5, 1, len(districts))})
    m = maps.choropleth(districts, values, value="v", title=EVIL, value_title=EVIL)
    payload = m.payload()
    assert payload.pop("title") == EVIL  # plain text; every HTML field below is escaped
    text = m.parts["script"] + m.parts["html"] + json.dumps(payload)
    assert EVIL not in text
    assert "&lt;script&gt;" in payload["caption"] and "&lt;script&gt;" in payload["legend"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in m.parts["script"].replace(
        "\\u0026", "&")


def test_choropleth_marks_districts_without_values_as_no_data(council):
    values = pd.DataFrame({"key": council["key"][:3], "v": [0.2, 0.5, 0.8]})
    m = maps.choropleth(council, values, value="v", title="t")
    assert "no data" in m.parts["script"]
    assert maps.NO_DATA in m.parts["script"]


def test_density_map_counts_missing_coordinates(la311):
    m = maps.density_map(la311)
    missing = int(la311[["lat", "lon"]].isna().any(axis=1).sum())
    assert missing > 0
    assert m.note == f"{missing:,} request(s) without coordinates are not shown."


def test_density_map_without_coordinates_is_a_clear_error():
    with pytest.raises(StatLibError, match="no requests with coordinates"):
        maps.density_map(pd.DataFrame({"lat": [None], "lon": [None]}))


def test_overdue_map_caps_points_escapes_popups_and_counts_the_rest(council):
    # 5 requests: one without coordinates, max_points=3 -> 3 drawn, 1 less overdue not drawn.
    req = pd.DataFrame({"lat": [34.05, 34.06, None, 34.07, 34.08],
                        "lon": [-118.25, -118.26, -118.2, -118.27, -118.28],
                        "request_id": ["a", "b", "c", "d", "e"],
                        "service_name": ["Bulky Items"] * 5,
                        "address": [EVIL, "1 Main St", "x", "y", "z"],
                        "days_overdue": [9.0, 1.0, 5.0, 7.0, 3.0]})
    m = maps.overdue_map(req, districts=council, max_points=3)
    assert m.note == "3 of 5 shown (1 without coordinates; 1 less overdue not drawn)."
    script = m.parts["script"]
    assert EVIL not in script
    # the three most overdue located requests: a (9), d (7), e (3); b (1) is not drawn
    assert script.count("Request: a") == 1 and "Request: b" not in script
    assert "markerClusterGroup" in script


def test_standalone_html_inlines_leaflet_and_fetches_nothing(council):
    values = pd.DataFrame({"key": council["key"], "v": 1.0})
    page = maps.choropleth(council, values, value="v", title="t").standalone_html()
    assert "<script src" not in page and "<link" not in page
    assert page.count("L.MarkerClusterGroup=") + page.count("MarkerClusterGroup = L.") >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}%#-\n\r ab", max_size=20))
def test_element_text_renders_as_jinja_renders_it(text):
    # folium wraps each rendered script in Element(text): text without jinja syntax skips the
    # compile; whatever the text, the result is what jinja makes of it (or the same error)
    import jinja2
    try:
        expected = jinja2.Template(text).render(this=None, kwargs={})
    except jinja2.TemplateError as exc:
        with pytest.raises(type(exc)):
            maps._element_template(text).render(this=None, kwargs={})
    else:
        assert maps._element_template(text).render(this=None, kwargs={}) == expected


def test_element_text_without_jinja_syntax_is_not_compiled():
    assert isinstance(maps._element_template("var a = 1;\n"), maps._Text)
    assert not isinstance(maps._element_template("{{ x }}\n"), maps._Text)
    assert not isinstance(maps._element_template("a\r\nb"), maps._Text)  # jinja: "a\nb"


def test_maps_render_the_same_with_jinja_compiling_every_element(council, la311, monkeypatch):
    import branca.element
    import jinja2
    pages = []
    for template in (maps._element_template, jinja2.Template):
        monkeypatch.setattr(branca.element, "Template", template)
        made = [maps.choropleth(council, council[["key"]].assign(v=0.5), value="v", title="T"),
                maps.overdue_map(la311.assign(days_overdue=3.0).head(50), districts=council)]
        pages.append([p.map.get_root().render() for p in made])
    # each map's element ids are random: compare with the ids of the first map of each pair
    ids = [re.findall(r"_([0-9a-f]{32})", p) for run in pages for p in run]
    masked = [[re.sub("|".join(dict.fromkeys(i)), "ID", p) if i else p
               for p, i in zip(run, ids[k * 2:k * 2 + 2])] for k, run in enumerate(pages)]
    assert masked[0] == masked[1]
    assert "L.map(" in masked[0][0] and "fast_marker_cluster" in masked[0][1]
