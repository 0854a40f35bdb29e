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
from sentinelle.warehouse.dialect import DUCKDB, Dialect
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
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute(
            "SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files").fetchone()[0]  # type: ignore[index]
        fid = {"fid": file_id, "tname": table.name}
        _quarantine(con, table, fid, hparams)
        con.execute(f"CREATE OR REPLACE TEMP TABLE excluded AS {EXCLUDED}")
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
        check_reconciles(src.path, ctx.rows_read, accepted, quarantined)
        _hold_for_crash_test()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Outcome(file_id, accepted, quarantined)


def check_reconciles(path: Path, read: int, accepted: int, quarantined: int) -> None:
    if accepted + quarantined != read:
        raise ReconciliationError(
            f"row accounting does not reconcile: read {read}, accepted "
            f"{accepted}, quarantined {quarantined}; nothing was written",
            file=str(path),
            fix="this is a defect in Sentinelle: please report it with the file's layout")


# The staged lines that are not accepted: a problem on a required field, or a duplicate.
EXCLUDED = "SELECT _line FROM checks WHERE _bad IS NOT NULL UNION ALL SELECT _line FROM dups"

# The quarantine table's columns, as each query below names them.
QUARANTINE_COLUMNS = ("file_id", "table_name", "line", "column", "value", "reason",
                      "all_problems", "raw_row")


def quarantine_queries(table: Table, header_width: int,
                       d: Dialect = DUCKDB) -> list[tuple[str, list[str]]]:
    """(SELECT, the parameters it binds) for each kind of quarantined row: a problem on a
    required field, a duplicate key, a row the reader could not split. Parameters:
    ``fid``, ``tname``, ``blame`` and the header's names ``h0…hN``."""
    p = d.param
    heads = [f"h{i}" for i in range(header_width)]
    raw_json = d.json_object([(p(h), f"s.c{i}") for i, h in enumerate(heads)])
    names = [d.ident(c) for c in QUARANTINE_COLUMNS]

    def select(*exprs: str) -> str:
        return ", ".join(f"{e} AS {n}" for e, n in zip(exprs, names, strict=True))

    value_of_bad = "CASE c._bad " + " ".join(
        f"WHEN {d.literal(f.name)} THEN s.{d.ident('r_' + f.name)}"
        for f in table.fields if f.required) + " END"
    out = [(f"""SELECT {select(p("fid"), p("tname"), "c._line", "c._bad", value_of_bad,
                                "c._all_problems", "c._all_problems", raw_json)}
        FROM checks c JOIN stg_r s USING (_line) WHERE c._bad IS NOT NULL""",
            ["fid", "tname", *heads])]
    out.append((f"""SELECT {select(p("fid"), p("tname"), "d._line", p("blame"),
                                   f"c.{d.ident(table.key[-1])}", "d.reason", "d.reason",
                                   raw_json)}
        FROM dups d JOIN checks c USING (_line) JOIN stg s USING (_line)""",
                ["fid", "tname", "blame", *heads]))
    if heads:
        column = d.ident("column")
        header_of = f"CASE r.{column} " + " ".join(
            f"WHEN 'c{i}' THEN {p(h)}" for i, h in enumerate(heads)) + " END"
        out.append((f"""SELECT {select(p("fid"), p("tname"), "r.line",
                                       f"coalesce({header_of}, r.{column})", "r.value",
                                       "r.reason", "r.reason", "r.raw_row")}
            FROM stg_rejects r""", ["fid", "tname", *heads]))
    return out


def _quarantine(con: duckdb.DuckDBPyConnection, table: Table, fid: dict,
                hparams: dict) -> None:
    given = {**fid, **hparams, "blame": table.key[-1]}
    for select, names in quarantine_queries(table, len(hparams)):
        con.execute(f"INSERT INTO quarantine {select}", {n: given[n] for n in names})


def accepted_query(table: Table, clean_sql: str,
                   d: Dialect = DUCKDB) -> tuple[list[str], str]:
    """(the warehouse columns, the SELECT of the accepted rows in that order): the clean
    query's rows not in ``excluded``, converted to EUR, with their provenance (the
    parameter ``fid``: the file's id)."""
    cols = [c for f in table.fields for c, _ in field_columns(f)]
    select = [f"c.{d.ident(c)}" for c in cols]
    target = list(cols)
    join = ""
    if eur_columns(table):
        target += [c for c, _ in eur_columns(table)]
        amount_eur = d.round_to("c.amount / r.units_per_eur", 2)
        select += [d.cast(amount_eur, "DECIMAL(18,2)"), "r.units_per_eur", "r.rate_date"]
        join = ("LEFT JOIN ref_eur_rates_daily r ON r.currency = c.currency "
                f"AND r.day = CAST(c.{d.ident('timestamp')} AS DATE)")
    target += [name for name, _, _ in PROVENANCE_COLUMNS]
    select += [d.param("fid"), "c._line", "c._extra"]
    named = [f"{e} AS {d.ident(t)}" for e, t in zip(select, target, strict=True)]
    return target, f"""SELECT {', '.join(named)}
        FROM ({clean_sql}) c
        {join}
        WHERE NOT EXISTS (SELECT 1 FROM excluded x WHERE x._line = c._line)"""


