"""Ingest files into the warehouse: every row accepted or quarantined, one transaction a file.

For each file: fingerprint it (a file already ingested adds nothing), stage it, clean
it with the SQL compiled from the model, find duplicate keys, then write accepted
rows, quarantine records, cleaning notes and the file's provenance in ONE transaction.
A killed process leaves the warehouse as it was before that file: the staging tables
are temporary and the transaction never committed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sentinelle.errors import InputRefused
from sentinelle.ingest.cleaning import CleaningCompiler
from sentinelle.ingest.mappings import build_mappings
from sentinelle.ingest.sources import SourceFile, discover, fingerprint
from sentinelle.ingest.staging import stage
from sentinelle.model import Table, load_table
from sentinelle.normalise import MAX_RATE_AGE_DAYS, rates_table
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.columns import AS_GIVEN, PROVENANCE_COLUMNS, eur_columns, field_columns
from sentinelle.warehouse.dialect import DUCKDB, quote_ident

Progress = Callable[[str], None]



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
) -> list[FileReport]:
    """Ingest every file under ``paths``; a refused file does not stop the others."""
    table = load_table(table_name)
    files = discover(paths)
    rates_sha = _load_rates(wh, rates) if table.name == "transactions" else None
    reports = []
    for i, path in enumerate(files):
        on_file(path, i, len(files))
        try:
            reports.append(ingest_file(wh, table, path, user=user, rates_sha=rates_sha,
                                       default_provider=default_provider, progress=progress))
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
) -> FileReport:
    con = wh.con
    started = datetime.now(UTC).replace(tzinfo=None)
    progress("fingerprinting")
    source = fingerprint(path)
    done = con.execute(
        "SELECT file_id, rows_read, finished_at FROM ingest_files "
        "WHERE sha256 = ? AND table_name = ?", [source.sha256, table.name]
    ).fetchone()
    if done:
        return FileReport(
            path, "already ingested", file_id=done[0],
            message=f"identical to file #{done[0]}, ingested {done[2]:%Y-%m-%d %H:%M} UTC")
    try:
        staged = stage(con, source, table, progress)
        progress("cleaning")
        compiler = CleaningCompiler(table, DUCKDB)
        _create_raw_view(con, table, compiler, staged.header)
        build_mappings(con, table)
        _create_cleaned(con, table, compiler, staged.header, default_provider)
        progress("checking duplicates")
        _create_dups(con, table)
        progress("writing")
        report = _commit(con, table, source, staged.header, staged.rows_read,
                         staged.line_mapping, started, user, rates_sha)
    finally:
        _drop_temporary(con)
    return report


def _drop_temporary(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temporary view and table this connection made for the file."""
    for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall():
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
    for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")


def _load_rates(wh: Warehouse, rates: Path | None) -> str:
    """Keep the warehouse's copy of the reference rates equal to the file in force."""
    arrow, sha = rates_table(rates), _rates_sha(rates)
    if wh.scalar("SELECT value FROM meta WHERE key = 'rates_sha256'") != sha:
        wh.con.register("rates_batch", arrow)
        wh.execute("BEGIN TRANSACTION")
        wh.execute("DELETE FROM ref_eur_rates")
        wh.execute("INSERT INTO ref_eur_rates SELECT date, currency, units_per_eur, source "
                   "FROM rates_batch")
        # One row per currency and day a rate is in force: the conversion is then a plain
        # equality join, the same on every engine, and a rate never reaches further than
        # MAX_RATE_AGE_DAYS.
        wh.execute("DELETE FROM ref_eur_rates_daily")
        wh.execute(
            f"""INSERT INTO ref_eur_rates_daily
            SELECT CAST(d.day AS DATE), r.currency, r.units_per_eur, r.date
            FROM (SELECT *, lead(date) OVER (PARTITION BY currency ORDER BY date) AS next
                  FROM ref_eur_rates) r,
                 LATERAL (SELECT unnest(generate_series(
                     CAST(r.date AS TIMESTAMP),
                     CAST(least(coalesce(r.next - 1, r.date + {int(MAX_RATE_AGE_DAYS)}),
                                r.date + {int(MAX_RATE_AGE_DAYS)}) AS TIMESTAMP),
                     INTERVAL 1 DAY)) AS day) d""")
        wh.execute("INSERT OR REPLACE INTO meta VALUES ('rates_sha256', ?)", [sha])
        wh.execute("COMMIT")
        wh.con.unregister("rates_batch")
    return sha


