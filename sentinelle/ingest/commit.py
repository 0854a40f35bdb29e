"""Write one file's outcome in one transaction: quarantine, accepted rows, notes, provenance.

Nothing here is visible to anyone until COMMIT; a process killed before it leaves the
warehouse as it was before the file. The row accounting is checked before committing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sentinelle.errors import ReconciliationError
from sentinelle.ingest.cleaning import CleaningCompiler
from sentinelle.ingest.sources import SourceFile
from sentinelle.model import Field, Table
from sentinelle.normalise import MAX_RATE_AGE_DAYS
from sentinelle.warehouse.columns import AS_GIVEN, PROVENANCE_COLUMNS, eur_columns, field_columns
from sentinelle.warehouse.dialect import quote_ident as q


@dataclass(frozen=True)
class Outcome:
    file_id: int
    accepted: int
    quarantined: int


@dataclass(frozen=True)
class FileContext:
    source: SourceFile
    header: list[str]
    rows_read: int
    line_mapping: str
    started: datetime
    user: str
    rates_sha: str | None
    clean_sql: str  # the compiled clean query
    clean_params: dict[str, str]  # its bound parameters


def commit_file(con: duckdb.DuckDBPyConnection, table: Table, compiler: CleaningCompiler,
                ctx: FileContext) -> Outcome:
    hparams = {f"h{i}": h for i, h in enumerate(ctx.header)}
    raw_json = "json_object(" + ", ".join(f"$h{i}, s.c{i}" for i in range(len(ctx.header))) + ")"
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute(
            "SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files").fetchone()[0]  # type: ignore[index]
        fid = {"fid": file_id, "tname": table.name}
        _quarantine(con, table, fid, hparams, raw_json)
        con.execute("""CREATE OR REPLACE TEMP TABLE excluded AS
            SELECT _line FROM checks WHERE _bad IS NOT NULL UNION ALL SELECT _line FROM dups""")
        accepted = _insert_accepted(con, table, ctx, file_id)
        _insert_notes(con, table, compiler, fid)
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE file_id = ?",
                                  [file_id]).fetchone()[0]  # type: ignore[index]
        src = ctx.source
        con.execute(
            "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, table.name, str(src.path.resolve()), src.sha256, src.size, src.format,
             ctx.rows_read, accepted, quarantined, ctx.line_mapping, ctx.started,
             datetime.now(UTC).replace(tzinfo=None), ctx.user, ctx.rates_sha])
        if accepted + quarantined != ctx.rows_read:
            raise ReconciliationError(
                f"row accounting does not reconcile: read {ctx.rows_read}, accepted "
                f"{accepted}, quarantined {quarantined}; nothing was written",
                file=str(src.path),
                fix="this is a defect in Sentinelle: please report it with the file's layout")
        _hold_for_crash_test()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Outcome(file_id, accepted, quarantined)


def _quarantine(con: duckdb.DuckDBPyConnection, table: Table, fid: dict, hparams: dict,
                raw_json: str) -> None:
    value_of_bad = "CASE c._bad " + " ".join(
        f"WHEN '{f.name}' THEN s.{q('r_' + f.name)}" for f in table.fields if f.required
    ) + " END"
    con.execute(
        f"""INSERT INTO quarantine
        SELECT $fid, $tname, c._line, c._bad, {value_of_bad}, c._all_problems, c._all_problems,
               {raw_json}
        FROM checks c JOIN stg_r s USING (_line) WHERE c._bad IS NOT NULL""",
        {**fid, **hparams})
    blame = table.key[-1]
    con.execute(
        f"""INSERT INTO quarantine
        SELECT $fid, $tname, d._line, $blame, c.{q(blame)}, d.reason, d.reason, {raw_json}
        FROM dups d JOIN checks c USING (_line) JOIN stg s USING (_line)""",
        {**fid, **hparams, "blame": blame})
    if hparams:
        header_of = "CASE r.\"column\" " + " ".join(
            f"WHEN 'c{i}' THEN $h{i}" for i in range(len(hparams))) + " END"
        con.execute(
            f"""INSERT INTO quarantine
            SELECT $fid, $tname, r.line, coalesce({header_of}, r."column"), r.value, r.reason,
                   r.reason, r.raw_row
            FROM stg_rejects r""", {**fid, **hparams})


def _insert_accepted(con: duckdb.DuckDBPyConnection, table: Table, ctx: FileContext,
                     file_id: int) -> int:
    """Insert the accepted rows; return how many."""
    cols = [c for f in table.fields for c, _ in field_columns(f)]
    select = [f"c.{q(c)}" for c in cols]
    target = list(cols)
    join = ""
    if eur_columns(table):
        target += [c for c, _ in eur_columns(table)]
        select += ["CAST(round(c.amount / r.units_per_eur, 2) AS DECIMAL(18,2))",
                   "r.units_per_eur", "r.rate_date"]
        join = ("LEFT JOIN ref_eur_rates_daily r ON r.currency = c.currency "
                "AND r.day = CAST(c.\"timestamp\" AS DATE)")
    target += [name for name, _, _ in PROVENANCE_COLUMNS]
    select += ["$fid", "c._line", "c._extra"]
    inserted = con.execute(
        f"""INSERT INTO {table.name} ({', '.join(q(t) for t in target)})
        SELECT {', '.join(select)}
        FROM ({ctx.clean_sql}) c
        {join}
        WHERE NOT EXISTS (SELECT 1 FROM excluded x WHERE x._line = c._line)""",
        {**ctx.clean_params, "fid": file_id}).fetchone()
    return int(inserted[0]) if inserted else 0


def _insert_notes(con: duckdb.DuckDBPyConnection, table: Table, compiler: CleaningCompiler,
                  fid: dict) -> None:
    """Optional values that could not be cleaned: raw present, clean empty, in the rows
    just written. One scan finds the rows with any such value; the notes are made from
    those few rows, field by field. The scan reads only the columns the notes need:
    reading every column of ten million rows to keep none took three times as long."""
    fields = [f for f in table.fields if not f.required and f.type not in AS_GIVEN]

    def failed(f: Field) -> str:
        return f"(t.{q(f.name + '_raw')} IS NOT NULL AND t.{q(f.name)} IS NULL)"

    if fields:
        needed = ["source_line"]
        for f in fields:
            needed += [f.name, f.name + "_raw"]
            if f.region_from:  # the phone mapping's second key (see note_reason)
                needed.append(f.region_from + "_raw")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE note_rows AS
            SELECT {', '.join(q(c) for c in dict.fromkeys(needed))} FROM {table.name} t
            WHERE t.source_file_id = $fid AND ({' OR '.join(failed(f) for f in fields)})""",
            {"fid": fid["fid"]})
    for f in fields:
        reason, join = compiler.note_reason(f, "t")
        con.execute(
            f"""INSERT INTO cleaning_notes
            SELECT $fid, $tname, t.source_line, '{f.name}', t.{q(f.name + '_raw')}, {reason}
            FROM note_rows t {join} WHERE {failed(f)}""", fid)
    if eur_columns(table) and _rows_without_rate(con):
        con.execute(
            f"""INSERT INTO cleaning_notes
            SELECT $fid, $tname, source_line, 'amount', amount_raw,
                   'no EUR reference rate for ' || currency || ' in the {int(MAX_RATE_AGE_DAYS)}'
                   || ' days up to ' || CAST(CAST("timestamp" AS DATE) AS VARCHAR)
                   || '; amount_eur left empty'
            FROM {table.name} WHERE source_file_id = $fid AND amount_eur IS NULL""", fid)


def _rows_without_rate(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any row with a currency and a day lacks a reference rate. Asked of the small
    checks table first; the written rows are scanned for notes only when the answer is yes."""
    return bool(con.execute(
        """SELECT count(*) FROM checks c WHERE c._bad IS NULL AND NOT EXISTS (
               SELECT 1 FROM ref_eur_rates_daily r
               WHERE r.currency = c._currency AND r.day = c._day)""").fetchone()[0])  # type: ignore[index]


def _hold_for_crash_test() -> None:
    """Let the crash-safety test kill the process at the worst moment: all written, not
    committed. Inert unless the variable names a marker file."""
    marker = os.environ.get("SENTINELLE_HOLD_BEFORE_COMMIT")
    if marker:
        Path(marker).write_text("holding")
        time.sleep(120)
