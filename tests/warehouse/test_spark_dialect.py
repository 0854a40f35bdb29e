"""The Spark dialect gives what the DuckDB dialect gives, method by method.

Each case renders one query per dialect over the same table (loaded into DuckDB and into
Spark in local mode), runs it on its engine and compares the rows. The cases that need
Spark are marked ``spark``; the rest check the Spark spellings' own rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest

from sentinelle.ingest.cleaning import (
    DATE_RE,
    DECIMAL_RE,
    EMAIL_RE,
    PHONE_LAYOUT_RE,
    TIMESTAMP_RE,
)
from sentinelle.resolve.clusters import subject_id
from sentinelle.warehouse.dialect import DUCKDB, Dialect, UnsupportedByEngine
from sentinelle.warehouse.spark import collect
from sentinelle.warehouse.spark_dialect import SPARK, split_order

COLUMNS = ("id INT, s STRING, ts_text STRING, raw STRING, off INT, zone STRING, "
           "a STRING, b STRING, x DOUBLE, e DOUBLE, g INT, k STRING, k2 DOUBLE")
DUCK_COLUMNS = COLUMNS.replace("STRING", "VARCHAR").replace(" INT,", " INTEGER,")

# Times are naive UTC, as in the warehouse; `raw` is the text they were read from.
# Daylight-saving changes: Paris 2024-03-31 01:00Z, New York 2024-03-10 07:00Z,
# Sydney (ends) 2024-04-06 16:00Z, London (ends) 2024-10-27 01:00Z; Manila has none.
ROWS: list[tuple[Any, ...]] = [
    (1, "12.50", "2024-03-31 00:30:00", "2024-03-31T00:30:00Z", 0, "Europe/Paris",
     "dubois", "martin dubois", 2.675, 1711845000.0, 1, "b", 1.0),
    (2, "12.5.0", "2024-03-31 01:30:00", "2024-03-31T01:30:00Z", 0, "Europe/Paris",
     "delacruz", "santos delacruz", 0.125, 1700000000.25, 1, "a", 2.0),
    (3, "2024-01-05", "2024-03-10 06:30:00", "2024-03-10T06:30:00Z", 0, "America/New_York",
     "smith", "reyes", -0.001, 1.0000015, 1, "c", 2.0),
    (4, "a.b@example.org", "2024-03-10 07:30:00", "2024-03-10T07:30:00Z", 0,
     "America/New_York", "", "", 1234567.891, 0.0, 1, "a", None),
    (5, "x@y", "2024-04-06 15:30:00", "2024-04-06T15:30:00Z", 0, "Australia/Sydney",
     None, "garcia", 0.0, None, 2, "z", 5.5),
    (6, "2024-03-31T02:30:00+02:00", "2024-04-06 16:30:00", "2024-04-06T16:30:00z", 0,
     "Australia/Sydney", "garcia lopez", "lopez", -0.0, 1e9 + 0.5e-6, 2, None, 1.5),
    (7, "@some_handle", "2024-10-27 00:30:00", "2024-10-27T00:30:00Z", 0, "Europe/London",
     "a  b", "b", 0.5, -86400.75, 2, "y", -3.0),
    (8, "pay @x", "2024-10-27 01:30:00", "2024-10-27T01:30:00Z", 0, "Europe/London",
     "santos", "santos", 2.5, 2.5e-6, 3, "m", 0.0),
    (9, "+33 6 12-34 (56).78/9", "2024-03-31 16:00:00", "2024-03-31T16:00:00Z", 0,
     "Asia/Manila", "reyes cruz", "cruz reyes", 1.005, 3.5e-6, 3, "l", 0.5),
    (10, "12\n", "2024-03-31 00:30:00", "2024-03-31T02:30:00+02:00", 120, "Asia/Manila",
     "x", "y", 99.995, None, 3, "n", None),
    (11, "2024-01-05 10:00:00.5", "2024-03-10 06:30:00", "2024-03-10T01:30:00-05:00", -300,
     "America/New_York", None, None, 1e20, None, 4, None, None),
    (12, "2024-02-30", "2024-06-01 12:00:00.25", "2024-06-01T17:30:00.25+05:30", 330,
     "Asia/Kolkata", "o'brien", "o'brien", -2.5, None, 5, "q", 1.0),
    (13, "2024-01-05 10:00", "2024-06-01 12:00:00", "2024-06-01T12:00:00", None, None,
     "x", "x", 1e-7, None, 5, "p", 2.0),
    (14, None, None, None, None, "Asia/Manila", "x", None, None, None, 5, "r", 3.0),
    (15, "12.34567", "2024-01-01 23:59:59.999999", "2024-01-01T23:59:59.999999Z", 0,
     "Asia/Bangkok", "ü", "ü", 7.0, None, 6, None, None),
    (16, "-12.5", "2024-03-10 07:00:00", "2024-03-10T07:00:00Z", 0, "America/New_York",
     "b", "a", 12.345, None, 7, "x", 2.0),
    (17, "12.5", "2024-03-31 01:00:00", "2024-03-31T01:00:00Z", 0, "Europe/Paris",
     "b", "a", 1.5, None, 7, "b", 3.0),
]
TABLE = """SELECT id, s, CAST(ts_text AS TIMESTAMP) AS ts, raw, off, zone, a, b, x, e, g, k, k2
FROM raw_t"""


@dataclass(frozen=True)
class Case:
    """One dialect method's expression, per row of ``t`` (keyed by id) or per group
    (keyed by g); every case of a kind goes into one query, so that each engine runs a
    handful of queries rather than one per case."""

    description: str
    expr: Callable[[Dialect], str]
    per: str = "row"
    compare: Callable[[Any], Any] = lambda v: v


def as_text(expr: Callable[[Dialect], str]) -> Callable[[Dialect], str]:
    """Timestamps are compared as text: PySpark would turn them into datetimes in the
    Python process's own time zone."""
    return lambda d: d.cast(expr(d), "VARCHAR")