def _insert_accepted(con: duckdb.DuckDBPyConnection, table: Table, ctx: FileContext,
                     file_id: int) -> int:
    """Insert the accepted rows; return how many."""
    target, select = accepted_query(table, ctx.clean_sql)
    inserted = con.execute(
        f"INSERT INTO {table.name} ({', '.join(q(t) for t in target)}) {select}",
        {**ctx.clean_params, "fid": file_id}).fetchone()
    return int(inserted[0]) if inserted else 0


@dataclass(frozen=True)
class NoteQueries:
    """Cleaning notes over the rows just written (``rows``: the table holding them):
    ``note_rows`` (binds ``fid``) keeps the few rows with a value that failed; each of
    ``fields`` (binds ``fid``, ``tname``) makes one optional field's notes from it;
    ``no_rate`` (binds ``fid``, ``tname``) notes the amounts left without a EUR rate."""

    note_rows: str | None
    fields: list[str]
    no_rate: str | None


def note_queries(table: Table, compiler: CleaningCompiler, rows: str,
                 d: Dialect = DUCKDB) -> NoteQueries:
    """Optional values that could not be cleaned: raw present, clean empty, in the rows
    just written. One scan finds the rows with any such value; the notes are made from
    those few rows, field by field. The scan reads only the columns the notes need:
    reading every column of ten million rows to keep none took three times as long."""
    fields = [f for f in table.fields if not f.required and f.type not in AS_GIVEN]
    p = d.param

    def failed(f: Field) -> str:
        return f"(t.{d.ident(f.name + '_raw')} IS NOT NULL AND t.{d.ident(f.name)} IS NULL)"

    note_rows = None
    if fields:
        needed = ["source_line"]
        for f in fields:
            needed += [f.name, f.name + "_raw"]
            if f.region_from:  # the phone mapping's second key (see note_reason)
                needed.append(f.region_from + "_raw")
        note_rows = (f"SELECT {', '.join(d.ident(c) for c in dict.fromkeys(needed))} "
                     f"FROM {rows} t WHERE t.source_file_id = {p('fid')} "
                     f"AND ({' OR '.join(failed(f) for f in fields)})")
    selects = []
    for f in fields:
        reason, join = compiler.note_reason(f, "t")
        selects.append(
            f"""SELECT {p('fid')}, {p('tname')}, t.source_line, {d.literal(f.name)},
                t.{d.ident(f.name + '_raw')}, {reason}
            FROM note_rows t {join} WHERE {failed(f)}""")
    no_rate = None
    if eur_columns(table):
        day = d.cast(d.cast(d.ident("timestamp"), "DATE"), "VARCHAR")
        no_rate = (
            f"""SELECT {p('fid')}, {p('tname')}, source_line, 'amount', amount_raw,
                   'no EUR reference rate for ' || currency || ' in the {int(MAX_RATE_AGE_DAYS)}'
                   || ' days up to ' || {day} || '; amount_eur left empty'
            FROM {rows} WHERE source_file_id = {p('fid')} AND amount_eur IS NULL""")
    return NoteQueries(note_rows, selects, no_rate)


def _insert_notes(con: duckdb.DuckDBPyConnection, table: Table, compiler: CleaningCompiler,
                  fid: dict) -> None:
    notes = note_queries(table, compiler, table.name)
    if notes.note_rows:
        con.execute(f"CREATE OR REPLACE TEMP TABLE note_rows AS {notes.note_rows}",
                    {"fid": fid["fid"]})
    for select in notes.fields:
        con.execute(f"INSERT INTO cleaning_notes {select}", fid)
    if notes.no_rate and _rows_without_rate(con):
        con.execute(f"INSERT INTO cleaning_notes {notes.no_rate}", fid)


# Whether any row with a currency and a day lacks a reference rate. Asked of the small
# checks table first; the written rows are scanned for notes only when the answer is yes.
NO_RATE_COUNT = """SELECT count(*) FROM checks c WHERE c._bad IS NULL AND NOT EXISTS (
    SELECT 1 FROM ref_eur_rates_daily r WHERE r.currency = c._currency AND r.day = c._day)"""


def _rows_without_rate(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(NO_RATE_COUNT).fetchone()[0])  # type: ignore[index]


def _hold_for_crash_test() -> None:
    """Let the crash-safety test kill the process at the worst moment: all written, not
    committed. Inert unless the variable names a marker file."""
    marker = os.environ.get("SENTINELLE_HOLD_BEFORE_COMMIT")
    if marker:
        Path(marker).write_text("holding")
        time.sleep(120)
