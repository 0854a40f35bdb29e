"""Compile the model declaration into the SQL that checks and cleans staged rows.

For each declared field the compiler produces three things: the raw text (trimmed,
blank as missing), the clean value, and a problem — a plain-words reason, or NULL.
A problem on a required field quarantines the row; on an optional field the clean
value is left empty and the problem becomes a cleaning note. Raw values are always
kept (see ``sentinelle.warehouse.columns``).

Types that need a library (names, phones, countries, currencies) are cleaned in
Python over the *distinct* values only, into small mapping tables joined here: a
file of ten million rows has a few hundred thousand distinct names at most.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentinelle.model import Field, Table
from sentinelle.warehouse.columns import AS_GIVEN
from sentinelle.warehouse.dialect import DuckDBDialect, quote_ident, string_literal

# ISO 8601 date-time with an offset: date, time, offset (Z or ±hh[:mm]).
TIMESTAMP_RE = (
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*(Z|z|[+-]\d{2}(?::?\d{2})?)"
)
DECIMAL_RE = r"[0-9]{1,14}(\.[0-9]{1,4})?"
DATE_RE = r"\d{4}-\d{2}-\d{2}"
EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"

# Mapping tables filled in Python from distinct values: type -> table name.
MAPPED_TYPES = {
    "name": "map_name",
    "phone": "map_phone",
    "country": "map_country",
    "currency": "map_currency",
}

MISSING = "required value is missing"


@dataclass(frozen=True)
class CompiledField:
    field: Field
    raw: str  # expression of the raw text, in the 'parsed' layer
    clean: dict[str, str]  # warehouse column -> expression
    problem: str  # expression yielding a reason or NULL


def raw_alias(f: Field) -> str:
    return quote_ident("r_" + f.name)


class CleaningCompiler:
    """Renders the cleaning query for one table, for one dialect."""

    def __init__(self, table: Table, dialect: DuckDBDialect) -> None:
        self.table = table
        self.d = dialect

    # -- layer 1: raw text from the staged columns ---------------------------------
    def raw_layer(self, staged: dict[str, str]) -> list[str]:
        """``staged`` maps a canonical field name to its staged column (absent: missing)."""
        cols = []
        for f in self.table.fields:
            src = staged.get(f.name)
            if src is None:
                expr = "CAST(NULL AS VARCHAR)"
            elif f.type == "text":
                col = quote_ident(src)
                expr = f"CASE WHEN trim({col}) = '' THEN NULL ELSE {col} END"
            else:
                expr = f"nullif(trim({quote_ident(src)}), '')"
            cols.append(f"{expr} AS {raw_alias(f)}")
        return cols

    # -- layer 2: parsed parts for the types that need several steps ----------------
    def parsed_layer(self) -> list[str]:
        cols = []
        for f in self.table.fields:
            if f.type != "timestamp":
                continue
            r = raw_alias(f)
            local = self.d.try_cast(
                f"{self.d.regex_extract(r, '^' + TIMESTAMP_RE + '$', 1)} || ' ' || "
                f"replace({self.d.regex_extract(r, '^' + TIMESTAMP_RE + '$', 2)}, ',', '.')",
                "TIMESTAMP",
            )
            off = self.d.regex_extract(r, "^" + TIMESTAMP_RE + "$", 3)
            minutes = (
                f"CASE WHEN {off} IN ('Z', 'z') THEN 0 WHEN {off} = '' THEN NULL ELSE "
                f"(CASE WHEN substr({off}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
                f"(CAST(substr({off}, 2, 2) AS INTEGER) * 60 + "
                f"coalesce(TRY_CAST(nullif(substr(replace({off}, ':', ''), 4, 2), '') "
                f"AS INTEGER), 0)) END"
            )
            cols.append(f"{local} AS {quote_ident('l_' + f.name)}")
            cols.append(f"{minutes} AS {quote_ident('o_' + f.name)}")
        return cols

    # -- layer 3: clean values and problems ------------------------------------------
    def compile_field(self, f: Field) -> CompiledField:
        r = raw_alias(f)
        d = self.d
        clean: dict[str, str] = {}
        invalid: str | None = None  # condition (raw present) meaning "cannot be cleaned"
        reason = ""
        m = quote_ident("m_" + f.name)
        if f.type in AS_GIVEN:
            clean[f.name] = r
        elif f.type == "timestamp":
            local, off = quote_ident("l_" + f.name), quote_ident("o_" + f.name)
            ok = f"({local} IS NOT NULL AND {off} IS NOT NULL AND abs({off}) <= 840)"
            clean[f.name] = f"CASE WHEN {ok} THEN {d.minus_minutes(local, off)} END"
            clean[f.name + "_offset_min"] = f"CASE WHEN {ok} THEN CAST({off} AS SMALLINT) END"
            invalid = f"NOT {ok}"
            reason = (
                "not an ISO 8601 date-time with a UTC offset "
                "(like 2024-03-07T23:41:05+01:00 or 2024-03-07T22:41:05Z)"
            )
        elif f.type == "decimal":
            num = d.try_cast(r, "DECIMAL(18,4)")
            clean[f.name] = f"CASE WHEN {d.regex_match(r, DECIMAL_RE)} AND {num} > 0 THEN {num} END"
            invalid = f"NOT coalesce({d.regex_match(r, DECIMAL_RE)} AND {num} > 0, false)"
            reason = (
                "not a number greater than zero written with a dot and at most 4 decimals "
                "(like 25.00)"
            )
        elif f.type == "date":
            day = d.try_cast(r, "DATE")
            clean[f.name] = f"CASE WHEN {d.regex_match(r, DATE_RE)} THEN {day} END"
            invalid = f"{clean[f.name]} IS NULL"
            reason = "not a date written YYYY-MM-DD"
        elif f.type == "enum":
            values = ", ".join(string_literal(v) for v in f.values)
            clean[f.name] = f"CASE WHEN lower({r}) IN ({values}) THEN lower({r}) END"
            invalid = f"{clean[f.name]} IS NULL"
            reason = "not one of: " + ", ".join(f.values)
        elif f.type == "email":
            clean[f.name] = f"CASE WHEN {d.regex_match(r, EMAIL_RE)} THEN lower({r}) END"
            invalid = f"{clean[f.name]} IS NULL"
            reason = "not an email address"
        elif f.type == "account":
            stripped = d.regex_replace_all(r, r"[\s.\-/]", "")
            clean[f.name] = f"nullif(upper({stripped}), '')"
            invalid = f"{clean[f.name]} IS NULL"
            reason = "no letters or digits in the account"
        elif f.type == "name":
            clean[f.name] = f"{m}.folded"
            clean[f.name + "_surname"] = f"{m}.surname"
            clean[f.name + "_key"] = f"{m}.key"
            invalid = f"{m}.folded IS NULL"
            reason = "no letters in the name"
        elif f.type in ("phone", "country", "currency"):
            clean[f.name] = f"{m}.clean"
            invalid = f"{m}.clean IS NULL"
            reason = f"coalesce({m}.reason, 'cannot be cleaned')"
        if f.type not in AS_GIVEN:
            clean[f.name + "_raw"] = r
        reason_sql = reason if reason.startswith("coalesce(") else string_literal(reason)
        parts = []
        if f.required:
            parts.append(f"WHEN {r} IS NULL THEN {string_literal(MISSING)}")
        if invalid is not None:
            parts.append(f"WHEN {r} IS NOT NULL AND ({invalid}) THEN {reason_sql}")
        problem = f"CASE {' '.join(parts)} END" if parts else "CAST(NULL AS VARCHAR)"
        return CompiledField(f, r, clean, problem)

    def joins(self) -> list[str]:
        """LEFT JOINs of the mapping tables, one alias per field that needs one."""
        out = []
        # Phones join last: their region is the clean country joined before them.
        ordered = sorted(self.table.fields, key=lambda f: f.type == "phone")
        for f in ordered:
            if f.type not in MAPPED_TYPES:
                continue
            m, r, table = quote_ident("m_" + f.name), raw_alias(f), MAPPED_TYPES[f.type]
            cond = f"{m}.raw = {r}"
            if f.type == "phone":
                region = quote_ident("m_" + f.region_from) + ".clean" if f.region_from else "NULL"
                cond += f" AND {m}.region IS NOT DISTINCT FROM {region}"
            out.append(f"LEFT JOIN {table} {m} ON {cond}")
        return out
