"""Read one input file into a temporary staging table of text columns, with line numbers.

Staged columns are named ``c0…cN`` (position in the file's header), so nothing a file
contains is ever spliced into SQL. Each staged row carries ``_line``: the line of the
CSV file where the record starts (the header is line 1), or the row number in a
Parquet file. Rows DuckDB's reader cannot split into the header's columns land in
``stg_rejects`` with their line and the reader's reason.

DuckDB's fast parallel reader numbers *records*, not lines. When every record is one
line (the file's line count says so) the two agree; otherwise — a quoted field with a
line break, a blank line — the file is read again by Python's csv module, which is
slower but knows where each record starts.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from sentinelle.ingest.sources import PendingSource, check_columns, read_header
from sentinelle.model import Table

BATCH_ROWS = 100_000

REJECTS_DDL = """CREATE OR REPLACE TEMP TABLE stg_rejects (
    line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, raw_row VARCHAR)"""


@dataclass(frozen=True)
class Staged:
    header: list[str]
    rows_read: int
    line_mapping: str  # how _line was derived: records | python-csv | parquet-row
    # Set by a reader that converts another layout (readers.py): what the file really is.
    source_format: str | None = None


def stage(
    con: duckdb.DuckDBPyConnection,
    source: PendingSource,
    table: Table,
    progress: Callable[[str], None] = lambda _: None,
) -> Staged:
    con.execute(REJECTS_DDL)
    if source.format == "parquet":
        return _stage_parquet(con, source, table)
    header = read_header(source, table)
    progress("reading and fingerprinting")
    tidy = _tidy(header, table)
    staged = _stage_csv_fast(con, source, header, tidy)
    if staged is None:
        progress("re-reading (records span lines)")
        staged = _stage_csv_python(con, source, header, tidy)
    return staged


def _columns(header: list[str]) -> dict[str, str]:
    return {f"c{i}": "VARCHAR" for i in range(len(header))}


def _tidy(header: list[str], table: Table) -> str:
    """Select list over c0…cN: surrounding spaces trimmed and blanks made missing, once,
    as the file is read (every later pass reads the tidy text). Free-text columns keep
    their spaces; only a blank one becomes missing."""
    text = {f.name for f in table.fields if f.type == "text"}
    out = []
    for i, name in enumerate(header):
        c = f"c{i}"
        if name.lower() in text:
            out.append(f"CASE WHEN trim({c}) = '' THEN NULL ELSE {c} END AS {c}")
        else:
            out.append(f"nullif(trim({c}), '') AS {c}")
    return ", ".join(out)


def _stage_csv_fast(
    con: duckdb.DuckDBPyConnection, source: PendingSource, header: list[str], tidy: str
) -> Staged | None:
    for name in ("stg_rej_errors", "stg_rej_scans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stg_raw AS SELECT {tidy} FROM read_csv(
                $path, header = true, auto_detect = false, columns = $columns,
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                store_rejects = true, rejects_table = 'stg_rej_errors',
                rejects_scan = 'stg_rej_scans', max_line_size = 4194304)""",
            {"path": str(source.path), "columns": _columns(header)},
        )
    except duckdb.InvalidInputException:
        # A shape the fast reader refuses outright rather than row by row (lines ended
        # by both \r\n and \n, as when two exports are pasted together): Python's
        # reader takes any line ending and still refuses a bad row on its own line.
        return None
    accepted = con.execute("SELECT count(*) FROM stg_raw").fetchone()[0]  # type: ignore[index]
    rejected = con.execute("SELECT count(DISTINCT line) FROM stg_rej_errors").fetchone()[0]  # type: ignore[index]
    done = source.result()  # the fingerprint, computed meanwhile, counted the lines
    lines = done.newlines + (0 if done.ends_with_newline else 1)
    if lines != accepted + rejected + 1:
        con.execute("DROP TABLE stg_raw")
        return None
    if rejected == 0:
        # Record k is on line k + 1: no need to copy the rows to number them.
        con.execute("CREATE OR REPLACE TEMP VIEW stg AS SELECT rowid + 2 AS _line, * FROM stg_raw")
        return Staged(header, accepted, "records")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE stg AS
        WITH r AS (
            SELECT line, row_number() OVER (ORDER BY line) AS k
            FROM (SELECT DISTINCT line FROM stg_rej_errors)),
        t AS (SELECT line - 1 - k AS thr, max(k) AS k FROM r GROUP BY ALL)
        SELECT s.rowid + 2 + coalesce(t.k, 0) AS _line, s.*
        FROM stg_raw s ASOF LEFT JOIN t ON s.rowid >= t.thr"""
    )
    con.execute(
        """INSERT INTO stg_rejects
        SELECT line, column_name, NULL, lower(replace(error_type, '_', ' ')) || ': ' ||
               error_message, csv_line
        FROM (SELECT *, row_number() OVER (PARTITION BY line ORDER BY column_idx) AS n
              FROM stg_rej_errors) WHERE n = 1"""
    )
    con.execute("DROP TABLE stg_raw")
    return Staged(header, accepted + rejected, "records")


def _stage_csv_python(
    con: duckdb.DuckDBPyConnection, source: PendingSource, header: list[str], tidy: str
) -> Staged:
    width = len(header)
    names = ["_line"] + list(_columns(header))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_untidy (_line BIGINT, "
        + ", ".join(f"{c} VARCHAR" for c in names[1:]) + ")"
    )
    batch: list[list[str | None]] = [[] for _ in names]
    rejects: list[tuple[int, None, None, str, str]] = []
    read = 0

    def flush() -> None:
        if batch[0]:
            arrow = pa.table({n: pa.array(col, type=pa.int64() if n == "_line" else pa.string())
                              for n, col in zip(names, batch, strict=True)})
            con.register("stg_batch", arrow)
            con.execute("INSERT INTO stg_untidy SELECT * FROM stg_batch")
            con.unregister("stg_batch")
            for col in batch:
                col.clear()

    with source.path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh, strict=False)
        next(reader, None)
        end_of_previous = reader.line_num
        for row in reader:
            start = end_of_previous + 1
            end_of_previous = reader.line_num
            if not row:
                continue  # a blank line is not a record
            read += 1
            if len(row) != width or any("\ufffd" in v for v in row):
                reason = (
                    "invalid unicode: the row is not UTF-8 text" if len(row) == width
                    else f"wrong number of columns: expected {width}, found {len(row)}"
                )
                rejects.append((start, None, None, reason, ",".join(row)))
                continue
            batch[0].append(start)  # type: ignore[arg-type]
            for i, value in enumerate(row, start=1):
                batch[i].append(value)
            if len(batch[0]) >= BATCH_ROWS:
                flush()
    flush()
    con.execute(f"CREATE OR REPLACE TEMP TABLE stg AS SELECT _line, {tidy} FROM stg_untidy")
    con.execute("DROP TABLE stg_untidy")
    if rejects:
        con.executemany("INSERT INTO stg_rejects VALUES (?, ?, ?, ?, ?)", rejects)
    return Staged(header, read, "python-csv")


def _stage_parquet(con: duckdb.DuckDBPyConnection, source: PendingSource, table: Table) -> Staged:
    from sentinelle.errors import InputRefused

    try:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(source.path)}
        ).fetchall()
    except duckdb.Error as exc:
        raise InputRefused(
            f"the file is not readable Parquet ({exc})", file=str(source.path),
            fix="export it again, or as CSV with a .csv name",
        ) from exc
    header = [row[0] for row in described]
    check_columns(header, table, str(source.path))
    casts = ", ".join(f"CAST(#{i + 1} AS VARCHAR) AS c{i}" for i in range(len(header)))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE stg AS
        SELECT _line, {_tidy(header, table)} FROM (
            SELECT file_row_number + 1 AS _line, {casts}
            FROM (SELECT * FROM read_parquet($path, file_row_number = true)))""",
        {"path": str(source.path)},
    )
    rows = con.execute("SELECT count(*) FROM stg").fetchone()[0]  # type: ignore[index]
    return Staged(header, rows, "parquet-row")