def _rates_sha(rates: Path | None) -> str:
    from importlib import resources

    data = rates.read_bytes() if rates else (
        resources.files("sentinelle.normalise").joinpath("data/eur_rates.csv").read_bytes())
    return hashlib.sha256(data).hexdigest()


def _staged_names(header: list[str], table: Table) -> dict[str, str]:
    lowered = [h.lower() for h in header]
    return {f.name: f"c{lowered.index(f.name)}" for f in table.fields if f.name in lowered}


def _extra_positions(header: list[str], table: Table) -> list[int]:
    canonical = set(table.column_names)
    return [i for i, h in enumerate(header) if h.lower() not in canonical]


def _create_raw_view(
    con: duckdb.DuckDBPyConnection, table: Table, compiler: CleaningCompiler, header: list[str]
) -> None:
    con.execute(compiler.raw_view(_staged_names(header, table)))


def _create_cleaned(
    con: duckdb.DuckDBPyConnection, table: Table, compiler: CleaningCompiler,
    header: list[str], default_provider: str,
) -> None:
    has_provider = any(f.name == "provider" for f in table.fields)
    params: dict[str, str] = {"default_provider": default_provider} if has_provider else {}
    extras = _extra_positions(header, table)
    if extras:
        for i in extras:
            params[f"k{i}"] = header[i]  # a file's column names are data: bind them
        extra_json = "json_object(" + ", ".join(f"$k{i}, c{i}" for i in extras) + ")"
    else:
        extra_json = "CAST(NULL AS VARCHAR)"
    query = compiler.cleaned_query(extra_json, "$default_provider" if has_provider else None)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cleaned AS {query}", params)


