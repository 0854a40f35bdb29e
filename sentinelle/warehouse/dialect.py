"""What differs between the SQL engines Sentinelle compiles its declarations for.

Only the differences live here; everything else is plain SQL shared by every engine.
DuckDB is the default; Spark SQL is added by the scale-out work and must implement
the same methods (or raise ``UnsupportedByEngine`` naming the engine and function).
"""

from __future__ import annotations

from typing import Protocol

from sentinelle.errors import SentinelleError


class UnsupportedByEngine(SentinelleError):
    """The engine lacks a function a declaration needs."""


def quote_ident(name: str) -> str:
    """A column name as an SQL identifier. Names come from the model or are generated."""
    return '"' + name.replace('"', '""') + '"'


def string_literal(text: str) -> str:
    """A literal from the model declaration (never from user input: bind those)."""
    return "'" + text.replace("'", "''") + "'"


class Dialect(Protocol):
    """What every engine's dialect spells: the type SQL compilers take (DuckDBDialect and
    warehouse.spark_dialect.SparkDialect both satisfy it)."""

    name: str

    def literal(self, text: str) -> str: ...
    def ident(self, name: str) -> str: ...
    def statement(self, sql: str) -> str: ...
    def cast(self, expr: str, sql_type: str) -> str: ...
    def sql_type(self, sql_type: str) -> str: ...
    def regex_match(self, expr: str, pattern: str) -> str: ...
    def regex_replace_all(self, expr: str, pattern: str, replacement: str) -> str: ...
    def try_cast(self, expr: str, sql_type: str) -> str: ...
    def minus_minutes(self, ts_expr: str, minutes_expr: str) -> str: ...
    def regex_groups(self, expr: str, pattern: str, names: list[str]) -> str: ...
    def row_hash(self, expr: str) -> str: ...
    def temp_table(self, name: str, select: str) -> str: ...
    def drop_temp_table(self, name: str) -> str: ...
    def temp_view(self, name: str, select: str) -> str: ...
    def subject_id(self, record_expr: str) -> str: ...
    def timestamp_from_epoch(self, seconds_expr: str) -> str: ...
    def ends_with(self, expr: str, suffixes: tuple[str, ...]) -> str: ...
    def epoch_seconds(self, ts_expr: str) -> str: ...
    def local_hour(self, ts_expr: str, offset_expr: str, zone_expr: str) -> str: ...
    def words_overlap(self, a_expr: str, b_expr: str) -> str: ...
    def fixed(self, expr: str, digits: int) -> str: ...
    def distinct_text_agg(self, expr: str, separator: str) -> str: ...
    def signed(self, expr: str, digits: int) -> str: ...
    def ordered_text_agg(self, expr: str, order_expr: str, separator: str) -> str: ...
    def arg_max(self, value: str, key: str, tiebreak: str) -> str: ...
    def sorted_distinct_list(self, expr: str) -> str: ...
    def text_list(self, *exprs: str) -> str: ...
    def param(self, name: str) -> str: ...
    def json_object(self, pairs: list[tuple[str, str]]) -> str: ...
    def round_to(self, expr: str, digits: int) -> str: ...
    def words(self, expr: str) -> str: ...
    def join_words(self, list_expr: str) -> str: ...
    def sorted_list(self, list_expr: str) -> str: ...
    def without(self, list_expr: str, value_expr: str) -> str: ...
    def contains_all(self, list_expr: str, other_expr: str) -> str: ...
    def lists_overlap(self, a_expr: str, b_expr: str) -> str: ...
    def edit_distance(self, a_expr: str, b_expr: str) -> str: ...
    def jaro_winkler(self, a_expr: str, b_expr: str) -> str: ...
    def spellings(self, expr: str) -> str: ...
    def each(self, list_expr: str) -> str: ...


