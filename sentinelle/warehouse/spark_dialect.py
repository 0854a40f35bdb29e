"""Spark SQL spellings of what ``dialect.DuckDBDialect`` spells for DuckDB.

Each method gives, for the same inputs, the same value as its DuckDB twin
(tests/warehouse/test_spark_dialect.py runs both on one table and compares). Two things
the session must provide: ``spark.sql.session.timeZone`` = UTC (``spark.local_session``
sets it), so that a TIMESTAMP is naive UTC as in the warehouse, and string literals
written with ``literal`` — Spark reads a backslash as an escape and ``'it''s'`` as two
adjacent literals ('its'), so ``dialect.string_literal`` is wrong here.
"""

from __future__ import annotations

import re

from sentinelle.warehouse.dialect import Dialect, UnsupportedByEngine

# DuckDB type names Spark spells differently; types Spark lacks are refused by name.
_TYPES = {"VARCHAR": "STRING", "TEXT": "STRING", "UBIGINT": "DECIMAL(20,0)",
          "HUGEINT": "DECIMAL(38,0)", "UINTEGER": "BIGINT", "REAL": "FLOAT"}
_INTEGERS = ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT")
_MISSING_TYPES = ("TIME", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "UUID", "INTERVAL", "BLOB")
# A number written with a decimal point, outside quotes and names (1.0, .5, 2.5e-3).
_SQL_TOKENS = re.compile(r"""'(?:[^'\\]|\\.)*'|`[^`]*`|[A-Za-z_][A-Za-z0-9_$]*"""
                         r"""|(\d+\.\d*|\.\d+)([eE][+-]?\d+)?(?![A-Za-z0-9_])""")
_ORDER_TERM = re.compile(r"^(.*?)(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(FIRST|LAST))?$",
                         re.IGNORECASE | re.DOTALL)


def spark_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def decimal_literals_as_double(sql: str) -> str:
    """``1.0`` → ``1.0D``, outside string literals and names. Both engines read ``1.0`` as
    a DECIMAL, but DuckDB divides and averages decimals in DOUBLE, where Spark keeps a
    DECIMAL of bounded scale: ``avg(CASE WHEN x THEN 1.0 ELSE 0.0 END)`` is 0.33333 on
    Spark and 0.333… on DuckDB. Declarations are written with such literals, so the
    statement is read with them as DOUBLE, which gives DuckDB's numbers to the last bits."""
    def one(m: re.Match[str]) -> str:
        return m.group(0) + "D" if m.group(1) is not None else m.group(0)
    return _SQL_TOKENS.sub(one, sql)


def _java_replacement(replacement: str) -> str:
    """An RE2 replacement (DuckDB: ``\\1`` is a group, ``\\\\`` a backslash) in Java's
    syntax (``$1`` is a group, ``\\$`` a dollar)."""
    out, i = [], 0
    while i < len(replacement):
        ch = replacement[i]
        nxt = replacement[i + 1] if i + 1 < len(replacement) else ""
        if ch == "\\" and nxt.isdigit():
            out.append("$" + nxt)
            i += 2
            continue
        if ch == "\\" and nxt == "\\":
            out.append("\\\\")
            i += 2
            continue
        out.append("\\$" if ch == "$" else ch)
        i += 1
    return "".join(out)


def _java_pattern(pattern: str) -> str:
    """RE2 and Java agree on the patterns declarations use; RE2's ``(?P<name>`` is
    Java's ``(?<name>``, and what Java cannot do is refused rather than misread."""
    if r"\C" in pattern:
        raise UnsupportedByEngine("spark has no equivalent of RE2's \\C (any byte)",
                                  value=pattern)
    return pattern.replace("(?P<", "(?<")


def split_order(order_expr: str) -> list[tuple[str, bool, bool]]:
    """``a DESC, coalesce(b, 'x')`` → [(expr, descending, nulls_first)], split on the
    commas outside parentheses and quotes. DuckDB puts NULLs last in both directions."""
    terms, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(order_expr):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            terms.append(order_expr[start:i])
            start = i + 1
    terms.append(order_expr[start:])
    out = []
    for term in terms:
        m = _ORDER_TERM.match(term.strip())
        assert m is not None  # the pattern matches any text
        out.append((m.group(1), (m.group(2) or "").upper() == "DESC",
                    (m.group(3) or "").upper() == "FIRST"))
    return out