def written_by_sender(d: Dialect) -> str:
    """The compiler's rule: a Z says UTC, not where the payer was (offset unknown)."""
    return f"CASE WHEN {d.ends_with('raw', ('Z', 'z'))} THEN NULL ELSE off END"


RECORD = "('beneficiary:' || coalesce(a, 'none') || ':' || id)"
CASES = [
    Case("a literal with a quote and a backslash",
         lambda d: d.literal(chr(92) + "d it" + chr(39) + "s")),
    Case("regex_match: decimal amounts, whole text", lambda d: d.regex_match("s", DECIMAL_RE)),
    Case("regex_match: dates", lambda d: d.regex_match("s", DATE_RE)),
    Case("regex_match: e-mail", lambda d: d.regex_match("s", EMAIL_RE)),
    Case("regex_match: anchored timestamps", lambda d: d.regex_match("s", TIMESTAMP_RE)),
    Case("regex_match: a social-media handle, whole description",
         lambda d: d.regex_match("s", r"@[A-Za-z0-9_.]{2,40}")),
    Case("regex_replace_all: phone layout removed",
         lambda d: d.regex_replace_all("s", PHONE_LAYOUT_RE, "")),
    Case("regex_replace_all: groups swapped, a dollar kept",
         lambda d: d.regex_replace_all("s", r"(\d)(\d)", r"\2\1$")),
    Case("regex_groups: date, time, offset (empty when absent)",
         lambda d: "concat_ws('|', " + ", ".join(
             f"({d.regex_groups('s', TIMESTAMP_RE, ['d', 't', 'o'])}).{n}"
             for n in "dto") + ")"),
    Case("try_cast: text to DECIMAL(18,4), rounded", lambda d: d.try_cast("s", "DECIMAL(18,4)")),
    Case("try_cast: text to DATE", lambda d: d.try_cast("s", "DATE")),
    Case("try_cast: text to TIMESTAMP, a written offset ignored",
         as_text(lambda d: d.try_cast("s", "TIMESTAMP"))),
    Case("try_cast: text to INTEGER, '12.5' rounded away from zero",
         lambda d: d.try_cast("s", "INTEGER")),
    Case("cast: a number to text", lambda d: d.cast("id", "VARCHAR")),
    Case("minus_minutes: local time less its offset",
         as_text(lambda d: d.minus_minutes("ts", "off"))),
    Case("row_hash: half of the MD5, as an unsigned number",
         lambda d: d.row_hash("coalesce(s, '')"), compare=lambda v: int(v)),
    Case("subject_id: from a record id", lambda d: d.subject_id(RECORD)),
    Case("timestamp_from_epoch: fractions, rounding half to even, before 1970",
         as_text(lambda d: d.timestamp_from_epoch("e"))),
    Case("ends_with: one-letter suffixes", lambda d: d.ends_with("raw", ("Z", "z"))),
    Case("ends_with: longer suffixes", lambda d: d.ends_with("raw", ("00", "+02:00"))),
    Case("epoch_seconds: with the fraction", lambda d: d.epoch_seconds("ts")),
    Case("local_hour: offset when written, else the zone with its daylight saving",
         lambda d: d.local_hour("ts", written_by_sender(d), "zone")),
    Case("local_hour: from the zone alone, across daylight-saving changes",
         lambda d: d.local_hour("ts", "CAST(NULL AS INTEGER)", "zone")),
    Case("words_overlap: surnames sharing a word", lambda d: d.words_overlap("a", "b")),
    Case("fixed: 2 decimals, ties on the exact binary value", lambda d: d.fixed("x", 2)),
    Case("fixed: 0 decimals", lambda d: d.fixed("x", 0)),
    Case("fixed: 1 decimal of a percentage", lambda d: d.fixed("100.0 * x", 1)),
    Case("signed: 2 decimals, sign always shown", lambda d: d.signed("x", 2)),
    Case("signed: 0 decimals", lambda d: d.signed("x", 0)),
    Case("distinct_text_agg: the same values, sorted",
         lambda d: d.distinct_text_agg("k", ", "), per="group"),
    Case("arg_max: the value at the largest key",
         lambda d: d.arg_max("k", "coalesce(k2, -9.0)", "id"), per="group"),
    Case("arg_max: ties on the key broken by the tiebreak",
         lambda d: d.arg_max("id", "g", "id"), per="group"),
    Case("sorted_distinct_list: sorted, NULLs left out",
         lambda d: d.sorted_distinct_list("k"), per="group", compare=lambda v: list(v)),
    Case("text_list: a list of text, NULLs kept", lambda d: d.text_list("a", "b"),
         compare=lambda v: list(v)),
    Case("text_list: empty", lambda d: d.text_list(), compare=lambda v: list(v)),
    Case("statement: a share of decimal literals averaged in DOUBLE, not to 5 decimals",
         lambda d: d.statement("avg(CASE WHEN id % 3 = 0 THEN 1.0 ELSE 0.0 END)"),
         per="group", compare=lambda v: round(float(v), 12)),
    Case("ordered_text_agg: by one key, NULL values skipped",
         lambda d: d.ordered_text_agg("k", "x", ", "), per="group"),
    Case("ordered_text_agg: descending then ascending, NULL keys last",
         lambda d: d.ordered_text_agg("k || ':' || id", "k2 DESC, k", "; "), per="group"),
    Case("ordered_text_agg: an expression with commas as the key",
         lambda d: d.ordered_text_agg("k", "coalesce(k2, 9.0), id DESC", " and "),
         per="group"),
    # Entity resolution's records and levels (resolve/records.py, linkage.py).
    Case("words, sorted and joined: a name key",
         lambda d: d.join_words(d.sorted_list(d.words("b")))),
    Case("without: a name's words less one", lambda d: d.join_words(d.without(d.words("b"), "a"))),
    Case("contains_all: one name's words all in another's, NULL for a NULL",
         lambda d: d.contains_all(d.words("b"), d.words("a"))),
    Case("lists_overlap: NOT of it matches a missing second list, not a missing first",
         lambda d: f"NOT ({d.lists_overlap(d.words('a'), d.words('b'))})"),
    Case("edit_distance: Damerau-Levenshtein, NULL for a NULL",
         lambda d: d.edit_distance("a", "b"), compare=lambda v: v if v is None else int(v)),
    # Compared to the threshold the name level reads, as it is used: the two engines'
    # values differ on some texts (see DuckDBDialect.jaro_winkler).
    Case("jaro_winkler: at or above 0.92, NULL for a NULL",
         lambda d: f"{d.jaro_winkler('a', 'b')} >= 0.92"),
    Case("spellings: the text and each text one letter shorter, [NULL] for a NULL",
         lambda d: d.spellings("a"), compare=lambda v: list(v)),
]


