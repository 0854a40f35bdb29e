"""Write one export into the warehouse, in one transaction, with the same rules as
transactions: the file's SHA-256 and size in ``ingest_files``; every record read is
accepted (``communications``) or quarantined (``quarantine``, with its raw text); the
counts reconcile or nothing is committed; a file already ingested adds nothing.

Records are streamed from the importer and appended in batches, so a large export never
sits in memory; a file refused half-way (cut short, malformed) is rolled back whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sentinelle.comms.sources import Importer, Options
from sentinelle.comms.table import (
    COLUMN_NAMES,
    Communication,
    Identifier,
    Problem,
    ensure_tables,
)
from sentinelle.errors import InputRefused, ReconciliationError
from sentinelle.ingest import FileReport
from sentinelle.ingest.sources import fingerprint
from sentinelle.warehouse import Warehouse

TABLE = "communications"
BATCH = 20_000
Progress = Callable[[str], None]

_SCHEMA = pa.schema([
    ("comm_id", pa.string()), ("timestamp", pa.timestamp("us")), ("timestamp_raw", pa.string()),
    ("time_zone", pa.string()), ("time_note", pa.string()), ("platform", pa.string()),
    ("conversation", pa.string()), ("sender", pa.string()), ("sender_name", pa.string()),
    ("recipients", pa.list_(pa.string())), ("kind", pa.string()), ("duration_s", pa.int32()),
    ("call_outcome", pa.string()), ("text", pa.string()),
    ("attachments", pa.list_(pa.string())), ("source_file_id", pa.int32()),
    ("source_line", pa.int64()), ("source_pointer", pa.string()), ("raw", pa.string()),
])
assert tuple(_SCHEMA.names) == COLUMN_NAMES, "the Arrow schema must follow table.COLUMNS"
_RECORD_FIELDS = [f.name for f in fields(Communication)]


def discover(paths: list[Path], importer: Importer) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(q for q in p.rglob("*")
                            if q.is_file() and q.suffix.lower() in importer.suffixes)
        elif p.is_file():
            found.append(p)
        else:
            raise InputRefused(f"{p} does not exist", fix="check the path")
    return found


def ingest_file(wh: Warehouse, importer: Importer, path: Path, options: Options, *,
                user: str, progress: Progress = lambda _: None) -> FileReport:
    ensure_tables(wh)
    started = datetime.now(UTC).replace(tzinfo=None)
    progress("fingerprint (SHA-256)")
    source = fingerprint(path)
    if source.size == 0:
        raise InputRefused("the file is empty", file=str(path), fix="export it again")
    found = wh.execute("SELECT file_id, finished_at FROM ingest_files WHERE sha256 = ? AND "
                       "table_name = ?", [source.sha256, TABLE]).fetchall()
    done = found[0] if found else None
    if done:
        return FileReport(path, "already ingested", file_id=done[0],
                          message=f"identical to file #{done[0]}, ingested "
                                  f"{done[1]:%Y-%m-%d %H:%M} UTC")
    wh.execute("BEGIN TRANSACTION")
    try:
        file_id = int(_scalar(wh, "SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files"))
        read = _write_records(wh, importer, path, options, file_id, progress)
        accepted = int(_scalar(wh, "SELECT count(*) FROM communications WHERE source_file_id = ?",
                                 [file_id]))
        quarantined = int(_scalar(wh, "SELECT count(*) FROM quarantine WHERE file_id = ?",
                                    [file_id]))
        json_format = importer.suffixes == (".json",)
        wh.execute("INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [file_id, TABLE, str(path.resolve()), source.sha256, source.size,
                    importer.name, read, accepted, quarantined,
                    "json pointer" if json_format else "lines", started,
                    datetime.now(UTC).replace(tzinfo=None), user, None])
        if accepted + quarantined != read:
            raise ReconciliationError(
                f"row accounting does not reconcile: read {read}, accepted {accepted}, "
                f"quarantined {quarantined}; nothing was written", file=str(path),
                fix="this is a defect in Sentinelle: please report it with the export's layout")
        wh.execute("COMMIT")
    except BaseException:
        wh.execute("ROLLBACK")
        raise
    return FileReport(path, "ingested", read, accepted, quarantined, file_id)


def _write_records(wh: Warehouse, importer: Importer, path: Path, options: Options,
                   file_id: int, progress: Progress) -> int:
    """Stream the importer's records into the tables; return how many were read."""
    rows: list[tuple[str, Communication]] = []
    problems: list[list[object]] = []
    read = 0
    for record in importer.read(path, options):
        if isinstance(record, Identifier):
            wh.execute("INSERT INTO comm_identifiers VALUES (?, ?, ?, ?, ?, ?)",
                       [file_id, record.platform, record.handle, record.kind,
                        record.value_raw, record.found_in]).fetchall()
            continue
        read += 1
        if isinstance(record, Problem):
            problems.append(_quarantine_row(file_id, record))
        else:
            rows.append((f"{file_id}-{read}", record))
        if len(rows) >= BATCH:
            _append(wh, rows, file_id)
            rows = []
            progress(f"{read:,} records read")
    _append(wh, rows, file_id)
    if problems:
        wh.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", problems)
    return read


def _scalar(wh: Warehouse, sql: str, params: list[object] | None = None) -> Any:
    """One value, with the result read to its end: DuckDB refuses other work on the
    connection (registering a batch) while a result is pending."""
    rows = wh.execute(sql, params).fetchall()
    return rows[0][0] if rows else None


def _quarantine_row(file_id: int, p: Problem) -> list[object]:
    reason = f"at {p.source_pointer}: {p.reason}" if p.source_pointer else p.reason
    return [file_id, TABLE, p.source_line, p.column, p.value, reason, reason,
            json.dumps({"record": p.raw, "pointer": p.source_pointer}, ensure_ascii=False)]


def _append(wh: Warehouse, rows: list[tuple[str, Communication]], file_id: int) -> None:
    if not rows:
        return
    data: dict[str, list[object]] = {name: [] for name in COLUMN_NAMES}
    for comm_id, r in rows:
        for name in _RECORD_FIELDS:
            data[name].append(getattr(r, name))
        data["comm_id"].append(comm_id)
        data["source_file_id"].append(file_id)
    batch = pa.table([pa.array(data[n], _SCHEMA.field(n).type) for n in COLUMN_NAMES],
                     schema=_SCHEMA)
    wh.con.register("comm_batch", batch)
    try:
        wh.execute("INSERT INTO communications SELECT * FROM comm_batch").fetchall()
    finally:
        wh.con.unregister("comm_batch")
