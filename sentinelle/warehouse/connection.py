"""Open (and create) the DuckDB warehouse file."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sentinelle.errors import WarehouseError
from sentinelle.model import tables
from sentinelle.warehouse.columns import column_compression, table_columns
from sentinelle.warehouse.intent import declare, withdraw

SCHEMA_VERSION = "1"
# How long a writer waits for readers (the web application's requests in flight) to let
# go of the file before giving up.
WRITER_WAIT_S = 30.0

# Tables that are not canonical data: what came in, what was refused, what was cleaned.
SUPPORT_DDL = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ingest_files (
        file_id INTEGER PRIMARY KEY,
        table_name VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL,
        format VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_accepted BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        line_mapping VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        ingested_by VARCHAR NOT NULL,
        rates_sha256 VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        file_id INTEGER NOT NULL,
        table_name VARCHAR NOT NULL,
        line BIGINT,
        "column" VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        all_problems VARCHAR,
        raw_row VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS cleaning_notes (
        file_id INTEGER NOT NULL,
        table_name VARCHAR NOT NULL,
        line BIGINT NOT NULL,
        "column" VARCHAR NOT NULL,
        value VARCHAR,
        reason VARCHAR NOT NULL
    )""",
    # Who looked at what through the command line: every command that shows rows about
    # people writes here first (the web application keeps its own hash-chained log).
    """CREATE TABLE IF NOT EXISTS access_log (
        accessed_at TIMESTAMP NOT NULL, "user" VARCHAR NOT NULL, command VARCHAR NOT NULL,
        detail VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS ref_eur_rates_daily (
        day DATE NOT NULL, currency VARCHAR NOT NULL, units_per_eur DOUBLE NOT NULL,
        rate_date DATE NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ref_eur_rates (
        date DATE NOT NULL, currency VARCHAR NOT NULL, units_per_eur DOUBLE NOT NULL,
        source VARCHAR
    )""",
]


@dataclass
class Warehouse:
    path: Path
    con: duckdb.DuckDBPyConnection
    intent: Path | None = None  # the writer's intent file (warehouse/intent.py)

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def scalar(self, sql: str, params: Any = None) -> Any:
        # Every row fetched: a result left unfinished (fetchone) blocks the connection's
        # next relation or registration on DuckDB 2.
        rows = self.execute(sql, params).fetchall()
        return rows[0][0] if rows else None

    def has_table(self, name: str) -> bool:
        """Whether a table of the main schema exists (temporary tables are not counted)."""
        return bool(self.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                                "AND NOT temporary", [name]))

    def record_access(self, user: str, command: str, detail: str | None = None) -> None:
        """Write who is about to see what, before it is shown."""
        self.execute("INSERT INTO access_log VALUES (now()::TIMESTAMP, ?, ?, ?)",
                     [user, command, detail])

    def close(self) -> None:
        self.con.close()
        if self.intent is not None:
            withdraw(self.intent)
            self.intent = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The web application's pages read one party at a time (docs/web.md): its payments, and
# its score, contributions, evidence and alert number. Without these, each such read scans
# the whole table. DuckDB uses an index only for a filter on the indexed column alone.
# Ingestion drops them before appending (an indexed table is slow to append to) and
# detection builds them again; it replaces the det_* tables on each run, which drops
# their indexes, so those are built after the results are published.
LOOKUP_INDEXES = {"transactions_sender_id": ("transactions", "sender_id"),
                  "transactions_beneficiary_id": ("transactions", "beneficiary_id"),
                  "det_scores_party_id": ("det_scores", "party_id"),
                  "det_contributions_party_id": ("det_contributions", "party_id"),
                  "det_evidence_party_id": ("det_evidence", "party_id"),
                  "det_alerts_party_id": ("det_alerts", "party_id")}


def create_lookup_indexes(wh: Warehouse, only: Collection[str] | None = None) -> None:
    """The lookup indexes (those on the tables ``only`` names, when given) that do not
    exist yet."""
    for name, (table, column) in LOOKUP_INDEXES.items():
        if only is None or table in only:
            wh.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")


def drop_lookup_indexes(wh: Warehouse) -> None:
    for name in LOOKUP_INDEXES:
        wh.execute(f"DROP INDEX IF EXISTS {name}")


def canonical_ddl() -> list[str]:
    ddl = []
    for table in tables():
        compression = column_compression(table)
        cols = ",\n  ".join(
            f'"{name}" {sql_type}'
            + (f" USING COMPRESSION {compression[name]}" if name in compression else "")
            for name, sql_type in table_columns(table))
        ddl.append(f"CREATE TABLE IF NOT EXISTS {table.name} (\n  {cols}\n)")
    return ddl


def require_existing(path: str | Path) -> None:
    """A command that only looks must not create an empty warehouse by mistake."""
    if not Path(path).exists():
        raise WarehouseError(
            f"there is no warehouse at {path}",
            fix="ingest some data first (sentinelle ingest transactions PATH), or pass --db",
        )


def open_warehouse(
    path: str | Path, memory_limit: str = "3GB", threads: int = 0, read_only: bool = False
) -> Warehouse:
    """Open the warehouse, creating its tables when the file is new."""
    path = Path(path)
    if read_only:
        require_existing(path)
    # A writer tells the web application's readers to let go of the file, then waits for
    # them (their requests in flight) to finish: see warehouse/intent.py.
    intent = None if read_only else declare(path)
    deadline = time.monotonic() + WRITER_WAIT_S
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            # Held by a reader: another process's ("lock"), or this one's web application
            # answering a request ("different configuration").
            held = "lock" in str(exc).lower() or "different configuration" in str(exc)
            if held and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            if intent is not None:
                withdraw(intent)
            raise WarehouseError(
                f"cannot open the warehouse {path}: {exc}",
                fix="check the path, and that no other Sentinelle command holds the file "
                    "open",
            ) from exc
    con.execute(f"SET memory_limit = '{_size(memory_limit)}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # ours is drawn by the command line
    # Staging numbers CSV records by their order in the staged table (ingest/staging.py:
    # rowid + 2 is the line); a parallel load out of order would give wrong lines.
    con.execute("SET preserve_insertion_order = true")
    wh = Warehouse(path, con, intent)
    if not read_only:
        for stmt in SUPPORT_DDL + canonical_ddl():
            con.execute(stmt)
        version = wh.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        if version is None:
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        elif version != SCHEMA_VERSION:
            raise WarehouseError(
                f"the warehouse {path} has schema version {version}; this Sentinelle expects "
                f"{SCHEMA_VERSION}",
                fix="re-ingest into a new warehouse file (--db NEW.duckdb)",
            )
    return wh


def _size(text: str) -> str:
    """Check a DuckDB size such as '3GB' so it can be spliced into SET safely."""
    cleaned = text.strip().replace(" ", "")
    number = cleaned.rstrip("KMGTiBb")
    unit = cleaned[len(number):]
    if not number.replace(".", "", 1).isdigit() or unit.upper() not in {
        "", "B", "KB", "MB", "GB", "TB", "KIB", "MIB", "GIB", "TIB",
    }:
        from sentinelle.errors import SettingsError

        raise SettingsError(
            f"memory_limit {text!r} is not a size", fix="write it like 3GB or 512MB"
        )
    return cleaned
