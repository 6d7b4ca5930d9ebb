"""The packet charts' data transformer gives exactly altair's values (and types) for every
kind of column, on its fast path and through altair's own."""

import json

import numpy as np
import pandas as pd
import pytest
from altair.utils.data import MaxRowsError, to_values

from stat_lib.present import chart_data

FAST = {
    "floats, NaN and infinities": pd.DataFrame({"a": [1.5, np.nan, np.inf, -np.inf, -0.0]}),
    "int64": pd.DataFrame({"a": [1, 2, 3]}),
    "int32": pd.DataFrame({"a": np.array([1, 2], dtype="int32")}),
    "uint8": pd.DataFrame({"a": np.array([1, 255], dtype="uint8")}),
    "bool": pd.DataFrame({"a": [True, False]}),
    "text with None": pd.DataFrame({"a": ["x", None, "z"]}),
    "str with NaN": pd.DataFrame({"a": pd.Series(["x", np.nan], dtype="str")}),
    "string with NA": pd.DataFrame({"a": pd.Series(["x", None], dtype="string")}),
    "mixed, other index": pd.DataFrame({"a": [1.0, 2.0], "b": ["u", "v"], "c": [1, 2],
                                        "d": [True, False]}, index=[5, 7]),
}
ALTAIRS = {  # left to altair: pandas re-infers object columns first ("x", None -> "x", NaN)
    "object text and None": pd.DataFrame({"a": pd.Series(["x", None], dtype=object)}),
    "object ints and None": pd.DataFrame({"a": pd.Series([1, None], dtype=object)}),
    "object floats and NaN": pd.DataFrame({"a": pd.Series([1.5, np.nan], dtype=object)}),
    "object mixed": pd.DataFrame({"a": pd.Series(["x", 1, 2.5, True, None], dtype=object)}),
    "float32": pd.DataFrame({"a": np.array([0.1, np.nan], dtype="float32")}),
    "nullable Int64": pd.DataFrame({"a": pd.Series([1, None], dtype="Int64")}),
    "category": pd.DataFrame({"a": pd.Categorical(["x", "y", "x"])}),
    "dates": pd.DataFrame({"a": pd.to_datetime(["2026-10-01", None])}),
    "dates with a zone": pd.DataFrame({"a": pd.to_datetime(["2026-10-01"]).tz_localize(
        "America/Los_Angeles")}),
    "no columns": pd.DataFrame(index=range(2)),
}


def typed(result: dict) -> str:
    """The values with each value's Python type: NaN and None, 1 and 1.0 and True differ."""
    return json.dumps([[(k, repr(v), type(v).__name__) for k, v in row.items()]
                       for row in result["values"]])


@pytest.mark.parametrize("name", sorted(FAST))
def test_fast_path_gives_altairs_values(name):
    frame = FAST[name]
    assert chart_data._columns(frame, 5000) is not None  # really the fast path
    assert typed(chart_data.values(frame)) == typed(to_values(frame.copy()))


@pytest.mark.parametrize("name", sorted(ALTAIRS))
def test_other_frames_go_through_altair(name):
    frame = ALTAIRS[name]
    assert chart_data._columns(frame, 5000) is None
    assert typed(chart_data.values(frame)) == typed(to_values(frame.copy()))


def test_floats_become_none_where_json_has_no_number():
    got = chart_data.values(pd.DataFrame({"v": [0.25, np.nan, np.inf], "k": ["a", "b", "c"]}))
    assert got == {"values": [{"v": 0.25, "k": "a"}, {"v": None, "k": "b"},
                              {"v": None, "k": "c"}]}


def test_too_many_rows_raise_altairs_error():
    with pytest.raises(MaxRowsError):
        chart_data.values(pd.DataFrame({"a": range(5001)}))


def test_packet_charts_use_it():
    import altair as alt

    from stat_lib.present import charts  # noqa: F401  (enables it at import)
    assert alt.data_transformers.active == chart_data.NAME
