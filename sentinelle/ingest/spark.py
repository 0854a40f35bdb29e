"""Ingest on Apache Spark: the cleaning, checks, duplicates and EUR conversion compiled for
DuckDB, compiled for Spark (``CleaningCompiler(table, SPARK)``), written as Parquet.

The output location (a local directory or any Hadoop-compatible URI: ``hdfs://``,
``s3a://``, ``abfss://``, ``gs://``, reached through ``warehouse.publish.HadoopFiles``)
holds one directory of Parquet files per table, each appended to one input file at a
time, with the DuckDB warehouse's columns and types (read from a DuckDB warehouse's own
DDL, so the two cannot drift):

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
every input layout. It reads a file on the driver's disk, which is fast next to
cleaning, and the file's SHA-256 (provenance; what tells a file sent twice) needs one
sequential read of it anyway, which staging shares. Reading input from a distributed file
system is listed in docs/scale.md as not done. The staged rows go to Spark as Parquet:
read in place beside a local output, else first copied to the output's file system, which
a cluster's executors reach and the driver's disk they do not.
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
from sentinelle.ingest.sources import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    discover,
    start_fingerprint,
)
from sentinelle.ingest.staging import Staged, stage
from sentinelle.model import Table, load_table
from sentinelle.warehouse import Warehouse, open_warehouse
from sentinelle.warehouse.publish import HadoopFiles, child, local_path, location_uri
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
    """The output location (a local directory or any Hadoop-compatible URI, reached
    through ``HadoopFiles``): tables read back as views, a file's frames appended.
    ``work`` is a directory on the same file system, so that appending is renames."""

    def __init__(self, run: _Spark, files: HadoopFiles, work: str, wh: Warehouse) -> None:
        self.run, self.files, self.work, self.wh = run, files, work, wh

    def columns(self, name: str) -> list[tuple[str, str]]:
        """The DuckDB warehouse's columns and types for ``name``."""
        return [(c, t) for c, t in self.wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [name]).fetchall()]

    def _parts(self, name: str) -> list[str]:
        return [n for n in self.files.names(self._table(name)) if n.endswith(".parquet")]

    def _table(self, name: str) -> str:
        return child(self.files.uri, f"{name}.parquet")

    def read(self, name: str) -> Any:
        """``name`` as a view: what is written so far, else no rows of the right types."""
        if self._parts(name):
            frame = self.run.session.read.parquet(self._table(name))
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

    def roll_back(self) -> list[str]:
        """Remove the rows of a file whose ``ingest_files`` row never arrived (a process
        killed while moving a file's rows in): what DuckDB's rollback does. Each file's
        Parquet files are named after its id, and its ``ingest_files`` row moves in last.
        Returns the URIs removed."""
        def tags(name: str) -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for part in self._parts(name):
                if part.startswith(TAG):
                    found.setdefault(part.split("-", 1)[0], []).append(part)
            return found

        committed = set(tags("ingest_files"))
        removed = []
        for name in (*WRITTEN, "transactions", "referrals"):
            for tag, parts in tags(name).items():
                if tag not in committed:
                    for part in parts:
                        removed.append(child(self._table(name), part))
                        self.files.delete(removed[-1])
        return removed

    def stage(self, frames: dict[str, Any], tag: str) -> Callable[[], None]:
        """Write each frame beside the output; return what moves them in (renames only),
        so that a failure while Spark writes leaves the output as it was."""
        written = {}
        for name, frame in frames.items():
            where = child(self.work, f"{tag}-{name}")
            frame.write.parquet(where)
            written[name] = where

        def move() -> None:
            for name, where in written.items():
                target = self._table(name)
                self.files.mkdirs(target)
                for part in self.files.names(where):
                    if part.endswith(".parquet"):
                        self.files.rename(child(where, part), child(target, f"{tag}-{part}"))
                self.files.delete(where)
        return move


