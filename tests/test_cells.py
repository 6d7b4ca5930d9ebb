"""Spreadsheet-safe cells: no text written to a CSV or workbook runs as a formula."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from stat_lib.core.cells import FORMULA_START, safe_frame, safe_text
from stat_lib.metrics.tidy import to_csv


def test_formula_text_gets_an_apostrophe_and_plain_text_does_not():
    assert safe_text('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [safe_text(t) for t in ("+1", "-x", "@SUM(A1)", "\tx")] == ["'+1", "'-x",
                                                                      "'@SUM(A1)", "'\tx"]
    assert safe_text("Bureau of Sanitation") == "Bureau of Sanitation"
    assert safe_text(-3) == -3 and safe_text(-0.5) == -0.5 and safe_text(None) is None


@given(st.lists(st.text(max_size=12), min_size=1, max_size=8),
       st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=8))
def test_no_cell_starts_a_formula_and_numbers_are_unchanged(texts, numbers):
    n = min(len(texts), len(numbers))
    frame = pd.DataFrame({"name": texts[:n], "value": numbers[:n]})
    out = safe_frame(frame)
    assert not out["name"].str.startswith(FORMULA_START).any()
    assert out["value"].tolist() == frame["value"].tolist()
    assert (out["name"].str.lstrip("'") == frame["name"].str.lstrip("'")).all()


def test_metrics_csv_never_carries_a_live_formula_from_params():
    table = pd.DataFrame({"department": ["x"], "department_name": ['=HYPERLINK("http://e","a")'],
                          "value": [-12.5], "label": ["-change"]})
    back = pd.read_csv(io.StringIO(to_csv(table)))
    assert back.loc[0, "department_name"] == '\'=HYPERLINK("http://e","a")'
    assert back.loc[0, "label"] == "'-change"
    assert back.loc[0, "value"] == -12.5  # a number stays a number
