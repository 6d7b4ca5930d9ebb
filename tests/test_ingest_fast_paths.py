"""The ingest's fast SQL paths give exactly what the plain expressions they replace give."""

from __future__ import annotations

import duckdb
import pytest

from stat_lib.ingest import requests as ingest_mod

# every ASCII character, the Unicode space separators trim drops and a few it keeps
EDGES = [chr(c) for c in range(1, 128)] + ["\u00a0", "\u2003", "\u3000", "\u200b", "é", "—"]


def _values() -> list:
    core = ["", "a", "a b", "SR-1", "12.0"]
    out = [None] + core
    out += [e + c + f for c in core for e in EDGES for f in ("", e)]
    out += [c + e for c in core for e in EDGES]
    return out


def test_trimmed_equals_nullif_trim_on_every_edge_character():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in _values()])
    diff = con.execute(f"SELECT v FROM t WHERE ({ingest_mod._trimmed('v')}) IS DISTINCT FROM "
                       f"NULLIF(trim(v), '')").fetchall()
    assert diff == []
    # the fast path is taken for most values, and trim really strips some of them
    assert con.execute("SELECT count(*) FROM t WHERE trim(v) <> v").fetchall()[0][0] > 20


@pytest.mark.parametrize("value, expected", [(" a ", "a"), ("\u3000a", "a"), ("", None),
                                             ("\ta", "\ta"), ("a", "a"), (None, None)])
def test_trimmed_examples(value, expected):
    con = duckdb.connect()
    got = con.execute(f"SELECT {ingest_mod._trimmed('v')} FROM (SELECT ?::VARCHAR AS v)",
                      [value])
    assert got.fetchall()[0][0] == expected
