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

# How text columns are compressed on disk. DuckDB's own choice for text (a dictionary
# with FSST) is costly to write for values that are nearly unique per row: at ten million
# rows it was most of the insert's CPU. Those columns are stored with zstd, which writes
# them in about half the CPU; everything else (names, which repeat per party, codes,
# cities, descriptions) keeps DuckDB's choice, which stores repeated values smaller.
# Measured in docs/ingest.md ("How rows are stored").
ZSTD_TYPES = {"phone", "email", "account"}  # the clean value and the raw text
ZSTD_RAW_TYPES = {"timestamp", "decimal"}  # only the raw text (the clean one is typed)
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
    """Column -> the compression method its DDL names; columns absent: DuckDB chooses.
    Identifiers (string fields named ``*_id``) are nearly unique per row too."""
    out: dict[str, str] = {}
    for f in table.fields:
        if f.type in ZSTD_TYPES or (f.type == "string" and f.name.endswith("_id")):
            out.update({col: TEXT_COMPRESSION for col, _ in field_columns(f)})
        elif f.type in ZSTD_RAW_TYPES:
            out[f.name + "_raw"] = TEXT_COMPRESSION
    return out
