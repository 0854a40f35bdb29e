"""Reading the warehouse from a long-running server.

Why the file is opened on demand: DuckDB lets one process write a file, and a writer needs
the file to itself. The web application must not stop ``sentinelle ingest`` or ``detect``
from running in another process, so it holds the warehouse open, read-only, only while a
request is being answered. The requests in flight share one open database (each with its
own connection to it): opening the file costs about 15 ms and closing it as much, and a
fresh opening reads the lookup indexes from disk again, so under load it pays to keep it
open while anyone is using it, and for a moment (``linger_s``) after the last request in
flight ends: an analyst's next click usually comes within seconds, and opening the file
again (about 30 ms of CPU, the indexes read anew) cost more than the page itself. A writer
(ingestion, detection, resolution in another process) first declares its intent beside the
file (``warehouse/intent.py``): from then on no new request opens it, the file is closed as
soon as the requests in flight end, and new results show up on the next request without a
restart. While a writer holds the file, opening it fails with a lock error: the reader
retries briefly, then says the warehouse is busy (503 in the web layer).

While the file is open no writer can change it, so what every page asks first — which
tables exist, the last detection run — is read once per opening and shared by the
requests that use it (under load, once for thousands of requests).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sentinelle.errors import DetectionError, WarehouseError
from sentinelle.settings import resolve
from sentinelle.warehouse.intent import on_intent, waiting

__all__ = ["WarehouseBusy", "WarehouseReader", "WarehouseView"]


class WarehouseBusy(WarehouseError):
    """Another process (ingestion or detection) holds the warehouse for writing."""


@dataclass
class WarehouseView:
    """One read-only connection to the warehouse, for the length of one request."""

    con: duckdb.DuckDBPyConnection
    # Facts about the open file, shared by the views of one opening (see above).
    facts: dict[str, Any] = field(default_factory=dict)

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

    def fact(self, name: str, read: Callable[[], Any]) -> Any:
        """What ``read`` returns, read once per opening of the file (see above)."""
        if name not in self.facts:
            self.facts[name] = read()
        return self.facts[name]

    def has_table(self, name: str) -> bool:
        tables = self.fact("tables", lambda: {t for (t,) in self.rows(
            "SELECT table_name FROM duckdb_tables()")})
        return name in tables

    def require_detection(self) -> None:
        if not self.has_table("det_scores"):
            raise DetectionError("detection has not been run on this warehouse",
                                 fix="run sentinelle detect; the results appear here at once")

    def latest_run(self) -> dict[str, Any] | None:
        """The last detection run: its id and scorer (recorded with every decision) and
        its parameters (JSON)."""
        if not self.has_table("det_runs"):
            return None
        found = self.fact("latest_run", lambda: self.one(
            "SELECT run_id, scorer, started_at, parameters FROM det_runs "
            "ORDER BY started_at DESC LIMIT 1"))
        return dict(found) if found else None


@dataclass
class WarehouseReader:
    """Opens the warehouse read-only on demand, shared by the requests in flight and
    closed when the last one ends. ``wait_s`` is how long to keep retrying while a writer
    holds the file before giving up with :class:`WarehouseBusy`."""

    path: Path
    wait_s: float = 2.0
    threads: int = 2
    linger_s: float = field(default_factory=lambda: int(resolve()["web_linger_ms"]) / 1000)
    # The lookup indexes stay in memory once read, beside the cached blocks: the
    # ``memory_limit`` setting (3GB unless set), as for the command line.
    memory_limit: str = field(default_factory=lambda: str(resolve()["memory_limit"]))
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _shared: duckdb.DuckDBPyConnection | None = field(default=None, init=False, repr=False)
    _users: int = field(default=0, init=False, repr=False)
    _facts: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _closer: threading.Timer | None = field(default=None, init=False, repr=False)

    @contextmanager
    def open(self) -> Iterator[WarehouseView]:
        shared, facts = self._acquire()
        try:
            con = shared.cursor()  # a connection of its own: registered tables
            try:
                yield WarehouseView(con, facts)
            finally:
                con.close()
        finally:
            self._release()

    def _acquire(self) -> tuple[duckdb.DuckDBPyConnection, dict[str, Any]]:
        self._wait_for_writer()
        with self._guard:
            if self._closer is not None:
                self._closer.cancel()
                self._closer = None
            if self._shared is None:
                self._shared = self._connect()
                self._facts = {}
            self._users += 1
            return self._shared, self._facts

    def __post_init__(self) -> None:
        on_intent(self.path, self._close_if_idle)

    def _wait_for_writer(self) -> None:
        """A writer has declared its intent: no new request opens the file until it is
        done (or ``wait_s`` has passed: the warehouse is busy)."""
        deadline = time.monotonic() + self.wait_s
        while waiting(self.path):
            self._close_if_idle()
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    "the warehouse is busy: ingestion or detection is about to write to it",
                    fix="try again in a moment; the new results will show when it finishes")
            time.sleep(0.05)

    def _release(self) -> None:
        with self._guard:
            self._users -= 1
            if self._users or self._shared is None:
                return
            if self.linger_s <= 0 or waiting(self.path):
                self._close_locked()
                return
            self._closer = threading.Timer(self.linger_s, self._close_if_idle)
            self._closer.daemon = True
            self._closer.start()

    def _close_if_idle(self) -> None:
        with self._guard:
            if self._users == 0:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._closer is not None:
            self._closer.cancel()
            self._closer = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def close(self) -> None:
        """Let go of the file now (the server's shutdown)."""
        with self._guard:
            self._close_locked()

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
                con = duckdb.connect(str(self.path), read_only=True, config=config)
                # For every connection (cursor) made from it: times are shown in UTC.
                con.execute("SET GLOBAL TimeZone = 'UTC'")
                return con
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
