"""Readers of layouts other than the canonical one, chosen per file.

``stager_for`` is handed to ``ingest_paths``: an ``.xml`` file (or any file, with
``format="iso20022"``) is read as an ISO 20022 message; with a mapping, a CSV, Excel or
Parquet file is read as the provider's export; otherwise the canonical reader is used,
unchanged. Each reader stages canonical rows (``converted.py``) with the original file's
lines, so cleaning, quarantine, duplicates, provenance and the row accounting are the
canonical pipeline's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sentinelle.errors import InputRefused
from sentinelle.ingest.convert import Converter, Rejected, extra_columns
from sentinelle.ingest.converted import ConvertedRows
from sentinelle.ingest.mapfile import Mapping
from sentinelle.ingest.sources import PendingSource
from sentinelle.ingest.staging import Staged
from sentinelle.ingest.tabular import open_tabular
from sentinelle.model import Table

XML_SUFFIXES = frozenset({".xml"})
MAPPED_SUFFIXES = frozenset({".xlsx"})
Stager = Callable[[duckdb.DuckDBPyConnection, PendingSource, Table,
                   Callable[[str], None]], Staged]


@dataclass(frozen=True)
class ReadOptions:
    """What the command line may force over the mapping's ``read`` section."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


def stager_for(mapping: Mapping | None = None, format: str | None = None,
               options: ReadOptions = ReadOptions()) -> Callable[[Path], Stager | None]:
    def choose(path: Path) -> Stager | None:
        if format == "iso20022" or (format is None and path.suffix.lower() in XML_SUFFIXES):
            from sentinelle.ingest.iso20022.reader import stage_iso20022
            return stage_iso20022
        if mapping is not None:
            return MappedStager(mapping, options)
        return None

    return choose


def more_suffixes(mapping: Mapping | None) -> frozenset[str]:
    """Suffixes a folder is walked for, beyond CSV and Parquet."""
    return XML_SUFFIXES | (MAPPED_SUFFIXES if mapping else frozenset())


class MappedStager:
    def __init__(self, mapping: Mapping, options: ReadOptions):
        self.mapping = mapping
        self.options = options

    def __call__(self, con: duckdb.DuckDBPyConnection, pending: PendingSource, table: Table,
                 progress: Callable[[str], None]) -> Staged:
        if table.name != "transactions":
            raise InputRefused("a mapping describes transactions", file=str(pending.path),
                               fix="use --mapping with sentinelle ingest transactions")
        m, o = self.mapping, self.options
        progress(f"reading through the mapping {m.name}")
        tab = open_tabular(pending.path, format=m.read.get("format"),
                           encoding=o.encoding or str(m.read.get("encoding", "auto")),
                           delimiter=o.delimiter or str(m.read.get("delimiter", "auto")),
                           skip_lines=int(m.read.get("skip_lines", 0)),
                           sheet=o.sheet or m.read.get("sheet"))
        # The SHA-256 is needed now only for txn_id from_line; otherwise it is awaited later.
        sha = pending.result().sha256 if any(s.from_line for s in m.fields.values()) else ""
        converter = Converter(m, tab.header, sha)
        if converter.missing_columns:
            tab.close()
            raise InputRefused(
                f"the export lacks column(s) the mapping {m.name} reads",
                file=str(pending.path), line=int(m.read.get("skip_lines", 0)) + 1,
                details=["missing: " + ", ".join(converter.missing_columns),
                         "found: " + ", ".join(tab.header)],
                fix="check that this mapping is for this export (sentinelle mapping suggest "
                    "FILE drafts one), or the delimiter and encoding")
        rows = ConvertedRows(con, table, extra_columns(m, tab.header))
        for rec in tab.records:
            raw = dict(zip(tab.header, (_json_cell(c) for c in rec.cells), strict=False))
            if rec.problem:
                rows.reject(rec.line, None, None, rec.problem, raw)
                continue
            out = converter.convert(rec.line, rec.cells)
            if isinstance(out, Rejected):
                rows.reject(rec.line, out.column, out.value, out.reason, raw)
            else:
                rows.add(rec.line, out)
        what = tab.format + (f" {tab.encoding} {tab.delimiter!r}" if tab.encoding else "")
        label = f"{what} via mapping {m.name} (sha256 {m.sha256[:12]})"
        return rows.finish(f"mapping {m.name}: {_line_kind(tab.format)}", label)


def _json_cell(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float) else str(value)


def _line_kind(fmt: str) -> str:
    return {"csv": "python-csv", "xlsx": "sheet-row", "parquet": "parquet-row"}[fmt]