class DuckDBDialect:
    name = "duckdb"

    def literal(self, text: str) -> str:
        """A string literal from a declaration (engines escape differently)."""
        return string_literal(text)

    def ident(self, name: str) -> str:
        return quote_ident(name)

    def statement(self, sql: str) -> str:
        """A compiled statement as this engine must read it (DuckDB: as written)."""
        return sql

    def cast(self, expr: str, sql_type: str) -> str:
        return f"CAST({expr} AS {sql_type})"

    def sql_type(self, sql_type: str) -> str:
        """A type named as the model and compilers name it (DuckDB's names)."""
        return sql_type

    def regex_match(self, expr: str, pattern: str) -> str:
        return f"regexp_full_match({expr}, {string_literal(pattern)})"

    def regex_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return (
            f"regexp_replace({expr}, {string_literal(pattern)}, "
            f"{string_literal(replacement)}, 'g')"
        )

    def try_cast(self, expr: str, sql_type: str) -> str:
        return f"TRY_CAST({expr} AS {sql_type})"

    def minus_minutes(self, ts_expr: str, minutes_expr: str) -> str:
        return f"({ts_expr} - ({minutes_expr}) * INTERVAL 1 MINUTE)"

    def regex_groups(self, expr: str, pattern: str, names: list[str]) -> str:
        """A struct of the pattern's groups, by name (empty strings when no match)."""
        listed = ", ".join(string_literal(n) for n in names)
        return f"regexp_extract({expr}, {string_literal(pattern)}, [{listed}])"

    def row_hash(self, expr: str) -> str:
        """A stable 64-bit digest of a row's raw text (half of its MD5). It is only ever
        compared between rows with the same key, where 64 bits leave no practical chance
        of a collision, and it is half the size of the full digest to store."""
        return f"md5_number_lower({expr})"

    # --- detection -------------------------------------------------------------------
    def temp_table(self, name: str, select: str) -> str:
        """A statement that (re)creates a session-scoped table from a query; Spark would
        cache a temporary view instead."""
        return f"CREATE OR REPLACE TEMP TABLE {name} AS {select}"

    def drop_temp_table(self, name: str) -> str:
        """Drops a table ``temp_table`` made, if there is one (never a stored table)."""
        return f"DROP TABLE IF EXISTS temp.main.{name}"

    def temp_view(self, name: str, select: str) -> str:
        """A session-scoped view: read where it is used, never stored."""
        return f"CREATE OR REPLACE TEMP VIEW {name} AS {select}"

    def subject_id(self, record_expr: str) -> str:
        """A subject id from a record id: ``subj-`` and 16 hex digits of its MD5, so the
        same record gives the same id on every engine and every run."""
        return f"('subj-' || left(md5({record_expr}), 16))"

    def timestamp_from_epoch(self, seconds_expr: str) -> str:
        return f"make_timestamp(CAST({seconds_expr} * 1000000 AS BIGINT))"

    def ends_with(self, expr: str, suffixes: tuple[str, ...]) -> str:
        listed = ", ".join(string_literal(x) for x in suffixes)
        return f"right({expr}, 1) IN ({listed})" if all(len(x) == 1 for x in suffixes) \
            else " OR ".join(f"ends_with({expr}, {string_literal(x)})" for x in suffixes)

    def epoch_seconds(self, ts_expr: str) -> str:
        return f"epoch({ts_expr})"

    def local_hour(self, ts_expr: str, offset_expr: str, zone_expr: str) -> str:
        """The hour on the wall clock where the payer was: from the UTC offset written in
        the timestamp when there is one, else from the time zone (with its daylight-saving
        rules) of the payer's country. ``offset_expr`` is NULL when the offset is unknown."""
        return (f"CASE WHEN {offset_expr} IS NOT NULL "
                f"THEN hour({ts_expr} + {offset_expr} * INTERVAL 1 MINUTE) "
                f"ELSE hour(timezone({zone_expr}, {ts_expr}::TIMESTAMPTZ)) END")

    def words_overlap(self, a_expr: str, b_expr: str) -> str:
        """Whether two space-separated word lists share a word (surnames: particles are
        glued to their word when names are folded, so 'delacruz' matches 'delacruz')."""
        return f"list_has_any(string_split({a_expr}, ' '), string_split({b_expr}, ' '))"

    def fixed(self, expr: str, digits: int) -> str:
        """A number as text with a fixed number of decimals, for reasons."""
        return f"printf('%.{int(digits)}f', CAST({expr} AS DOUBLE))"

    def distinct_text_agg(self, expr: str, separator: str) -> str:
        """The distinct values, sorted: without ORDER BY DuckDB lists them in whatever
        order its hash table gives, and a reason must read the same on every run and
        engine."""
        return f"string_agg(DISTINCT {expr}, {string_literal(separator)} ORDER BY {expr})"

    def signed(self, expr: str, digits: int) -> str:
        """A number as text with its sign always shown (+0.21, -0.05)."""
        return f"printf('%+.{int(digits)}f', CAST({expr} AS DOUBLE))"

    def ordered_text_agg(self, expr: str, order_expr: str, separator: str) -> str:
        """Ties of ``order_expr`` by the value itself, as Spark's spelling breaks them."""
        return (f"string_agg({expr}, {string_literal(separator)} "
                f"ORDER BY {order_expr}, {expr})")

    def arg_max(self, value: str, key: str, tiebreak: str) -> str:
        """``value`` from the row with the largest ``key``; among rows with the same key,
        the one with the largest ``tiebreak`` (max_by alone picks any of them)."""
        return f"max_by({value}, {{'k': {key}, 't': {tiebreak}}})"

    def sorted_distinct_list(self, expr: str) -> str:
        """An aggregate: the distinct non-NULL values as a sorted list."""
        return f"list_sort(list_distinct(list({expr})))"

    def text_list(self, *exprs: str) -> str:
        """A list of text values (possibly empty)."""
        return "[" + ", ".join(exprs) + "]"

    # --- ingestion -------------------------------------------------------------------
    def param(self, name: str) -> str:
        """A named parameter, bound when the statement runs (a value a user gave)."""
        return f"${name}"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object of (key, value) text expressions, in order, NULL values kept as
        ``null``, written without spaces: ``{"a":"x","b":null}``."""
        return "json_object(" + ", ".join(f"{k}, {v}" for k, v in pairs) + ")"

    def round_to(self, expr: str, digits: int) -> str:
        """A DOUBLE rounded to ``digits`` decimals as DuckDB does: the exact binary value
        times 10^digits, rounded half away from zero (1.005 → 1.0: it is 1.00499…)."""
        return f"round({expr}, {int(digits)})"

    # --- entity resolution: records and the linkage model's levels --------------------
    def words(self, expr: str) -> str:
        """A text's words as a list, split on each space (names are folded to single
        spaces at ingest)."""
        return f"string_split({expr}, ' ')"

    def join_words(self, list_expr: str) -> str:
        """A list of words as one text, joined by spaces."""
        return f"array_to_string({list_expr}, ' ')"

    def sorted_list(self, list_expr: str) -> str:
        return f"list_sort({list_expr})"

    def without(self, list_expr: str, value_expr: str) -> str:
        """The list's elements that differ from a value (none when the value is NULL)."""
        return f"list_filter({list_expr}, lambda w: w <> {value_expr})"

    def contains_all(self, list_expr: str, other_expr: str) -> str:
        """Whether every element of ``other_expr`` is in ``list_expr`` (NULL when either
        list is NULL)."""
        return f"list_has_all({list_expr}, {other_expr})"

    def lists_overlap(self, a_expr: str, b_expr: str) -> str:
        """Whether two lists without NULL elements share one: NULL when the first is
        NULL, false when only the second is (``list_intersect`` with a NULL second list
        is empty), so ``NOT`` of it matches a missing second list, not a missing first."""
        return f"len(list_intersect({a_expr}, {b_expr})) >= 1"

    def edit_distance(self, a_expr: str, b_expr: str) -> str:
        """Damerau-Levenshtein distance (NULL when either is NULL)."""
        return f"damerau_levenshtein({a_expr}, {b_expr})"

    def jaro_winkler(self, a_expr: str, b_expr: str) -> str:
        """Jaro-Winkler similarity, 0 to 1 (0 for an empty text, NULL for a NULL). Spark's
        (Splink's jar) counts transpositions otherwise on some texts ("reyes cruz" and
        "cruz reyes": 0.475 here, 0.517 there): compare it to a threshold only."""
        return f"jaro_winkler_similarity({a_expr}, {b_expr})"

    def spellings(self, expr: str) -> str:
        """A text and each text one letter shorter (the letter at 1, 2, ... dropped): two
        texts one slip apart (a letter dropped, added, changed or two swapped) share one
        of them."""
        return (f"list_append(list_transform(range(1, length({expr}) + 1), lambda i: "
                f"substr({expr}, 1, i - 1) || substr({expr}, i + 1)), {expr})")

    def each(self, list_expr: str) -> str:
        """In a SELECT list: one row per element of the list (none for an empty list)."""
        return f"unnest({list_expr})"


DUCKDB = DuckDBDialect()
