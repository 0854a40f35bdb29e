"""Look into the warehouse: what is there, where it came from, what was refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, print_counts, warehouse
from sentinelle.errors import SentinelleError
from sentinelle.model import tables


def status(db: DbOption = None) -> None:
    """Rows per table, files ingested, quarantine and cleaning notes."""
    with warehouse(db, read_only=True) as wh:
        names = [t.name for t in tables()] + ["ingest_files", "quarantine", "cleaning_notes"]
        counts = {name: wh.scalar(f"SELECT count(*) FROM {name}") for name in names}
    print_counts(f"Warehouse {wh.path}", counts)


def files(db: DbOption = None) -> None:
    """Every ingested file with its SHA-256, size, row counts, time and user."""
    with warehouse(db, viewing=("files", None)) as wh:
        rows = wh.execute(
            "SELECT file_id, table_name, path, sha256, size_bytes, rows_read, rows_accepted, "
            "rows_quarantined, finished_at, ingested_by FROM ingest_files ORDER BY file_id"
        ).fetchall()
    out = RichTable(title="Ingested files")
    for col in ("#", "table", "file", "sha256", "bytes", "read", "accepted", "quarantined",
                "at (UTC)", "by"):
        out.add_column(col, overflow="fold")
    for r in rows:
        out.add_row(str(r[0]), r[1], Path(r[2]).name, r[3][:12] + "…", f"{r[4]:,}", f"{r[5]:,}",
                    f"{r[6]:,}", f"{r[7]:,}", f"{r[8]:%Y-%m-%d %H:%M:%S}", r[9])
    console.print(out)
    console.print("Full paths and SHA-256: sentinelle trace ID, or the ingest_files table.")


def quarantine(
    db: DbOption = None,
    file_id: Annotated[int | None, typer.Option("--file", help="Only this file (#).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
) -> None:
    """Rows that were not accepted: file, line, column, value and reason; and a summary."""
    where, params = ("WHERE q.file_id = ?", [file_id]) if file_id is not None else ("", [])
    asked = f"file #{file_id}" if file_id is not None else "all files"
    with warehouse(db, viewing=("quarantine", asked)) as wh:
        summary = wh.execute(
            f"""SELECT coalesce(q."column", '(row)'), regexp_replace(q.reason, '[0-9]+', 'N', 'g')
                   AS reason, count(*) FROM quarantine q {where}
                GROUP BY ALL ORDER BY 3 DESC LIMIT 20""", params or None).fetchall()
        rows = wh.execute(
            f"""SELECT f.path, q.line, q."column", q.value, q.reason FROM quarantine q
                JOIN ingest_files f USING (file_id) {where}
                ORDER BY q.file_id, q.line LIMIT ?""", [*params, limit]).fetchall()
    out = RichTable(title="Quarantine by reason")
    for col in ("column", "reason", "rows"):
        out.add_column(col, overflow="fold")
    for column, reason, n in summary:
        out.add_row(column, reason, f"{n:,}")
    console.print(out)
    detail = RichTable(title=f"First {limit} quarantined rows")
    for col in ("file", "line", "column", "value", "reason"):
        detail.add_column(col, overflow="fold")
    for path, line, column, value, reason in rows:
        detail.add_row(path, str(line), column or "", value if value is not None else "∅", reason)
    console.print(detail)


def trace(
    key: Annotated[str, typer.Argument(help="The txn_id (or referral_id) to trace.")],
    table: Annotated[str, typer.Option(help="transactions or referrals.")] = "transactions",
    db: DbOption = None,
) -> None:
    """Where a row came from: the file, its SHA-256 and the line."""
    valid = {t.name: t for t in tables()}
    if table not in valid:
        raise SentinelleError(f"no table {table!r}", fix="use transactions or referrals")
    id_column = valid[table].key[-1]
    with warehouse(db, viewing=("trace", f"{table} {key}")) as wh:
        rows = wh.execute(
            f"""SELECT f.path, f.sha256, t.source_line, f.finished_at, f.ingested_by
                FROM {table} t JOIN ingest_files f ON f.file_id = t.source_file_id
                WHERE t."{id_column}" = ?""", [key]).fetchall()
    if not rows:
        raise SentinelleError(f"no {table} row with {id_column} {key!r}",
                              fix="check the id; quarantined rows: sentinelle quarantine")
    for path, sha, line, at, by in rows:
        console.print(f"{path} line {line}\n  sha256 {sha}\n  ingested {at:%Y-%m-%d %H:%M:%S} "
                      f"UTC by {by}", markup=False, highlight=False)


def summary(
    db: DbOption = None,
    top: Annotated[int, typer.Option(help="Corridors to show.")] = 12,
) -> None:
    """What the warehouse holds: corridors by volume, night-time share, referrals by source."""
    with warehouse(db, viewing=("summary", None)) as wh:
        totals = wh.execute(
            """SELECT count(*), sum(amount_eur), count(DISTINCT sender_id),
                      count(DISTINCT beneficiary_id), min("timestamp"), max("timestamp")
               FROM transactions""").fetchone()
        assert totals is not None
        n, eur, senders, beneficiaries, first, last = totals
        corridors = wh.execute(
            """SELECT sender_country || ' → ' || beneficiary_country, count(*),
                      count(DISTINCT sender_id), sum(amount_eur), median(amount_eur),
                      -- the sender's local hour, from the offset the timestamp carried
                      avg(CASE WHEN hour("timestamp" + timestamp_offset_min * INTERVAL 1 MINUTE)
                          NOT BETWEEN 6 AND 21 THEN 1 ELSE 0 END)
               FROM transactions GROUP BY ALL ORDER BY 2 DESC LIMIT ?""", [top]).fetchall()
        sources = wh.execute(
            "SELECT source, count(*) FROM referrals GROUP BY ALL ORDER BY 2 DESC").fetchall()
        quarantined = wh.scalar("SELECT count(*) FROM quarantine")
    if not n:
        console.print("The warehouse holds no transactions yet: "
                      "sentinelle ingest transactions PATH")
        return
    console.print(
        f"[b]{n:,}[/] transactions, €{(eur or 0):,.0f}, from {senders:,} senders to "
        f"{beneficiaries:,} beneficiaries, {first:%Y-%m-%d} to {last:%Y-%m-%d}; "
        f"{quarantined:,} rows in quarantine.")
    out = RichTable(title="Corridors by number of transfers")
    for col in ("corridor", "transfers", "senders", "EUR", "median EUR", "at night"):
        out.add_column(col, justify="left" if col == "corridor" else "right")
    for corridor, count, nsend, total, median, night in corridors:
        out.add_row(corridor, f"{count:,}", f"{nsend:,}", f"{(total or 0):,.0f}",
                    f"{(median or 0):,.2f}", f"{night:.0%}")
    console.print(out)
    refs = RichTable(title="Referrals by source")
    refs.add_column("source")
    refs.add_column("referrals", justify="right")
    for source, count in sources:
        refs.add_row(source, f"{count:,}")
    console.print(refs)
    console.print("Detection (ranked, explained alerts) is not built yet; this is the raw "
                  "picture it will start from.")


def access(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Entries to show, newest first.")] = 50,
) -> None:
    """Who looked at what through the command line, newest first."""
    with warehouse(db, viewing=("access", None)) as wh:
        rows = wh.execute('SELECT accessed_at, "user", command, detail FROM access_log '
                          "ORDER BY accessed_at DESC LIMIT ?", [limit]).fetchall()
    out = RichTable(title="Access log")
    for col in ("at (UTC)", "user", "command", "detail"):
        out.add_column(col)
    for at, user, command, detail in rows:
        out.add_row(f"{at:%Y-%m-%d %H:%M:%S}", user, command, detail or "")
    console.print(out)


COMMANDS: list[Callable[..., None]] = [status, summary, files, quarantine, trace, access]