def wide_query(dialect: Dialect, per: str) -> str:
    """Every case of a kind as one column of one query."""
    cols = ", ".join(f"{c.expr(dialect)} AS c{i}" for i, c in enumerate(CASES) if c.per == per)
    if per == "row":
        return f"SELECT id, {cols} FROM t ORDER BY id"
    return f"SELECT g, {cols} FROM t GROUP BY g ORDER BY g"


def by_case(rows: list[tuple[Any, ...]], per: str) -> dict[str, list[tuple[Any, Any]]]:
    """Rows of (key, one column per case) → each case's (key, value) list."""
    cases = [c for c in CASES if c.per == per]
    return {c.description: [(row[0], c.compare(row[1 + i])) for row in rows]
            for i, c in enumerate(cases)}


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # as the warehouse connection does
    con.execute(f"CREATE TABLE raw_t ({DUCK_COLUMNS})")
    con.executemany(f"INSERT INTO raw_t VALUES ({', '.join('?' * len(ROWS[0]))})", ROWS)
    con.execute(f"CREATE VIEW t AS {TABLE}")
    yield con
    con.close()


@pytest.fixture(scope="module")
def on_spark(spark: Any) -> Any:
    from sentinelle.resolve.spark_run import add_similarity_functions

    add_similarity_functions(spark)  # for edit_distance and jaro_winkler
    spark.createDataFrame(ROWS, COLUMNS).createOrReplaceTempView("raw_t")
    spark.sql(f"CREATE OR REPLACE TEMP VIEW t AS {TABLE}")
    spark.sql("CACHE TABLE t")  # read by every query below
    return spark


