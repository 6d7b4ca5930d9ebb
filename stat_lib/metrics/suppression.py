"""Small-count suppression for published location tables (the public edition).

A published table is a department x district grid of counts with its totals: each department's
total over the districts (published: it is the scorecard's figure), each district's total over
the departments (the city by district) and the city total (published). That is the declared
hierarchy, city > department > district, one table per period and boundary layer.

Rules (the health-data convention):

- **primary**: a district cell or district total of 1 to ``withhold_up_to`` (default 10) is
  withheld; zeros are published;
- **complementary**: more cells are withheld until no withheld cell can be worked out from the
  published ones and the table's equations (every row and column adds up to its total). First
  every row or column with exactly one withheld cell gets a second: its smallest published cell
  (non-zero first). Then a cell is still worked out when its unit vector lies in the row space
  of the equations restricted to the withheld cells (exact linear algebra on the small grid);
  each such cell gets the smallest published cell of its row or column withheld too. Last,
  counts are never negative, which can pin a cell the equations alone leave open (``r0: x + y
  = 1``, ``r1: x' + y' = 1``, ``y + y' = 2`` give ``y = y' = 1``): a cell whose smallest and
  largest possible values (:func:`pinned`, linear programs) are equal is covered the same
  way. Only counts need that cover: a withheld 0 the equations give away reveals nothing, and such
  zeros are published again at the end (the same information: no other cell changes).

Every withheld cell is logged with its reason (:attr:`Suppressed.log`), never its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TOTAL = "(all)"  # the label of a total row or column
LOG_COLUMNS = ["table", "period", "row", "column", "reason"]


@dataclass
class Suppressed:
    """A table with its totals and which cells are withheld.

    ``values`` holds every count (rows: departments then ``TOTAL``; columns: districts then
    ``TOTAL``); ``withheld`` is a same-shaped bool frame; ``log`` one dict per withheld cell
    (``table, period, row, column, reason``).
    """

    values: pd.DataFrame
    withheld: pd.DataFrame
    log: list[dict] = field(default_factory=list)

    def published(self) -> pd.DataFrame:
        """``values`` with withheld cells as ``<NA>`` (nullable integers)."""
        return self.values.astype("Int64").mask(self.withheld)

    def log_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.log, columns=LOG_COLUMNS)


def with_totals(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` (departments x districts, counts) plus a ``TOTAL`` row and column."""
    out = cells.astype(int).copy()
    out[TOTAL] = out.sum(axis=1)
    out.loc[TOTAL] = out.sum(axis=0)
    return out


def suppress(cells: pd.DataFrame, withhold_up_to: int = 10, *, table: str = "",
             period: str = "") -> Suppressed:
    """Withhold small counts of ``cells`` and enough others that none can be worked out.

    Parameters
    ----------
    cells : DataFrame
        Department rows x district columns of non-negative counts (no totals).
    withhold_up_to : int
        Counts 1 to this are withheld (primary suppression).
    table, period : str
        Names for the log.
    """
    values = with_totals(cells)
    fixed = _fixed(values)
    withheld = pd.DataFrame(False, index=values.index, columns=values.columns)
    log = []
    for r, c in zip(*np.nonzero(((values >= 1) & (values <= withhold_up_to)).to_numpy())):
        if not fixed[r, c]:
            withheld.iat[r, c] = True
            log.append(_entry(values, table, period, r, c,
                              f"primary: a count of 1 to {withhold_up_to}"))
    while True:
        single = _single_line(withheld.to_numpy(), fixed, values.to_numpy())
        # a withheld 0 worked out reveals nothing (zeros are published): only counts need cover
        exposed = [single] if single else [(cell, None) for cell in
                                            determined(withheld.to_numpy(), values.to_numpy())
                                            if values.iat[cell] > 0]
        if not exposed:  # the equations leave it open; with counts never negative?
            exposed = [(cell, None) for cell in pinned(withheld.to_numpy(),
                                                       values.to_numpy(), first=True)]
        if not exposed:
            break
        (r, c), in_row = exposed[0]
        pick = _complement(values.to_numpy(), withheld.to_numpy(), fixed, r, c, in_row)
        withheld.iat[pick] = True
        why = "its row" if in_row else "its column" if in_row is False else "the totals"
        log.append(_entry(values, table, period, *pick,
                          f"complementary: else {_name(values, r, c)} could be worked out "
                          f"from {why}"))
    _publish_given_zeros(values, withheld, log)
    return Suppressed(values, withheld, log)


def _publish_given_zeros(values: pd.DataFrame, withheld: pd.DataFrame, log: list) -> None:
    """Publish the withheld zeros the equations give away anyway: the same information, so
    no other cell's possible values change."""
    given = [cell for cell in determined(withheld.to_numpy(), values.to_numpy())
             if values.iat[cell] == 0]
    names = {(str(values.index[r]), str(values.columns[c])) for r, c in given}
    for cell in given:
        withheld.iat[cell] = False
    log[:] = [e for e in log if (e["row"], e["column"]) not in names]


def _fixed(values: pd.DataFrame) -> np.ndarray:
    """Cells that are always published: the departments' totals and the city total."""
    fixed = np.zeros(values.shape, dtype=bool)
    fixed[:, -1] = True
    return fixed


