"""Matching source values to params keys: department codes and fallback district values.

Both sides of a match go through the same SQL expression, so ``"PARKS,"`` meets ``Parks``
(a source's ``department_match``) and ``06`` meets ``6`` (districts, always).
"""

from __future__ import annotations

from ..core.errors import SourceError

TRAILING = r"[\s[:punct:]]+$"


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def department_key(value: str, match) -> str:
    """SQL: the key a department value is matched by under a source's ``department_match``
    (``None``: the value verbatim)."""
    if match is None:
        return value
    if match.pattern:
        group = 1 if "(" in match.pattern.replace(r"\(", "") else 0
        value = f"NULLIF(regexp_extract({value}, {_lit(match.pattern)}, {group}), '')"
    if match.normalise:
        value = f"upper(regexp_replace(trim({value}), {_lit(TRAILING)}, ''))"
    return value


def department_map(con, source, name: str, index: int) -> str:
    """A temp table ``(code, slug)`` keyed as the source's values will be; codes of two
    departments that become one key are a ``SourceError``."""
    key = department_key("code", source.department_match)
    table = f"dept_key_{int(index)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {key} AS code, "
                f"min(slug) AS slug, list(DISTINCT slug ORDER BY slug) AS slugs, "
                f"list(DISTINCT code ORDER BY code) AS codes FROM dept_map GROUP BY 1")
    clash = con.execute(f"SELECT code, slugs, codes FROM {table} WHERE len(slugs) > 1").fetchall()
    if clash:
        said = "; ".join(f"{', '.join(map(repr, c))} of {', '.join(s)} all become {k!r}"
                         for k, s, c in clash)
        raise SourceError(f"source {name!r}: with its department_match, source_codes of "
                          f"different departments match the same value: {said}. Fix: make "
                          f"the codes distinct or drop 'normalise'",
                          key="sources[].department_match")
    return table


def district_key(value: str) -> str:
    """SQL: a district value compared ignoring case, spaces around it and leading zeros."""
    return f"regexp_replace(lower(trim({value})), '^0+([0-9])', '\\1')"


def district_lookup(con, boundary, keys) -> str:
    """A temp table ``(k, key)``: a source value's ``district_key`` -> the layer's key, from
    the boundary's ``source_values`` map first, then the layer's own keys."""
    import pyarrow as pa
    pairs = [(v, k, 0) for v, k in boundary.source_values.items()]
    pairs += [(k, k, 1) for k in map(str, keys)]
    table = f"dmatch_{boundary.layer}"
    con.register("dmatch_arrow", pa.table({
        "raw": pa.array([p[0] for p in pairs], pa.string()),
        "key": pa.array([p[1] for p in pairs], pa.string()),
        "rank": pa.array([p[2] for p in pairs], pa.int8())}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {district_key('raw')} AS k, "
                f"arg_min(key, (rank, key)) AS key FROM dmatch_arrow GROUP BY 1")
    con.unregister("dmatch_arrow")
    return table


def unmatched_districts(con, params, table: str, where: str = "true") -> dict:
    """Layer -> ``[(source_index, value, rows)]`` of fallback values no key matches, in
    ``table`` (``src_<layer>`` columns; the ``dmatch_<layer>`` tables must exist). Rows are
    counted per value first, so ``district_key``'s regex runs once per distinct value."""
    out = {}
    for b in params.city.boundaries:
        if not b.source_column:
            continue
        out[b.layer] = con.execute(
            f"SELECT c.source_index, c.v, c.n FROM (SELECT r.source_index, r.src_{b.layer} AS v, "
            f"count(*) AS n FROM {table} r WHERE ({where}) AND r.src_{b.layer} IS NOT NULL "
            f"GROUP BY ALL) c LEFT JOIN dmatch_{b.layer} m ON m.k = {district_key('c.v')} "
            f"WHERE m.key IS NULL ORDER BY 3 DESC, 2").fetchall()
    return out
