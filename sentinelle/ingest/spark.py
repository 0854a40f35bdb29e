"""Ingest on Apache Spark: the cleaning, checks, duplicates and EUR conversion compiled for
DuckDB, compiled for Spark (``CleaningCompiler(table, SPARK)``), written as Parquet.

The output directory holds one directory of Parquet files per table, each appended to one
input file at a time, with the DuckDB warehouse's columns and types (read from a DuckDB
warehouse's own DDL, so the two cannot drift):

- ``<table>.parquet/`` (``transactions``, ``referrals``): the accepted rows, which
  ``sentinelle detect --engine spark --input DIR`` reads as it reads an export;
- ``quarantine.parquet/``: file, line, column, value and reason of every refused row;
- ``cleaning_notes.parquet/``: optional values that could not be cleaned;
- ``ingest_files.parquet/``: one row per file, its provenance and its counts. It is
  written last: a file is ingested once its row is there; a file with the same SHA-256
  is then "already ingested", as in the warehouse. Its rows are checked for duplicate
  keys against the rows already in ``<table>.parquet/``.

Reading. Each file is staged by the DuckDB engine's own reader (``staging.stage`` or a
mapped or ISO 20022 reader) in a scratch DuckDB file, then handed to Spark as Parquet.
Why: a quarantine record must name the line of the file where the record starts, and
Spark's CSV reader gives no line numbers; numbering the lines of a text read
(``textFile().zipWithIndex()``) is exact only while no quoted value spans lines, and
would then need DuckDB's fallback (Python's csv module) anyway. The staging gives both
engines the same lines, the same rows refused by the reader with the same reasons, and
every input layout. It reads a local file on one machine, which is fast next to
cleaning, and the file's SHA-256 (provenance; what tells a file sent twice) needs one
sequential read of it anyway, which staging shares. Reading from a distributed file system
is listed in docs/scale.md as not done.
Everything after staging runs on Spark.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from typing import Any

from sentinelle.errors import InputRefused, WarehouseError
from sentinelle.ingest.cleaning import CleaningCompiler, phone_key, raw_col, region_raw_col
from sentinelle.ingest.commit import (
    EXCLUDED,
    NO_RATE_COUNT,
    QUARANTINE_COLUMNS,
    accepted_query,
    check_reconciles,
    note_queries,
    quarantine_queries,
)
from sentinelle.ingest.duplicates import duplicate_queries
from sentinelle.ingest.lookups import clean_values
from sentinelle.ingest.pipeline import (
    ChooseStager,
    FileReport,
    Progress,
    Stager,
    clean_query_for,
    drop_temporary,
    provider_param,
    staged_names,
)
from sentinelle.ingest.sources import discover, start_fingerprint
from sentinelle.ingest.staging import Staged, stage
from sentinelle.model import Table, load_table
from sentinelle.warehouse import Warehouse, open_warehouse
from sentinelle.warehouse.rates import load_rates
from sentinelle.warehouse.spark_dialect import SPARK

LOCK = ".ingest.lock"
TAG = "file"  # each Parquet file a file's rows went to is named fileNNNNNN-…
WRITTEN = ("quarantine", "cleaning_notes")  # beside the table's own rows
NOTE_COLUMNS = ("file_id", "table_name", "line", "column", "value", "reason")
NO_DIGITS = "no digits in the phone number"  # as lookups._phone_map says it


class _Spark:
    """Statements on the session, with named parameters bound, never spliced."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.kept: dict[str, Any] = {}

    def sql(self, text: str, params: dict[str, Any] | None = None) -> Any:
        return self.session.sql(SPARK.statement(text), args=params or None)

    def keep(self, name: str, text: str, params: dict[str, Any] | None = None) -> Any:
        """Computed now, kept for the file (a checkpoint: its rows, not its query)."""
        return self.view(name, self.sql(text, params).localCheckpoint(eager=True))

    def view(self, name: str, frame: Any) -> Any:
        frame.createOrReplaceTempView(name)
        self.kept[name] = frame
        return frame

    def rows(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with warnings.catch_warnings():  # see warehouse.spark.collect
            warnings.filterwarnings("ignore", message="unclosed <socket.socket",
                                    category=ResourceWarning)
            return [tuple(r) for r in self.sql(text, params).collect()]

    def load(self, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> Any:
        schema = ", ".join(f"{SPARK.ident(c)} STRING" for c in columns)
        return self.view(name, self.session.createDataFrame(rows, schema=schema))


class _Output:
    """The output directory: tables read back as views, a file's frames appended."""

    def __init__(self, run: _Spark, directory: Path, work: Path, wh: Warehouse) -> None:
        self.run, self.directory, self.work, self.wh = run, directory, work, wh

    def columns(self, name: str) -> list[tuple[str, str]]:
        """The DuckDB warehouse's columns and types for ``name``."""
        return [(c, t) for c, t in self.wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [name]).fetchall()]

    def read(self, name: str) -> Any:
        """``name`` as a view: what is written so far, else no rows of the right types."""
        path = self.directory / f"{name}.parquet"
        if path.is_dir() and any(path.glob("*.parquet")):
            frame = self.run.session.read.parquet(str(path))
        else:
            schema = ", ".join(f"{SPARK.ident(c)} {SPARK.sql_type(t)}"
                               for c, t in self.columns(name))
            frame = self.run.session.createDataFrame([], schema=schema)
        return self.run.view(name, frame)

    def typed(self, name: str, frame: Any) -> Any:
        """``frame``'s columns, by position, named and typed as the warehouse's ``name``."""
        cols = self.columns(name)
        return frame.toDF(*(c for c, _ in cols)).selectExpr(*(
            f"CAST({SPARK.ident(c)} AS {SPARK.sql_type(t)}) AS {SPARK.ident(c)}"
            for c, t in cols))

    def roll_back(self) -> list[Path]:
        """Remove the rows of a file whose ``ingest_files`` row never arrived (a process
        killed while moving a file's rows in): what DuckDB's rollback does. Each file's
        Parquet files are named after its id, and its ``ingest_files`` row moves in last."""
        def tags(name: str) -> dict[str, list[Path]]:
            found: dict[str, list[Path]] = {}
            for part in (self.directory / f"{name}.parquet").glob(f"{TAG}*.parquet"):
                found.setdefault(part.name.split("-", 1)[0], []).append(part)
            return found

        committed = set(tags("ingest_files"))
        removed = []
        for name in (*WRITTEN, "transactions", "referrals"):
            for tag, parts in tags(name).items():
                if tag not in committed:
                    for part in parts:
                        part.unlink()
                        removed.append(part)
        return removed

    def stage(self, frames: dict[str, Any], tag: str) -> Callable[[], None]:
        """Write each frame beside the output; return what moves them in (renames only),
        so that a failure while Spark writes leaves the output as it was."""
        written = {}
        for name, frame in frames.items():
            where = self.work / f"{tag}-{name}"
            frame.write.parquet(str(where))
            written[name] = where

        def move() -> None:
            for name, where in written.items():
                target = self.directory / f"{name}.parquet"
                target.mkdir(parents=True, exist_ok=True)
                for part in sorted(where.glob("*.parquet")):
                    os.replace(part, target / f"{tag}-{part.name}")
                shutil.rmtree(where, ignore_errors=True)
        return move


def ingest_paths_spark(
    session: Any,
    table_name: str,
    paths: list[Path],
    output: Path,
    *,
    user: str,
    default_provider: str = "unspecified",
    rates: Path | None = None,
    on_file: Callable[[Path, int, int], None] = lambda *_: None,
    progress: Progress = lambda _: None,
    stager_for: ChooseStager | None = None,
    more_suffixes: frozenset[str] = frozenset(),
) -> list[FileReport]:
    """Ingest every file under ``paths`` on Spark into ``output``; a refused file does
    not stop the others (as ``pipeline.ingest_paths``)."""
    table = load_table(table_name)
    files = discover(paths, more_suffixes)
    output.mkdir(parents=True, exist_ok=True)
    lock = _lock(output)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=output))
    run = _Spark(session)
    reports = []
    try:
        with open_warehouse(work / "staging.duckdb", memory_limit="2GB") as wh:
            out = _Output(run, output, work, wh)
            out.roll_back()
            rates_sha = None
            if table.name == "transactions":
                rates_sha = load_rates(wh, rates)
                daily = work / "rates.parquet"
                wh.con.sql("SELECT * FROM ref_eur_rates_daily").write_parquet(str(daily))
                run.view("ref_eur_rates_daily",
                         session.read.parquet(str(daily)).localCheckpoint(eager=True))
            for i, path in enumerate(files):
                on_file(path, i, len(files))
                try:
                    reports.append(_ingest_file(
                        run, out, wh, table, path, user=user, rates_sha=rates_sha,
                        default_provider=default_provider, progress=progress,
                        stager=(stager_for(path) if stager_for else None) or stage))
                except InputRefused as exc:
                    reports.append(FileReport(path, "refused", message=str(exc)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.unlink()
    return reports


def _lock(output: Path) -> Path:
    """One ingest at a time writes ``output``, as one writer holds the DuckDB warehouse:
    two would number their files alike, and one's roll-back would remove the rows the
    other has moved in but not yet recorded."""
    lock = output / LOCK
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise WarehouseError(
            f"another ingest is writing {output}, or one was killed", file=str(lock),
            value=lock.read_text("utf-8").strip() or None,
            fix=f"wait for it to finish; if no ingest runs, remove {lock}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"process {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
    return lock


def _ingest_file(run: _Spark, out: _Output, wh: Warehouse, table: Table, path: Path, *,
                 user: str, rates_sha: str | None, default_provider: str,
                 progress: Progress, stager: Stager) -> FileReport:
    started = datetime.now(UTC).replace(tzinfo=None)
    scratch = out.work / "staged"
    with ThreadPoolExecutor(1) as pool:
        try:
            pending = start_fingerprint(pool, path)
            staged: Staged = stager(wh.con, pending, table, progress)
            source = pending.result()
            if staged.source_format:
                source = replace(source, format=staged.source_format)
            progress("handing the staged rows to Spark")
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            for name in ("stg", "stg_rejects"):
                wh.con.sql(f"SELECT * FROM {name}").write_parquet(str(scratch / name))
        finally:
            drop_temporary(wh.con)
    out.read("ingest_files")
    done = run.rows("SELECT file_id, rows_read, finished_at FROM ingest_files "
                    "WHERE sha256 = :sha AND table_name = :tname",
                    {"sha": source.sha256, "tname": table.name})
    if done:
        return FileReport(
            path, "already ingested", file_id=done[0][0],
            message=f"identical to file #{done[0][0]}, ingested {done[0][2]:%Y-%m-%d %H:%M} UTC")
    file_id = int(run.rows("SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files")[0][0])
    for name in ("stg", "stg_rejects"):
        run.view(name, run.session.read.parquet(str(scratch / name)))

    progress("cleaning names, phones, countries, currencies")
    compiler = CleaningCompiler(table, SPARK)
    run.sql(compiler.raw_view(staged_names(staged.header, table)))
    _build_mappings(run, table)
    progress("checking required fields")
    clean_sql, params = clean_query_for(compiler, table, staged.header, default_provider)
    provider = provider_param(table, SPARK)
    provider_only = {k: v for k, v in params.items() if k == "default_provider"}
    run.keep("checks", compiler.checks_query(provider), provider_only)
    progress("checking duplicates")
    out.read(table.name)  # the rows already written: a key seen there is a duplicate
    candidates, dups = duplicate_queries(table, compiler.row_hash_query(provider),
                                         compiler.stored_row_hash("t"), SPARK)
    run.keep("dup_candidates", candidates)
    run.keep("dups", dups, provider_only)

    progress("clean, convert, quarantine, notes")
    given = {"fid": file_id, "tname": table.name, "blame": table.key[-1],
             **{f"h{i}": h for i, h in enumerate(staged.header)}}
    quarantine = reduce(lambda a, b: a.unionAll(b), (
        run.sql(select, {n: given[n] for n in names}).toDF(*QUARANTINE_COLUMNS)
        for select, names in quarantine_queries(table, len(staged.header), SPARK)))
    quarantine = run.view("file_quarantine", out.typed("quarantine", quarantine)
                          .localCheckpoint(eager=True))
    run.keep("excluded", EXCLUDED)
    _, accepted_sql = accepted_query(table, clean_sql, SPARK)
    accepted = run.view("accepted_rows", out.typed(table.name, run.sql(
        accepted_sql, {**params, "fid": file_id})).localCheckpoint(eager=True))
    notes = _notes(run, out, table, compiler, {"fid": file_id, "tname": table.name})

    counts = (int(accepted.count()), int(quarantine.count()))
    check_reconciles(source.path, staged.rows_read, *counts)
    progress("writing Parquet")
    provenance = out.typed("ingest_files", run.session.createDataFrame([(
        file_id, table.name, str(source.path.resolve()), source.sha256, source.size,
        source.format, staged.rows_read, counts[0], counts[1], staged.line_mapping,
        started.replace(tzinfo=UTC), datetime.now(UTC), user, rates_sha)],
        schema=", ".join(f"{SPARK.ident(c)} {SPARK.sql_type(t)}"
                         for c, t in out.columns("ingest_files"))))
    tag = f"{TAG}{file_id:06d}"
    rows = out.stage({table.name: accepted, "quarantine": quarantine,
                      "cleaning_notes": notes}, tag)
    log = out.stage({"ingest_files": provenance.coalesce(1)}, tag)
    rows()
    log()  # last: the file counts as ingested once its provenance is in place
    shutil.rmtree(scratch, ignore_errors=True)
    return FileReport(path, "ingested", staged.rows_read, counts[0], counts[1], file_id)


def _notes(run: _Spark, out: _Output, table: Table, compiler: CleaningCompiler,
           fid: dict[str, Any]) -> Any:
    """The file's cleaning notes, as ``commit._insert_notes`` makes them."""
    queries = note_queries(table, compiler, "accepted_rows", SPARK)
    frames = []
    if queries.note_rows:
        run.keep("note_rows", queries.note_rows, {"fid": fid["fid"]})
        frames += [run.sql(select, fid).toDF(*NOTE_COLUMNS) for select in queries.fields]
    if queries.no_rate and run.rows(NO_RATE_COUNT)[0][0]:
        frames.append(run.sql(queries.no_rate, fid).toDF(*NOTE_COLUMNS))
    if not frames:
        return out.typed("cleaning_notes", out.read("cleaning_notes").limit(0))
    return out.typed("cleaning_notes", reduce(lambda a, b: a.unionAll(b), frames))


def _build_mappings(run: _Spark, table: Table) -> None:
    """map_country, map_currency, map_name and map_phone as ``lookups.build_mappings``
    makes them: the distinct values, cleaned by the same Python cleaners. Every phone
    goes through ``to_e164``: ``phone_sql``'s shortcut is DuckDB SQL and decides only
    what ``to_e164`` decides the same way."""
    for kind in ("country", "currency", "name"):
        fields = [f for f in table.fields if f.type == kind]
        raws = sorted({r[0] for f in fields for r in run.rows(
            f"SELECT DISTINCT {raw_col(f, SPARK)} FROM stg_r") if r[0] is not None})
        cleaned = clean_values(kind, raws)
        names = ("raw", "folded", "surname") if kind == "name" else ("raw", "clean", "reason")
        run.load(f"map_{kind}", names, [(r, *c) for r, c in zip(raws, cleaned, strict=True)])
    selects = [f"SELECT {raw_col(f, SPARK)} AS written, {region_raw_col(f, SPARK)} "
               f"AS region_raw FROM stg_r" for f in table.fields if f.type == "phone"]
    written: list[tuple[Any, ...]] = []
    if selects:
        written = run.rows(f"SELECT DISTINCT written, region_raw, "
                           f"{phone_key(SPARK, 'written')} AS raw FROM "
                           f"({' UNION ALL '.join(selects)}) u WHERE written IS NOT NULL")
    keys = sorted({(raw, region) for _, region, raw in written if raw})
    by_key = dict(zip(keys, clean_values("phone", keys), strict=True))
    rows = []
    for text, region, raw in written:
        clean, reason = by_key.get((raw, region), (None, None))
        rows.append((text, region, clean, reason or (NO_DIGITS if clean is None else None)))
    run.load("map_phone", ("raw", "region_raw", "clean", "reason"), rows)
