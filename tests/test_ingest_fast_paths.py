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


FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]


def _dates() -> list:
    stems = ["2025-01-02T03:04:05", "2025-01-02 03:04:05.123", "01/02/2025 03:04:05",
             "01/02/2025 03:04:05 PM", "2025-01-02", "01/02/2025", "03:04"]
    ends = ["", "Z", "z", " Z", "+05:30", "-08:00", "-0800", "+05", " -08", "+5", "PM", "Z "]
    out = [s + e for s in stems for e in ends]
    return out + [s + e for s in stems for e in EDGES] + ["", "Z", "+", None]


def _regex_only(value: str) -> str:
    """The date expression before the cheap pre-check (the reference)."""
    fmts = "[" + ", ".join(ingest_mod._lit(f) for f in FORMATS) + "]"
    return (f"CASE WHEN regexp_matches({value}, {ingest_mod._lit(ingest_mod.OFFSET_RX)}) THEN "
            f"try_cast({value} AS TIMESTAMPTZ) ELSE timezone('America/Los_Angeles', "
            f"coalesce(try_strptime({value}, {fmts}), try_cast({value} AS TIMESTAMP))) END")


def test_offset_pre_check_holds_wherever_the_regex_matches():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'; CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in _dates()])
    rx = ingest_mod._lit(ingest_mod.OFFSET_RX)
    missed = con.execute(f"SELECT v FROM t WHERE regexp_matches(v, {rx}) AND NOT "
                         f"{ingest_mod._may_have_offset('v')}").fetchall()
    assert missed == []
    fast = ingest_mod._timestamp("v", "VARCHAR", "America/Los_Angeles", FORMATS)
    diff = con.execute(f"SELECT v FROM t WHERE ({fast}) IS DISTINCT FROM ({_regex_only('v')})"
                       ).fetchall()
    assert diff == []
    # the regex path is really taken, and the pre-check really skips values
    assert con.execute(f"SELECT count(*) FROM t WHERE regexp_matches(v, {rx})"
                       ).fetchall()[0][0] > 20
    assert con.execute(f"SELECT count(*) FROM t WHERE NOT {ingest_mod._may_have_offset('v')}"
                       ).fetchall()[0][0] > 50


@pytest.mark.parametrize("value, utc", [
    ("2025-01-02T03:04:05Z", "2025-01-02 03:04:05"),
    ("2025-01-02 03:04:05-08:00", "2025-01-02 11:04:05"),
    ("2025-01-02 03:04:05+0530", "2025-01-01 21:34:05"),
    ("01/02/2025 03:04:05 PM", "2025-01-02 23:04:05"),  # PST: UTC-8
    ("07/02/2025 03:04:05 AM", "2025-07-02 10:04:05"),  # PDT: UTC-7
    ("2025-07-02 03:04:05", "2025-07-02 10:04:05"),
    ("not a date", None)])
def test_timestamp_examples(value, utc):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expr = ingest_mod._timestamp("v", "VARCHAR", "America/Los_Angeles", FORMATS)
    got = con.execute(f"SELECT strftime(({expr})::TIMESTAMPTZ, '%Y-%m-%d %H:%M:%S') "
                      f"FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()[0][0]
    assert got == utc


def test_unmatched_districts_per_value_equals_the_per_row_query():
    from types import SimpleNamespace

    from stat_lib.ingest import codes
    con = duckdb.connect()
    council = SimpleNamespace(layer="council", source_column="CD",
                              source_values={"Downtown": "14"})
    codes.district_lookup(con, council, ["1", "2", "14"])
    rows = [(i % 2, v) for i, v in enumerate(
        ["01", "1", " 2 ", "002", "7", "7", "07", "x", "X", None, "downtown", "14", "15", "15",
         "15", "0"] * 3)]
    con.execute("CREATE TABLE t (source_index INT, src_council VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    params = SimpleNamespace(city=SimpleNamespace(boundaries=[council]))
    got = codes.unmatched_districts(con, params, "t", "r.source_index >= 0")
    want = con.execute(
        f"SELECT r.source_index, r.src_council, count(*) FROM t r LEFT JOIN dmatch_council m "
        f"ON m.k = {codes.district_key('r.src_council')} WHERE r.src_council IS NOT NULL "
        f"AND m.key IS NULL GROUP BY ALL ORDER BY 3 DESC, 2").fetchall()
    assert sorted(got["council"]) == sorted(want)
    assert got["council"][0] == (0, "15", 6)  # most rows first
    # worked by hand: the list has even length, so position p is always source p % 2; "01",
    # " 2 ", "002" and "downtown" match a key (leading zeros, spaces, case, source_values)
    assert sorted(want) == [(0, "07", 3), (0, "15", 6), (0, "7", 3), (0, "X", 3), (1, "0", 3),
                            (1, "15", 3), (1, "7", 3), (1, "x", 3)]