class SparkDialect:
    name = "spark"

    def literal(self, text: str) -> str:
        return spark_literal(text)

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def statement(self, sql: str) -> str:
        return decimal_literals_as_double(sql)

    def _type(self, sql_type: str) -> str:
        key = " ".join(sql_type.upper().split())
        if key in _MISSING_TYPES:
            raise UnsupportedByEngine(f"spark has no SQL type {sql_type}", value=sql_type,
                                      fix="keep the value as text or as seconds")
        if key.endswith("[]"):  # DuckDB's list type
            return f"ARRAY<{self._type(key[:-2])}>"
        return _TYPES.get(key, sql_type)

    def cast(self, expr: str, sql_type: str) -> str:
        return f"CAST({expr} AS {self._type(sql_type)})"

    def sql_type(self, sql_type: str) -> str:
        return self._type(sql_type)

    def regex_match(self, expr: str, pattern: str) -> str:
        # RLIKE finds a match anywhere; DuckDB's regexp_full_match needs the whole text,
        # and \z (not $) so that a trailing newline does not pass.
        whole = "^(?:" + _java_pattern(pattern) + r")\z"
        return f"({expr} RLIKE {spark_literal(whole)})"

    def regex_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return (f"regexp_replace({expr}, {spark_literal(_java_pattern(pattern))}, "
                f"{spark_literal(_java_replacement(replacement))})")

    def try_cast(self, expr: str, sql_type: str) -> str:
        """Text to a type, NULL when it does not parse. DuckDB rounds the text '12.5' to
        the integer 13 (half away from zero) where Spark would truncate to 12."""
        target = self._type(sql_type)
        key = " ".join(target.upper().split())
        if key in _INTEGERS:
            return f"TRY_CAST(round(TRY_CAST({expr} AS DECIMAL(38,9))) AS {target})"
        if key == "TIMESTAMP":
            # DuckDB reads the wall-clock time and ignores an offset or zone written after
            # it; Spark's TIMESTAMP would apply it, its TIMESTAMP_NTZ ignores it too.
            return f"CAST(TRY_CAST({expr} AS TIMESTAMP_NTZ) AS TIMESTAMP)"
        return f"TRY_CAST({expr} AS {target})"

    def minus_minutes(self, ts_expr: str, minutes_expr: str) -> str:
        return f"({ts_expr} - ({minutes_expr}) * INTERVAL '1' MINUTE)"

    def regex_groups(self, expr: str, pattern: str, names: list[str]) -> str:
        p = spark_literal(_java_pattern(pattern))
        fields = ", ".join(f"{spark_literal(n)}, regexp_extract({expr}, {p}, {i})"
                           for i, n in enumerate(names, start=1))
        return f"named_struct({fields})"

    def row_hash(self, expr: str) -> str:
        """DuckDB's md5_number_lower: bytes 9-16 of the MD5 read little-endian, as an
        unsigned 64-bit number (DECIMAL(20,0) here: Spark has no unsigned BIGINT)."""
        h = f"md5({expr})"
        little_endian = ", ".join(f"substr({h}, {31 - 2 * i}, 2)" for i in range(8))
        return f"CAST(conv(concat({little_endian}), 16, 10) AS DECIMAL(20,0))"

    # --- detection -------------------------------------------------------------------
    def temp_table(self, name: str, select: str) -> str:
        """A cached temporary view. Spark cannot replace one in the same statement, nor
        define one from itself: run ``drop_temp_table`` first, and give a table that
        reads its previous version a new name."""
        return f"CACHE TABLE {name} AS {select}"

    def drop_temp_table(self, name: str) -> str:
        return f"DROP VIEW IF EXISTS {name}"  # a dropped temporary view is uncached too

    def temp_view(self, name: str, select: str) -> str:
        return f"CREATE OR REPLACE TEMP VIEW {name} AS {select}"

    def subject_id(self, record_expr: str) -> str:
        return f"concat('subj-', substr(md5({record_expr}), 1, 16))"

    def timestamp_from_epoch(self, seconds_expr: str) -> str:
        # DuckDB casts a DOUBLE to BIGINT rounding half to even; Spark's cast truncates.
        return (f"timestamp_micros(CAST(bround(CAST({seconds_expr} AS DOUBLE) * 1000000) "
                f"AS BIGINT))")

    def ends_with(self, expr: str, suffixes: tuple[str, ...]) -> str:
        if all(len(x) == 1 for x in suffixes):
            listed = ", ".join(spark_literal(x) for x in suffixes)
            return f"right({expr}, 1) IN ({listed})"
        return " OR ".join(f"endswith({expr}, {spark_literal(x)})" for x in suffixes)

    def epoch_seconds(self, ts_expr: str) -> str:
        # unix_timestamp would drop the fraction; DuckDB's epoch() keeps it.
        return f"(CAST(unix_micros(CAST({ts_expr} AS TIMESTAMP)) AS DOUBLE) / 1000000.0)"

    def local_hour(self, ts_expr: str, offset_expr: str, zone_expr: str) -> str:
        return (f"CASE WHEN {offset_expr} IS NOT NULL "
                f"THEN hour({ts_expr} + ({offset_expr}) * INTERVAL '1' MINUTE) "
                f"ELSE hour(from_utc_timestamp({ts_expr}, {zone_expr})) END")

    def words_overlap(self, a_expr: str, b_expr: str) -> str:
        return f"arrays_overlap(split({a_expr}, ' '), split({b_expr}, ' '))"

    def fixed(self, expr: str, digits: int) -> str:
        """format_string would round the shortest decimal half up (2.675 → 2.68);
        format_number rounds the exact binary value half to even, as DuckDB's printf
        does (2.67), and only adds thousands separators, removed here. Finite numbers."""
        return f"replace(format_number(CAST({expr} AS DOUBLE), {int(digits)}), ',', '')"

    def distinct_text_agg(self, expr: str, separator: str) -> str:
        """Sorted, as DuckDB's spelling sorts them (Spark compares text byte by byte,
        as DuckDB does)."""
        return (f"CASE WHEN count({expr}) > 0 THEN array_join(array_sort(collect_set({expr})), "
                f"{spark_literal(separator)}) END")

    def signed(self, expr: str, digits: int) -> str:
        text = self.fixed(expr, digits)
        return f"CASE WHEN {text} LIKE '-%' THEN {text} ELSE concat('+', {text}) END"

    def ordered_text_agg(self, expr: str, order_expr: str, separator: str) -> str:
        """The values in the order of ``order_expr`` (an ORDER BY list), NULL keys last as
        in DuckDB; ties, which DuckDB leaves in no defined order, by the value itself."""
        keys = split_order(order_expr)
        fields = ", ".join([f"'v', {expr}"] + [f"'k{i}', {k}" for i, (k, _, _) in
                                               enumerate(keys)])
        compare = "CASE WHEN lhs.v < rhs.v THEN -1 WHEN lhs.v > rhs.v THEN 1 ELSE 0 END"
        for i, (_, descending, nulls_first) in reversed(list(enumerate(keys))):
            lo, hi = ("1", "-1") if descending else ("-1", "1")
            null_l, null_r = ("-1", "1") if nulls_first else ("1", "-1")
            a, b = f"lhs.k{i}", f"rhs.k{i}"
            compare = (f"CASE WHEN {a} IS NULL AND {b} IS NULL THEN {compare} "
                       f"WHEN {a} IS NULL THEN {null_l} WHEN {b} IS NULL THEN {null_r} "
                       f"WHEN {a} < {b} THEN {lo} WHEN {a} > {b} THEN {hi} ELSE {compare} END")
        items = f"collect_list(CASE WHEN {expr} IS NOT NULL THEN named_struct({fields}) END)"
        return (f"CASE WHEN count({expr}) > 0 THEN array_join(transform(array_sort({items}, "
                f"(lhs, rhs) -> {compare}), item -> item.v), {spark_literal(separator)}) END")


    def arg_max(self, value: str, key: str, tiebreak: str) -> str:
        return f"max_by({value}, struct({key}, {tiebreak}))"

    def sorted_distinct_list(self, expr: str) -> str:
        return f"array_sort(collect_set({expr}))"

    def text_list(self, *exprs: str) -> str:
        # array() alone is an array of NULL type, which would not union with text.
        return f"CAST(array({', '.join(exprs)}) AS ARRAY<STRING>)"

    # --- ingestion -------------------------------------------------------------------
    def param(self, name: str) -> str:
        return f":{name}"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        # A map keeps its keys in order and writes a NULL value as null, as DuckDB's
        # json_object does (a struct's NULL fields would be left out).
        return "to_json(map(" + ", ".join(f"{k}, {v}" for k, v in pairs) + "))"

    def round_to(self, expr: str, digits: int) -> str:
        """Spark's round(x, 2) rounds the shortest decimal text of x half up (1.005 →
        1.01), DuckDB the exact binary value times 100 (1.0049999… → 1.0). Rounding x * 100
        to a whole number agrees: the text of a double is k.5 only when the double is."""
        scale = f"{10 ** int(digits)}D"
        return f"(round(CAST({expr} AS DOUBLE) * {scale}, 0) / {scale})"

    # --- entity resolution -----------------------------------------------------------
    def words(self, expr: str) -> str:
        return f"split({expr}, ' ')"  # a pattern on Spark: a space is a space

    def join_words(self, list_expr: str) -> str:
        return f"array_join({list_expr}, ' ')"

    def sorted_list(self, list_expr: str) -> str:
        return f"array_sort({list_expr})"

    def without(self, list_expr: str, value_expr: str) -> str:
        return f"filter({list_expr}, w -> w <> {value_expr})"

    def contains_all(self, list_expr: str, other_expr: str) -> str:
        return f"forall({other_expr}, w -> array_contains({list_expr}, w))"

    def lists_overlap(self, a_expr: str, b_expr: str) -> str:
        # Not size(array_intersect(...)) >= 1: size(NULL) is -1, so the test would be
        # false where DuckDB's is NULL, and NOT of it true.
        return (f"CASE WHEN {a_expr} IS NOT NULL AND {b_expr} IS NULL THEN false "
                f"ELSE arrays_overlap({a_expr}, {b_expr}) END")

    # Splink's similarity functions (its bundled jar, registered by its SparkAPI) give
    # DuckDB's values except for a missing text (100 and 0 where DuckDB has NULL), two
    # empty texts (Jaro-Winkler 1 where DuckDB has 0), and Jaro-Winkler on some texts
    # whose transpositions it counts otherwise (see DuckDBDialect.jaro_winkler).
    def edit_distance(self, a_expr: str, b_expr: str) -> str:
        return (f"CASE WHEN {a_expr} IS NOT NULL AND {b_expr} IS NOT NULL "
                f"THEN damerau_levenshtein({a_expr}, {b_expr}) END")

    def jaro_winkler(self, a_expr: str, b_expr: str) -> str:
        return (f"CASE WHEN {a_expr} IS NULL OR {b_expr} IS NULL THEN NULL "
                f"WHEN {a_expr} = '' OR {b_expr} = '' THEN CAST(0 AS DOUBLE) "
                f"ELSE jaro_winkler({a_expr}, {b_expr}) END")

    def spellings(self, expr: str) -> str:
        # sequence(1, 0) counts down on Spark: an empty text has no shorter spelling.
        return (f"concat(CASE WHEN length({expr}) > 0 THEN transform(sequence(1, "
                f"length({expr})), i -> concat(substring({expr}, 1, i - 1), "
                f"substring({expr}, i + 1))) ELSE array() END, array({expr}))")

    def each(self, list_expr: str) -> str:
        return f"explode({list_expr})"


SPARK: Dialect = SparkDialect()
