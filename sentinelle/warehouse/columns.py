"""Warehouse columns generated from the model declaration.

The rule is the same for every field: ``x`` holds the clean, typed value and
``x_raw`` what the file said, for every type whose cleaning changes the text.
A value that cannot be cleaned leaves ``x`` empty and a note in ``cleaning_notes``.
"""

from __future__ import annotations

from sentinelle.model import Field, Table

# Types stored as given: cleaning would only trim them.
AS_GIVEN = {"string", "text"}

CLEAN_SQL_TYPE = {
    "timestamp": "TIMESTAMP",  # UTC; the offset is kept in <name>_offset_min
    "decimal": "DECIMAL(18,4)",
    "date": "DATE",
}

# How text columns are compressed on disk. DuckDB's automatic choice for text (a
# dictionary with FSST) suits short closed lists of codes but is costly for values that
# are nearly unique per row (identifiers, names, phones, accounts, raw text): at ten
# million rows it was most of the write's CPU. zstd writes those faster and smaller
# (docs/benchmarks.md, bench:ingest-s50); codes keep DuckDB's choice.
CLOSED_VOCABULARY = {"currency", "country", "enum"}
TEXT_COMPRESSION = "zstd"

PROVENANCE_COLUMNS = [
    ("source_file_id", "INTEGER", "The ingest_files row of the file this row came from."),
    ("source_line", "BIGINT", "Line of the file (CSV) or row number (Parquet), 1 = header."),
    ("extra", "VARCHAR", "JSON object of the file's columns that are not canonical."),
]


def field_columns(f: Field) -> list[tuple[str, str]]:
    """(column, SQL type) pairs that one declared field becomes in the warehouse."""
    if f.type in AS_GIVEN:
        return [(f.name, "VARCHAR")]
    cols = [(f.name, CLEAN_SQL_TYPE.get(f.type, "VARCHAR")), (f.name + "_raw", "VARCHAR")]
    if f.type == "timestamp":
        cols.append((f.name + "_offset_min", "SMALLINT"))
    if f.type == "name":
        # The order-free key of a name (its folded words, sorted) is not stored: it is
        # derived when needed, e.g. list_sort(string_split(sender_name, ' ')).
        cols.append((f.name + "_surname", "VARCHAR"))
    return cols


def eur_columns(table: Table) -> list[tuple[str, str]]:
    if table.name != "transactions":
        return []
    return [("amount_eur", "DECIMAL(18,2)"), ("eur_rate", "DOUBLE"), ("eur_rate_date", "DATE")]


def table_columns(table: Table) -> list[tuple[str, str]]:
    cols: list[tuple[str, str]] = []
    for f in table.fields:
        cols += field_columns(f)
    cols += eur_columns(table)
    cols += [(name, sql_type) for name, sql_type, _ in PROVENANCE_COLUMNS]
    return cols


def column_compression(table: Table) -> dict[str, str]:
    """Column -> the compression method its DDL names; columns absent: DuckDB chooses."""
    out = {col: TEXT_COMPRESSION for f in table.fields if f.type not in CLOSED_VOCABULARY
           for col, sql_type in field_columns(f) if sql_type == "VARCHAR"}
    out["extra"] = TEXT_COMPRESSION
    return out