def _single_line(withheld: np.ndarray, fixed: np.ndarray, values: np.ndarray):
    """``((r, c), in_row)``: a withheld count (not a 0) alone in its row (``in_row`` True) or
    column, whose line has a cell left to withhold; ``None`` when there is none."""
    free = ~withheld & ~fixed
    counts = withheld & (values > 0)
    for in_row, lines, frees, mine in ((True, withheld, free, counts),
                                       (False, withheld.T, free.T, counts.T)):
        for i, line in enumerate(lines):
            if line.sum() == 1 and mine[i].any() and frees[i].any():
                j = int(np.flatnonzero(line)[0])
                return ((i, j) if in_row else (j, i)), in_row
    return None


def _name(values: pd.DataFrame, r: int, c: int) -> str:
    return f"{values.index[r]} / {values.columns[c]}"


def _entry(values, table, period, r, c, reason) -> dict:
    return {"table": table, "period": period, "row": str(values.index[r]),
            "column": str(values.columns[c]), "reason": reason}


def equations(shape: tuple[int, int]) -> np.ndarray:
    """The table's equations over its flattened cells (totals last in each row and column):
    every row's cells minus its total, every column's cells minus its total, each = 0."""
    n_rows, n_cols = shape
    eqs = []
    for r in range(n_rows):
        e = np.zeros(shape)
        e[r, :-1], e[r, -1] = 1, -1
        eqs.append(e.ravel())
    for c in range(n_cols):
        e = np.zeros(shape)
        e[:-1, c], e[-1, c] = 1, -1
        eqs.append(e.ravel())
    return np.array(eqs)


def determined(withheld: np.ndarray, values: np.ndarray) -> list[tuple[int, int]]:
    """Withheld cells whose value follows from the published cells and the equations.

    Counts are never negative: an equation whose withheld cells all add (no withheld total)
    and sum to 0 gives each of them away as 0; those count as published from then on. With the
    published cells known, the other withheld ones satisfy ``A x = b`` (``A``: the equations'
    columns of those cells); cell ``u`` is fixed by it exactly when ``u`` is zero in every
    vector of the null space of ``A``.
    """
    eqs = equations(withheld.shape)
    unknown = withheld.ravel().copy()
    flat = values.ravel()
    zeros = np.zeros_like(unknown)
    while True:  # zero-sum equations of non-negative cells
        coef = eqs * unknown
        one_signed = ~(coef < 0).any(axis=1) & (coef > 0).any(axis=1)
        hit = one_signed & ((coef * flat).sum(axis=1) == 0)
        if not hit.any():
            break
        new = (np.abs(eqs[hit]) > 0).any(axis=0) & unknown
        if not new.any():
            break
        zeros = zeros | new
        unknown = unknown & ~new
    cols = withheld.shape[1]
    out = [(int(i // cols), int(i % cols)) for i in np.flatnonzero(zeros)]
    idx = np.flatnonzero(unknown)
    if len(idx) == 0:
        return out
    a = eqs[:, idx]
    _, s, vh = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vh[rank:].T  # columns: a basis of the null space
    free = np.abs(null).max(axis=1) > 1e-9 if null.size else np.zeros(len(idx), dtype=bool)
    return out + [(int(i // cols), int(i % cols)) for i, f in zip(idx, free) if not f]


def pinned(withheld: np.ndarray, values: np.ndarray, first: bool = False
           ) -> list[tuple[int, int]]:
    """Withheld counts (not zeros) whose value the published cells, the equations and
    non-negativity pin down: the smallest and the largest value a cell can take, each a linear
    program, are equal. (A row and column sums table is totally unimodular, so these bounds
    are whole numbers and "at least two values" is exactly min < max.) ``first``: stop at
    the first such cell."""
    from scipy.optimize import linprog
    eqs, known = equations(withheld.shape), ~withheld.ravel()
    flat = values.ravel().astype(float)
    idx = np.flatnonzero(~known)
    a, b = eqs[:, idx], -(eqs[:, known] @ flat[known])
    cols, out = withheld.shape[1], []
    for k, i in enumerate(idx):
        if flat[i] == 0:
            continue  # a withheld 0 worked out reveals nothing
        if all(_bound(linprog, a, b, k, sign) == flat[i] for sign in (-1, 1)):
            out.append((int(i // cols), int(i % cols)))
            if first:
                break
    return out


def _bound(linprog, a, b, k: int, sign: int) -> float:
    """The largest (``sign`` -1) or smallest (1) value of unknown ``k`` with ``a x = b``,
    ``x >= 0``, rounded to a whole count."""
    objective = np.zeros(a.shape[1])
    objective[k] = sign
    res = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    return float(round(sign * res.fun))


def _complement(values, withheld, fixed, r, c, in_row=None) -> tuple[int, int]:
    """The smallest published cell of the row (``in_row``), the column (``False``) or either
    (``None``) of cell ``(r, c)``, non-zero first; if there is none, the smallest published
    cell anywhere, then a total as a last resort."""
    line = np.zeros(values.shape, dtype=bool)
    if in_row is not False:
        line[r, :] = True
    if in_row is not True:
        line[:, c] = True
    for allowed in (line & ~fixed, ~fixed, line, np.ones_like(line)):
        open_ = allowed & ~withheld
        if open_.any():
            keys = np.where(open_, (values == 0) * 1e12 + values, np.inf)
            return tuple(int(x) for x in np.unravel_index(np.argmin(keys), values.shape))
    raise ValueError("every cell is withheld and one is still exposed")  # cannot happen