def _create_dups(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    key = ", ".join(quote_ident(k) for k in table.key)
    on = " AND ".join(f"t.{quote_ident(k)} = ok.{quote_ident(k)}" for k in table.key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE dups AS
        WITH ok AS (SELECT _line, {key}, _row_hash FROM cleaned WHERE _bad IS NULL),
        dk AS (SELECT {key} FROM ok GROUP BY ALL HAVING count(*) > 1),
        w AS (
            SELECT ok.*, first_value(_line) OVER win AS first_line,
                   first_value(_row_hash) OVER win AS first_hash,
                   row_number() OVER win AS rn
            FROM ok SEMI JOIN dk USING ({key})
            WINDOW win AS (PARTITION BY {key} ORDER BY _line)),
        within AS (
            SELECT _line, CASE WHEN _row_hash = first_hash
                THEN 'duplicate: identical to line ' || first_line || ' of this file'
                ELSE 'duplicate key: already used on line ' || first_line
                     || ' of this file with different content; not overwritten' END AS reason
            FROM w WHERE rn > 1),
        existing AS (
            SELECT ok._line, CASE WHEN ok._row_hash = t.row_hash
                THEN 'duplicate: identical to the row already ingested from file #'
                     || t.source_file_id || ' line ' || t.source_line
                ELSE 'duplicate key: a row with this key came from file #' || t.source_file_id
                     || ' line ' || t.source_line
                     || ' with different content; not overwritten' END AS reason
            FROM ok JOIN {table.name} t ON {on})
        SELECT _line, min(reason) AS reason FROM
            (SELECT * FROM within UNION ALL SELECT * FROM existing) GROUP BY _line"""
    )


def _commit(
    con: duckdb.DuckDBPyConnection, table: Table, source: SourceFile, header: list[str],
    rows_read: int, line_mapping: str, started: datetime, user: str, rates_sha: str | None,
) -> FileReport:
    blame = table.key[-1]
    names = {f"c{i}": h for i, h in enumerate(header)}
    raw_json = "json_object(" + ", ".join(f"$h{i}, s.c{i}" for i in range(len(header))) + ")"
    hparams = {f"h{i}": h for i, h in enumerate(header)}
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute(
            "SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files").fetchone()[0]  # type: ignore[index]
        fid = {"fid": file_id, "tname": table.name}
        value_of_bad = "CASE c._bad " + " ".join(
            f"WHEN '{f.name}' THEN c.{quote_ident(_raw_column(f.name, f.type))}"
            for f in table.fields if f.required) + " END"
        con.execute(
            f"""INSERT INTO quarantine
            SELECT $fid, $tname, c._line, c._bad, {value_of_bad},
                   c._all_problems, c._all_problems, {raw_json}
            FROM cleaned c JOIN stg s USING (_line) WHERE c._bad IS NOT NULL""",
            {**fid, **hparams})
        con.execute(
            f"""INSERT INTO quarantine
            SELECT $fid, $tname, d._line, $blame, c.{quote_ident(blame)}, d.reason, d.reason,
                   {raw_json}
            FROM dups d JOIN cleaned c USING (_line) JOIN stg s USING (_line)""",
            {**fid, **hparams, "blame": blame})
        header_case = "CASE r.\"column\" " + " ".join(
            f"WHEN '{c}' THEN $h{c[1:]}" for c in names) + " END" if names else "NULL"
        con.execute(
            f"""INSERT INTO quarantine
            SELECT $fid, $tname, r.line, {header_case}, r.value, r.reason, r.reason,
                   r.raw_row FROM stg_rejects r""",
            {**fid, **hparams} if names else fid)
        _insert_accepted(con, table, fid)
        _insert_notes(con, table, fid)
        accepted = con.execute(f"SELECT count(*) FROM {table.name} WHERE source_file_id = ?",
                               [file_id]).fetchone()[0]  # type: ignore[index]
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE file_id = ?",
                                  [file_id]).fetchone()[0]  # type: ignore[index]
        con.execute(
            "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, table.name, str(source.path.resolve()), source.sha256, source.size,
             source.format, rows_read, accepted, quarantined, line_mapping, started,
             datetime.now(UTC).replace(tzinfo=None), user, rates_sha])
        if accepted + quarantined != rows_read:
            raise AssertionError(
                f"row accounting does not reconcile for {source.path}: read {rows_read}, "
                f"accepted {accepted}, quarantined {quarantined}")
        _hold_for_crash_test()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return FileReport(source.path, "ingested", rows_read, accepted, quarantined, file_id)


def _hold_for_crash_test() -> None:
    """Let the crash-safety test kill the process at the worst moment: all written, not
    committed. Inert unless the variable names a marker file."""
    marker = os.environ.get("SENTINELLE_HOLD_BEFORE_COMMIT")
    if marker:
        Path(marker).write_text("holding")
        time.sleep(120)


def _raw_column(name: str, ftype: str) -> str:
    return name if ftype in AS_GIVEN else name + "_raw"


def _insert_accepted(con: duckdb.DuckDBPyConnection, table: Table, fid: dict) -> None:
    cols = [c for f in table.fields for c, _ in field_columns(f)]
    select = [f"c.{quote_ident(c)}" for c in cols]
    target = list(cols)
    join = ""
    if eur_columns(table):
        target += [c for c, _ in eur_columns(table)]
        select += ["CAST(round(c.amount / r.units_per_eur, 2) AS DECIMAL(18,2))",
                   "r.units_per_eur", "r.rate_date"]
        join = ("LEFT JOIN ref_eur_rates_daily r ON r.currency = c.currency "
                "AND r.day = CAST(c.\"timestamp\" AS DATE)")
    target += [name for name, _, _ in PROVENANCE_COLUMNS]
    select += ["$fid", "c._line", "c._row_hash", "c._extra"]
    con.execute(
        f"""INSERT INTO {table.name} ({', '.join(quote_ident(t) for t in target)})
        SELECT {', '.join(select)} FROM cleaned c {join}
        WHERE c._bad IS NULL AND NOT EXISTS (SELECT 1 FROM dups d WHERE d._line = c._line)""",
        {"fid": fid["fid"]})


def _insert_notes(con: duckdb.DuckDBPyConnection, table: Table, fid: dict) -> None:
    accepted = ("c._bad IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM dups d WHERE d._line = c._line)")
    for f in table.fields:
        if f.required or f.type in AS_GIVEN:
            continue
        con.execute(
            f"""INSERT INTO cleaning_notes
            SELECT $fid, $tname, c._line, '{f.name}', c.{quote_ident(f.name + '_raw')},
                   c.{quote_ident('_p_' + f.name)}
            FROM cleaned c WHERE {accepted} AND c.{quote_ident('_p_' + f.name)} IS NOT NULL""",
            fid)
    if eur_columns(table):
        con.execute(
            f"""INSERT INTO cleaning_notes
            SELECT $fid, $tname, source_line, 'amount', amount_raw,
                   'no EUR reference rate for ' || currency || ' in the {int(MAX_RATE_AGE_DAYS)}'
                   || ' days up to ' || CAST(CAST("timestamp" AS DATE) AS VARCHAR)
                   || '; amount_eur left empty'
            FROM {table.name} WHERE source_file_id = $fid AND amount_eur IS NULL""", fid)
