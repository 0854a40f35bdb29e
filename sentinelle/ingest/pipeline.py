"""Ingest files into the warehouse: every row accepted or quarantined, one transaction a file.

For each file: fingerprint it (a file already ingested adds nothing), stage it, clean
it with the SQL compiled from the model, find duplicate keys, then write accepted
rows, quarantine records, cleaning notes and the file's provenance in ONE transaction.
A killed process leaves the warehouse as it was before that file: the staging tables
are temporary and the transaction never committed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sentinelle.errors import InputRefused
from sentinelle.ingest.cleaning import CleaningCompiler
from sentinelle.ingest.commit import FileContext, commit_file
from sentinelle.ingest.duplicates import find_duplicates
from sentinelle.ingest.lookups import build_mappings
from sentinelle.ingest.sources import PendingSource, discover, start_fingerprint
from sentinelle.ingest.staging import Staged, stage
from sentinelle.model import Table, load_table
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.connection import drop_lookup_indexes
from sentinelle.warehouse.dialect import DUCKDB, Dialect, quote_ident
from sentinelle.warehouse.rates import load_rates

Progress = Callable[[str], None]
# Stages a file of another layout (a provider's export, an ISO 20022 message) as canonical
# rows; ``None`` means the canonical reader (see readers.py).
Stager = Callable[[duckdb.DuckDBPyConnection, PendingSource, Table, Progress], Staged]
ChooseStager = Callable[[Path], Stager | None]


@dataclass(frozen=True)
class FileReport:
    path: Path
    status: str  # ingested | already ingested | refused
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    file_id: int | None = None
    message: str = ""

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.quarantined


def ingest_paths(
    wh: Warehouse,
    table_name: str,
    paths: list[Path],
    *,
    user: str,
    default_provider: str = "unspecified",
    rates: Path | None = None,
    on_file: Callable[[Path, int, int], None] = lambda *_: None,
    progress: Progress = lambda _: None,
    stager_for: ChooseStager | None = None,
    more_suffixes: frozenset[str] = frozenset(),
) -> list[FileReport]:
    """Ingest every file under ``paths``; a refused file does not stop the others.
    ``stager_for`` picks, per file, a reader of another layout (None: canonical)."""
    table = load_table(table_name)
    files = discover(paths, more_suffixes)
    rates_sha = load_rates(wh, rates) if table.name == "transactions" else None
    if table.name == "transactions" and files:
        drop_lookup_indexes(wh)  # appending to an indexed table is slow; detect rebuilds
    reports = []
    for i, path in enumerate(files):
        on_file(path, i, len(files))
        try:
            reports.append(ingest_file(wh, table, path, user=user, rates_sha=rates_sha,
                                       default_provider=default_provider, progress=progress,
                                       stager=stager_for(path) if stager_for else None))
        except InputRefused as exc:
            reports.append(FileReport(path, "refused", message=str(exc)))
    return reports


def ingest_file(
    wh: Warehouse,
    table: Table,
    path: Path,
    *,
    user: str,
    default_provider: str = "unspecified",
    rates_sha: str | None = None,
    progress: Progress = lambda _: None,
    stager: Stager | None = None,
) -> FileReport:
    con = wh.con
    started = datetime.now(UTC).replace(tzinfo=None)
    with ThreadPoolExecutor(1) as pool:
        try:
            return _ingest(wh, table, start_fingerprint(pool, path), started, user,
                           default_provider, rates_sha, progress, stager or stage)
        finally:
            drop_temporary(con)


def _ingest(wh: Warehouse, table: Table, pending: PendingSource, started: datetime,
            user: str, default_provider: str, rates_sha: str | None,
            progress: Progress, stager: Stager) -> FileReport:
    con, path = wh.con, pending.path
    staged = stager(con, pending, table, progress)
    source = pending.result()
    if staged.source_format:
        source = replace(source, format=staged.source_format)
    # Checked once the file is read: a re-sent file costs a read, a new one (the usual
    # case) gets its fingerprint for free while DuckDB parses.
    done = con.execute(
        "SELECT file_id, rows_read, finished_at FROM ingest_files "
        "WHERE sha256 = ? AND table_name = ?", [source.sha256, table.name]
    ).fetchone()
    if done:
        return FileReport(
            path, "already ingested", file_id=done[0],
            message=f"identical to file #{done[0]}, ingested {done[2]:%Y-%m-%d %H:%M} UTC")
    progress("cleaning names, phones, countries, currencies")
    compiler = CleaningCompiler(table, DUCKDB)
    con.execute(compiler.raw_view(staged_names(staged.header, table)))
    build_mappings(con, table)
    progress("checking required fields")
    clean_sql, params = clean_query_for(compiler, table, staged.header, default_provider)
    provider_only = {k: v for k, v in params.items() if k == "default_provider"}
    con.execute(f"CREATE OR REPLACE TEMP TABLE checks AS "
                f"{compiler.checks_query(provider_param(table))}", provider_only or None)
    progress("checking duplicates")
    find_duplicates(con, table, compiler.row_hash_query(provider_param(table)),
                    compiler.stored_row_hash("t"), provider_only)
    progress("writing (clean, convert, insert, notes, provenance)")
    outcome = commit_file(con, table, compiler, FileContext(
        source, staged.header, staged.rows_read, staged.line_mapping, started, user,
        rates_sha, clean_sql, params))
    return FileReport(path, "ingested", staged.rows_read, outcome.accepted,
                      outcome.quarantined, outcome.file_id)


def drop_temporary(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temporary view and table this connection made for the file."""
    for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall():
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
    for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")


def staged_names(header: list[str], table: Table) -> dict[str, str]:
    lowered = [h.lower() for h in header]
    return {f.name: f"c{lowered.index(f.name)}" for f in table.fields if f.name in lowered}


def _extra_positions(header: list[str], table: Table) -> list[int]:
    canonical = set(table.column_names)
    return [i for i, h in enumerate(header) if h.lower() not in canonical]


def provider_param(table: Table, d: Dialect = DUCKDB) -> str | None:
    return d.param("default_provider") if any(f.name == "provider" for f in table.fields) \
        else None


def clean_query_for(compiler: CleaningCompiler, table: Table, header: list[str],
                 default_provider: str) -> tuple[str, dict[str, str]]:
    """The clean query and its bound parameters: a file's column names are data."""
    d = compiler.d
    params: dict[str, str] = {}
    if provider_param(table, d):
        params["default_provider"] = default_provider
    extras = _extra_positions(header, table)
    for i in extras:
        params[f"k{i}"] = header[i]
    extra_json = (d.json_object([(d.param(f"k{i}"), f"c{i}") for i in extras])
                  if extras else d.cast("NULL", "VARCHAR"))
    return compiler.clean_query(extra_json, provider_param(table, d)), params