def ingest_paths_spark(
    session: Any,
    table_name: str,
    paths: Sequence[str | Path],
    output: str | Path,
    *,
    user: str,
    default_provider: str = "unspecified",
    rates: Path | None = None,
    on_file: Callable[[Path, int, int], None] = lambda *_: None,
    progress: Progress = lambda _: None,
    stager_for: ChooseStager | None = None,
    more_suffixes: frozenset[str] = frozenset(),
) -> list[FileReport]:
    """Ingest every file under ``paths`` on Spark into ``output`` (each a local path or a
    Hadoop-compatible URI); a refused file does not stop the others (as
    ``pipeline.ingest_paths``)."""
    table = load_table(table_name)
    files = _discover(session, paths, more_suffixes)
    out_files = HadoopFiles(session, output)
    out_files.mkdirs(out_files.uri)
    lock = _lock(out_files)
    # The staging warehouse is DuckDB's, on the driver's disk: beside a local output,
    # else in the temporary directory. Spark's own writes go to a directory on the
    # output's file system, so that a file's rows move in by renames.
    here = local_path(output)
    run = _Spark(session)
    reports = []
    local: Path | None = None
    try:
        local = Path(tempfile.mkdtemp(prefix=".ingest-", dir=here))
        work = child(out_files.uri, local.name)
        with open_warehouse(local / "staging.duckdb", memory_limit="2GB") as wh:
            out = _Output(run, out_files, work, wh)
            out.roll_back()
            rates_sha = None
            if table.name == "transactions":
                rates_sha = load_rates(wh, rates)
                daily = local / "rates.parquet"
                wh.con.sql("SELECT * FROM ref_eur_rates_daily").write_parquet(str(daily))
                run.view("ref_eur_rates_daily", session.read.parquet(
                    _shared(out, daily, here, daily.name)).localCheckpoint(eager=True))
            for i, item in enumerate(files):
                path, shown = (item, None) if isinstance(item, Path) else _fetch(
                    session, item, local / "input", progress)
                on_file(path, i, len(files))
                try:
                    reports.append(_ingest_file(
                        run, out, wh, table, path, local, shown, user=user,
                        rates_sha=rates_sha, default_provider=default_provider,
                        progress=progress,
                        stager=(stager_for(path) if stager_for else None) or stage))
                except InputRefused as exc:
                    message = str(exc) if shown is None else str(exc).replace(str(path), shown)
                    reports.append(FileReport(path, "refused", message=message))
    finally:
        if local is not None:
            shutil.rmtree(local, ignore_errors=True)
            out_files.delete(child(out_files.uri, local.name))
        out_files.delete(lock)
    return reports


def _fetch(session: Any, uri: str, into: Path, progress: Progress) -> tuple[Path, str]:
    """A file on another file system, copied to the driver's disk (the previous one
    removed): its local path, and its URI for the provenance."""
    progress("copying the file to the driver")
    shutil.rmtree(into, ignore_errors=True)
    path = into / uri.rsplit("/", 1)[-1]
    HadoopFiles(session, uri).download(uri, path)
    return path, uri


def _discover(session: Any, paths: Sequence[str | Path],
              more_suffixes: frozenset[str]) -> list[Path | str]:
    """The files to ingest, in order: on this machine, as ``sources.discover`` finds
    them; on another file system (a URI), the file named or the files under the folder
    named, by Hadoop, as URIs."""
    found: list[Path | str] = []
    suffixes = CSV_SUFFIXES | PARQUET_SUFFIXES | more_suffixes
    for given in paths:
        here = local_path(given)
        if here is not None:
            found += discover([here if str(given).startswith("file:") else Path(given)],
                              more_suffixes)
            continue
        uri = location_uri(given)
        listed = HadoopFiles(session, uri).files(uri)
        if not listed:
            raise InputRefused(f"{given} does not exist", fix="check the URI")
        found += listed if listed == [uri] else [
            f for f in listed if "." + f.rsplit(".", 1)[-1].lower() in suffixes]
    return found


def _shared(out: _Output, local: Path, here: Path | None, name: str) -> str:
    """Where Spark reads a file the driver wrote: in place beside a local output, else
    copied to the output's file system first (the executors of a cluster cannot read
    the driver's disk)."""
    if here is not None:
        return location_uri(local)
    uri = child(out.work, name)
    out.files.upload(local, uri)
    return uri


def _lock(files: HadoopFiles) -> str:
    """One ingest at a time writes the output, as one writer holds the DuckDB warehouse:
    two would number their files alike, and one's roll-back would remove the rows the
    other has moved in but not yet recorded."""
    lock = child(files.uri, LOCK)
    holder = f"process {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n"
    if not files.create_new(lock, holder):
        raise WarehouseError(
            f"another ingest is writing {files.uri}, or one was killed", file=lock,
            value=(files.read_text(lock) or "").strip() or None,
            fix=f"wait for it to finish; if no ingest runs, remove {lock}")
    return lock


def _ingest_file(run: _Spark, out: _Output, wh: Warehouse, table: Table, path: Path,
                 local: Path, shown: str | None, *, user: str, rates_sha: str | None,
                 default_provider: str, progress: Progress, stager: Stager) -> FileReport:
    started = datetime.now(UTC).replace(tzinfo=None)
    scratch = local / "staged"
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
    here = local_path(out.files.uri)
    for name in ("stg", "stg_rejects"):
        where = _shared(out, scratch / name, here, f"{scratch.name}/{name}")
        run.view(name, run.session.read.parquet(where))

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
        file_id, table.name, shown or str(source.path.resolve()), source.sha256, source.size,
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
    if here is None:
        out.files.delete(child(out.work, scratch.name))
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