def run_duckdb(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def run_spark(spark: Any, sql: str) -> list[tuple[Any, ...]]:
    return collect(spark, sql)


@pytest.fixture(scope="module")
def results(duck: duckdb.DuckDBPyConnection, on_spark: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"duckdb": {}, "spark": {}}
    for per in ("row", "group"):
        out["duckdb"].update(by_case(run_duckdb(duck, wide_query(DUCKDB, per)), per))
        out["spark"].update(by_case(run_spark(on_spark, wide_query(SPARK, per)), per))
    return out


@pytest.mark.spark
@pytest.mark.parametrize("case", CASES, ids=[c.description for c in CASES])
def test_the_two_dialects_agree(case: Case, results: dict[str, Any]) -> None:
    expected = results["duckdb"][case.description]
    assert results["spark"][case.description] == expected
    assert any(v is not None for _, v in expected)  # the case exercised something


# Hours where the payer was, worked out by hand from the zones' rules.
LOCAL_HOURS = {1: 1, 2: 3, 3: 1, 4: 3, 5: 2, 6: 2, 7: 1, 8: 1, 9: 0, 10: 2, 11: 1, 12: 17,
               13: None, 14: None, 15: 6, 16: 3, 17: 3}


@pytest.mark.spark
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_local_hours_are_right_not_only_equal(engine: str, results: dict[str, Any]) -> None:
    got = results[engine]["local_hour: offset when written, else the zone with its daylight saving"]
    assert dict(got) == LOCAL_HOURS


@pytest.mark.spark
def test_subject_ids_are_those_of_resolution(results: dict[str, Any]) -> None:
    a = {r[0]: r[6] for r in ROWS}
    got = results["spark"]["subject_id: from a record id"]
    assert got == [(i, subject_id(f"beneficiary:{'none' if a[i] is None else a[i]}:{i}"))
                   for i, _ in got]


@pytest.mark.spark
def test_row_hash_is_duckdbs_md5_number_lower(results: dict[str, Any]) -> None:
    s = {r[0]: r[1] or "" for r in ROWS}
    got = results["spark"]["row_hash: half of the MD5, as an unsigned number"]
    assert got == [(i, int.from_bytes(hashlib.md5(s[i].encode()).digest()[8:], "little"))
                   for i, _ in got]


@pytest.mark.spark
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_temp_table_is_replaced_after_a_drop(engine: str, duck: duckdb.DuckDBPyConnection,
                                               on_spark: Any) -> None:
    dialect: Dialect = DUCKDB if engine == "duckdb" else SPARK

    def run(sql: str) -> list[tuple[Any, ...]]:
        return run_duckdb(duck, sql) if engine == "duckdb" else run_spark(on_spark, sql)

    run(dialect.drop_temp_table("tt_probe"))
    run(dialect.temp_table("tt_probe", "SELECT count(*) AS n FROM t"))
    run(dialect.temp_view("tv_probe", "SELECT n + 1 AS n FROM tt_probe"))
    assert run("SELECT n FROM tv_probe") == [(len(ROWS) + 1,)]
    run(dialect.drop_temp_table("tt_probe"))
    run(dialect.temp_table("tt_probe", "SELECT count(*) AS n FROM t WHERE g = 1"))
    assert run("SELECT n FROM tt_probe") == [(4,)]
    run(dialect.drop_temp_table("tt_probe"))


# --- the Spark spellings' own rules (no engine needed) --------------------------------

@pytest.mark.parametrize(("order", "expected"), [
    ("k2", [("k2", False, False)]),
    ("via DESC, value", [("via", True, False), ("value", False, False)]),
    ("coalesce(a, 'x,y') desc nulls first, b ASC", [("coalesce(a, 'x,y')", True, True),
                                                     ("b", False, False)]),
], ids=["one key", "desc then asc", "commas inside a call and a literal"])
def test_order_lists_are_split_on_top_level_commas(
        order: str, expected: list[tuple[str, bool, bool]]) -> None:
    assert split_order(order) == expected


@pytest.mark.parametrize("sql_type", ["TIME", "TIMESTAMPTZ", "uuid"])
def test_a_type_spark_lacks_is_refused_by_name(sql_type: str) -> None:
    with pytest.raises(UnsupportedByEngine) as raised:
        SPARK.cast("x", sql_type)
    assert "spark" in str(raised.value) and sql_type in str(raised.value)


def test_re2_only_regex_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedByEngine, match="spark"):
        SPARK.regex_match("x", r"a\Cb")


def test_spark_literals_escape_what_spark_reads_as_escapes() -> None:
    assert SPARK.literal("it's") == r"'it\'s'"
    assert SPARK.literal(r"\d") == r"'\\d'"
    assert DUCKDB.literal("it's") == "'it''s'"



@pytest.mark.parametrize(("sql", "read"), [
    ("avg(CASE WHEN x THEN 1.0 ELSE 0.0 END)", "avg(CASE WHEN x THEN 1.0D ELSE 0.0D END)"),
    ("least(1.0, n / 5.0) * .5 + 2.5e-3", "least(1.0D, n / 5.0D) * .5D + 2.5e-3D"),
    ("1e-05 + 3 + DECIMAL(18, 2)", "1e-05 + 3 + DECIMAL(18, 2)"),
    ("'EUR 1.50 it\\'s 2.0' || `col 1.0` || t.c_1", "'EUR 1.50 it\\'s 2.0' || `col 1.0` || t.c_1"),
])
def test_spark_reads_decimal_literals_as_double(sql: str, read: str) -> None:
    """Numbers in the text, outside strings and names, and only those with a point."""
    assert SPARK.statement(sql) == read
    assert DUCKDB.statement(sql) == sql
