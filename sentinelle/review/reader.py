"""Reading the warehouse from a long-running server.

Why a connection per request: DuckDB lets one process write a file, and a writer needs the
file to itself. The web application must not stop ``sentinelle ingest`` or ``detect`` from
running in another process, so it opens the warehouse read-only for each request (about
10 ms) and closes it at once. Between requests the file is free; new results show up on the
next request without a restart. While a writer holds the file, opening it fails with a lock
error: the reader retries briefly, then says the warehouse is busy (503 in the web layer).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sentinelle.errors import DetectionError, WarehouseError

__all__ = ["WarehouseBusy", "WarehouseReader", "WarehouseView"]


class WarehouseBusy(WarehouseError):
    """Another process (ingestion or detection) holds the warehouse for writing."""


@dataclass
class WarehouseView:
    """One read-only connection to the warehouse, for the length of one request."""

    con: duckdb.DuckDBPyConnection

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def dicts(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
        found = self.dicts(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def has_table(self, name: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = ?", [name]))

    def require_detection(self) -> None:
        if not self.has_table("det_scores"):
            raise DetectionError("detection has not been run on this warehouse",
                                 fix="run sentinelle detect; the results appear here at once")

    def latest_run(self) -> dict[str, Any] | None:
        """The last detection run: its id and scorer (recorded with every decision)."""
        if not self.has_table("det_runs"):
            return None
        return self.one("SELECT run_id, scorer, started_at FROM det_runs "
                        "ORDER BY started_at DESC LIMIT 1")


@dataclass(frozen=True)
class WarehouseReader:
    """Opens the warehouse read-only on demand. ``wait_s`` is how long to keep retrying
    while a writer holds the file before giving up with :class:`WarehouseBusy`."""

    path: Path
    wait_s: float = 2.0
    threads: int = 2
    memory_limit: str = "1GB"

    @contextmanager
    def open(self) -> Iterator[WarehouseView]:
        con = self._connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield WarehouseView(con)
        finally:
            con.close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not Path(self.path).exists():
            raise WarehouseError(f"there is no warehouse at {self.path}",
                                 fix="ingest and detect first, or start the server with --db")
        deadline = time.monotonic() + self.wait_s
        delay = 0.05
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": self.threads, "memory_limit": self.memory_limit}
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=True, config=config)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise WarehouseError(f"cannot open the warehouse {self.path}: {exc}",
                                         fix="check the file") from exc
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        "the warehouse is busy: ingestion or detection is writing to it",
                        fix="try again in a moment; the new results will show when it "
                            "finishes") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.4)
