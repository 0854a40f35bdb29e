"""Stage rows converted from another layout, so they go through the canonical pipeline.

A provider's export (through a mapping) and an ISO 20022 message are turned, row by row,
into canonical rows of text; this module writes them into the same temporary tables the
canonical reader fills (``stg``: ``_line`` and ``c0…cN``; ``stg_rejects``). From there the
cleaning, quarantine, duplicates and commit are the canonical ones. ``_line`` is the line
of the *original* file (the record's first line in a CSV, the row in a sheet, the line of
the element in XML), and the file's fingerprint is the original file's: nothing in the
provenance points at an intermediate file.

The header is every canonical column, in the model's order, then the reader's extra
columns (kept as the JSON object ``extra``); a canonical column a mapping does not fill is
simply empty, as if absent.

``_line`` must tell rows apart (the commit joins on it). A minified XML file can hold
several transactions on one line; then every row is numbered by its order in the file
instead, and the file's ``line_mapping`` says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from sentinelle.ingest.staging import BATCH_ROWS, REJECTS_DDL, Staged, _tidy
from sentinelle.model import Table


class ConvertedRows:
    """Collects converted rows and rejects, in batches, into ``stg`` and ``stg_rejects``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: Table, extras: list[str]):
        canonical = set(table.column_names)
        clash = [e for e in extras if e.lower() in canonical]
        if clash:  # a developer's error: an extra would shadow a canonical column
            raise ValueError(f"extra columns named like canonical ones: {clash}")
        self.con = con
        self.table = table
        self.header = list(table.column_names) + list(extras)
        self._index = {name: i for i, name in enumerate(self.header)}
        self._batch: list[list[object]] = [[] for _ in range(len(self.header) + 1)]
        self._rejects: list[tuple[int, str | None, str | None, str, str]] = []
        self.rows = 0
        self._last_line = 0
        self.lines_unique = True
        con.execute(REJECTS_DDL)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stg_untidy (_line BIGINT, "
            + ", ".join(f"c{i} VARCHAR" for i in range(len(self.header))) + ")")

    def add(self, line: int, row: Mapping[str, str | None]) -> None:
        """One converted row; keys are header names (unknown keys are a defect)."""
        values: list[str | None] = [None] * len(self.header)
        for key, value in row.items():
            values[self._index[key]] = value
        if line <= self._last_line:
            self.lines_unique = False
        self._last_line = line
        self._batch[0].append(line)
        for i, value in enumerate(values, start=1):
            self._batch[i].append(value)
        self.rows += 1
        if len(self._batch[0]) >= BATCH_ROWS:
            self._flush()

    def reject(self, line: int, column: str | None, value: str | None, reason: str,
               raw: Mapping[str, object]) -> None:
        """A row that cannot become a canonical row; quarantined with the original row."""
        self._rejects.append((line, column, value, reason,
                              json.dumps(dict(raw), ensure_ascii=False, default=str)))

    def finish(self, line_mapping: str, source_format: str,
               ordinal_mapping: str = "ordinal") -> Staged:
        """Create ``stg``; ``ordinal_mapping`` names the numbering used when lines repeat."""
        self._flush()
        line = "_line"
        if not self.lines_unique:
            if self._rejects:  # only readers with unique lines reject rows
                raise ValueError("rejects need unique line numbers")
            line, line_mapping = "row_number() OVER (ORDER BY rowid) AS _line", ordinal_mapping
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE stg AS SELECT {line}, "
            f"{_tidy(self.header, self.table)} FROM stg_untidy")
        self.con.execute("DROP TABLE stg_untidy")
        if self._rejects:
            self.con.executemany("INSERT INTO stg_rejects VALUES (?, ?, ?, ?, ?)", self._rejects)
        return Staged(self.header, self.rows + len(self._rejects), line_mapping, source_format)

    def _flush(self) -> None:
        if not self._batch[0]:
            return
        names = ["_line"] + [f"c{i}" for i in range(len(self.header))]
        arrow = pa.table({n: pa.array(col, type=pa.int64() if n == "_line" else pa.string())
                          for n, col in zip(names, self._batch, strict=True)})
        self.con.register("stg_batch", arrow)
        self.con.execute("INSERT INTO stg_untidy SELECT * FROM stg_batch")
        self.con.unregister("stg_batch")
        for col in self._batch:
            col.clear()
