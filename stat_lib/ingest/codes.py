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


def department_map(con, source, name: str) -> str:
    """A temp table ``(code, slug)`` keyed as the source's values will be; codes of two
    departments that become one key are a ``SourceError``."""
    key = department_key("code", source.department_match)
    table = f"dept_key_{name}"
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
