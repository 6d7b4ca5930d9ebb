"""Small-count suppression: primary and complementary, proved by brute force on small tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stat_lib.metrics.suppression import TOTAL, determined, pinned, suppress


def grid(rows: dict[str, list[int]], districts=None) -> pd.DataFrame:
    districts = districts or [f"d{i + 1}" for i in range(len(next(iter(rows.values()))))]
    return pd.DataFrame.from_dict(rows, orient="index", columns=districts)


def compositions(total: int, k: int):
    """Every way to write ``total`` as ``k`` non-negative integers."""
    if k == 0:
        if total == 0:
            yield ()
        return
    for first in range(total + 1):
        for rest in compositions(total - first, k - 1):
            yield (first, *rest)


def feasible_values(s) -> dict[tuple[int, int], set[int]]:
    """By brute force: every value each withheld cell can take in a table of non-negative
    integers that shows exactly the published cells and whose rows and columns add up.

    Department rows are enumerated (their totals are published); the city row follows from
    the columns and must match what it publishes."""
    v, w = s.values.to_numpy(), s.withheld.to_numpy()
    n_dept, n_cols = v.shape[0] - 1, v.shape[1] - 1
    options = []
    for r in range(n_dept):
        cols = [c for c in range(n_cols) if w[r, c]]
        rest = v[r, -1] - sum(v[r, c] for c in range(n_cols) if not w[r, c])
        options.append([(cols, comp) for comp in compositions(rest, len(cols))])
    seen: dict[tuple[int, int], set[int]] = {tuple(map(int, x)): set()
                                              for x in zip(*np.nonzero(w))}
    for choice in itertools.product(*options):
        table = v[:-1, :-1].copy()
        for r, (cols, comp) in enumerate(choice):
            table[r, cols] = comp
        city = table.sum(axis=0)
        if any(not w[-1, c] and city[c] != v[-1, c] for c in range(n_cols)):
            continue
        if not w[-1, -1] and city.sum() != v[-1, -1]:
            continue
        for (r, c) in seen:
            seen[(r, c)].add(int(table[r, c]) if r < n_dept else int(city[c]))
    return seen


def test_one_small_cell_gets_a_rectangle_of_complements():
    # A: 5 20 30 | 55      the 5 is withheld (primary); alone in row A -> A/d2 (20, the
    # B: 15 25 40 | 80     smallest of the row); column d1 then holds only A/d1 -> B/d1 (15,
    #    20 45 70 | 135    less than the total 20); rows come first, and row B now holds
    #                      only B/d1 -> B/d2 (25, less than 40).
    # Rows A, B and columns d1, d2 each hide two cells: x1+x2=25, y1+y2=40, x1+y1=20,
    # x2+y2=45 has rank 3 for 4 unknowns, so no cell is fixed.
    s = suppress(grid({"A": [5, 20, 30], "B": [15, 25, 40]}), 10, table="t", period="2026-10")
    hidden = {(r, c) for r, c in zip(*np.nonzero(s.withheld.to_numpy()))}
    assert hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert s.log_frame().to_dict("records") == [
        {"table": "t", "period": "2026-10", "row": "A", "column": "d1",
         "reason": "primary: a count of 1 to 10"},
        {"table": "t", "period": "2026-10", "row": "A", "column": "d2",
         "reason": "complementary: else A / d1 could be worked out from its row"},
        {"table": "t", "period": "2026-10", "row": "B", "column": "d1",
         "reason": "complementary: else A / d1 could be worked out from its column"},
        {"table": "t", "period": "2026-10", "row": "B", "column": "d2",
         "reason": "complementary: else B / d1 could be worked out from its row"}]
    pub = s.published()
    assert pub.loc["A", TOTAL] == 55 and pub.loc[TOTAL, TOTAL] == 135  # totals published
    assert pub.loc[TOTAL, "d1"] == 20 and pd.isna(pub.loc["A", "d1"])
    assert all(len(vals) >= 2 for vals in feasible_values(s).values())


def test_zero_is_published_and_a_small_district_total_is_withheld():
    # d2's city total is 3 (2 + 1): primary, as are A/d2 = 2 and B/d2 = 1. Column d2 then
    # hides all three and the city row hides one (TOTAL/d2) -> TOTAL/d1 (40) is withheld
    # with it... but then A/d1 and B/d1 are not hidden, so TOTAL/d1 = 12 + 28 is worked
    # out; the linear check finds it and withholds more. Whatever is added, the brute force
    # must find at least two values for every withheld cell.
    s = suppress(grid({"A": [12, 2, 0], "B": [28, 1, 0]}), 10)
    assert not s.withheld.loc["A", "d3"] and s.values.loc["A", "d3"] == 0
    assert s.withheld.loc["A", "d2"] and s.withheld.loc["B", "d2"] and \
        s.withheld.loc[TOTAL, "d2"]
    assert determined(s.withheld.to_numpy(), s.values.to_numpy()) == []
    assert all(len(vals) >= 2 for vals in feasible_values(s).values())


def test_brute_force_catches_an_unprotected_cell():
    # the check itself can fail: with only the primary cell withheld, row A gives it away
    s = suppress(grid({"A": [5, 20], "B": [15, 25]}), 10)
    s.withheld.loc[:, :] = False
    s.withheld.loc["A", "d1"] = True
    assert feasible_values(s) == {(0, 0): {5}}
    assert determined(s.withheld.to_numpy(), s.values.to_numpy()) == [(0, 0)]


counts = st.integers(min_value=0, max_value=9)


@pytest.mark.slow  # over ~1.5 s: 150 random tables, each solved and brute-forced
@settings(max_examples=150)
@given(st.integers(2, 3).flatmap(lambda cols: st.lists(
    st.lists(counts, min_size=cols, max_size=cols), min_size=1, max_size=3)))
def test_no_withheld_cell_can_be_worked_out(rows):
    """Random small tables (2-3 districts), threshold 3: published district cells are 0 or
    above 3, and
    every withheld cell takes at least two values among the tables the published cells allow.
    (One district only: its cell is its department's total, which is withheld too.)"""
    s = suppress(grid({f"r{i}": r for i, r in enumerate(rows)}), 3)
    v, w = s.values.to_numpy(), s.withheld.to_numpy()
    shown = v[:, :-1][~w[:, :-1]]
    assert ((shown == 0) | (shown > 3)).all()
    assert not w[:, -1].any()  # department and city totals are always published
    for cell, vals in feasible_values(s).items():
        assert len(vals) >= 2, (cell, vals, s.values, s.withheld)


def test_a_department_with_one_small_district_is_covered_by_its_zeros():
    # found by hypothesis: r1's only request is in d1 and its total (1) is published, so d1
    # would be 1 - 0 unless a zero of r1 is withheld too, with its column's zero total
    s = suppress(grid({"r0": [0, 0], "r1": [1, 0], "r2": [3, 0]}), 3)
    assert not s.withheld.iloc[:, -1].any()  # department totals stay published
    assert all(len(v) >= 2 for v in feasible_values(s).values())
    assert not s.withheld.loc["r0"].any()  # r0's zeros follow from its total of 0: published


def test_a_count_pinned_by_non_negativity_is_covered_too():
    # found by hypothesis: with only the equations r0: d1 + d3 = 1, r1: d1' + d3' = 1 and
    # d3: d3 + d3' + 4 = 6 leave both d3 cells open; but counts are never negative, so each
    # is at most 1 and both are 1 (and both d1 cells 0): r2's 4 in d3 must be withheld too
    table = grid({"r0": [0, 0, 1], "r1": [0, 0, 1], "r2": [1, 1, 4]})
    s = suppress(table, 3)
    assert all(len(v) >= 2 for v in feasible_values(s).values()), s.withheld
    assert s.withheld.loc["r2", "d3"]
    assert any(e["row"] == "r2" and e["column"] == "d3" and e["reason"].startswith(
        "complementary") for e in s.log)
    # the check itself: before that cover, both d3 cells were pinned
    w = s.withheld.to_numpy().copy()
    w[2, 2] = False
    assert pinned(w, s.values.to_numpy()) == [(0, 2), (1, 2)]
