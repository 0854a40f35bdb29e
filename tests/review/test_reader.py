"""The warehouse as the web application reads it: shared by the requests in flight, free
for a writer as soon as none is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from sentinelle.review.reader import WarehouseReader


def test_requests_in_flight_share_the_file_and_free_it_when_done(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    reader = WarehouseReader(path, wait_s=0.1, linger_s=0)
    with reader.open() as first, reader.open() as second:
        assert first.con is not second.con  # each request has its own connection
        first.con.register("mine", first.con.sql("SELECT 2 AS x").to_arrow_table())
        assert first.scalar("SELECT x FROM mine") == 2
        with pytest.raises(duckdb.CatalogException):  # what one registers, others don't see
            second.scalar("SELECT x FROM mine")
        assert first.scalar("SELECT x FROM t") == second.scalar("SELECT x FROM t") == 1
    with duckdb.connect(str(path)) as writer:  # no request in flight: the file is free
        writer.execute("UPDATE t SET x = 3")
    with reader.open() as view:
        assert view.scalar("SELECT x FROM t") == 3


def test_what_pages_ask_first_is_read_once_per_opening(tmp_path: Path) -> None:
    """Which tables exist and the last run cannot change while the file is open (no writer
    can open it), so one opening reads them once; the next opening sees a new run."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE det_runs (run_id VARCHAR, scorer VARCHAR, "
                    "started_at TIMESTAMP, parameters VARCHAR)")
        con.execute("INSERT INTO det_runs VALUES ('r1', 's', '2024-01-01', '{}')")
    reader = WarehouseReader(path, wait_s=0.1, linger_s=0)
    with reader.open() as first, reader.open() as second:
        assert first.latest_run() == {"run_id": "r1", "scorer": "s",
                                      "started_at": datetime(2024, 1, 1), "parameters": "{}"}
        assert "latest_run" in second.facts and second.has_table("det_runs")
        assert not second.has_table("det_scores")
    with duckdb.connect(str(path)) as writer:
        writer.execute("INSERT INTO det_runs VALUES ('r2', 's', '2024-02-01', '{}')")
        writer.execute("CREATE TABLE det_scores (x INTEGER)")
    with reader.open() as view:
        assert (view.latest_run() or {})["run_id"] == "r2" and view.has_table("det_scores")


def _table(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")


def test_the_file_stays_open_a_moment_after_the_last_request(tmp_path: Path) -> None:
    import time

    path = tmp_path / "w.duckdb"
    _table(path)
    reader = WarehouseReader(path, wait_s=0.1, linger_s=0.3)
    with reader.open() as view:
        first = view.facts
        view.has_table("t")
    with reader.open() as view:  # within the moment: the same opening, its facts kept
        assert view.facts is first
    time.sleep(0.6)
    with duckdb.connect(str(path)) as writer:  # the moment has passed: the file is free
        writer.execute("UPDATE t SET x = 2")
    with reader.open() as view:
        assert view.facts is not first and view.scalar("SELECT x FROM t") == 2


def test_a_writer_in_another_process_takes_the_file_from_lingering_readers(
        tmp_path: Path) -> None:
    """The writer declares its intent; the reader, lingering, lets go at its next request
    (or when the moment ends), answers busy while the writer works, and shows the new data
    once it is done."""
    import subprocess
    import sys
    import time

    from sentinelle.review.reader import WarehouseBusy

    path = tmp_path / "w.duckdb"
    _table(path)
    reader = WarehouseReader(path, wait_s=0.2, linger_s=30)
    with reader.open() as view:
        assert view.scalar("SELECT x FROM t") == 1
    # The reader lingers (30 s). A writer process declares itself, waits for the file,
    # writes, holds it a moment and leaves.
    script = (
        "import time, sys\n"
        "from sentinelle.warehouse import open_warehouse\n"
        f"wh = open_warehouse({str(path)!r})\n"
        "wh.execute('UPDATE t SET x = 5')\n"
        "print('written', flush=True)\n"
        "time.sleep(1.0)\n"
        "wh.close()\n")
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True)
    busy = 0
    deadline = time.monotonic() + 20
    while writer.poll() is None and time.monotonic() < deadline:
        try:
            with reader.open() as view:
                view.scalar("SELECT 1")
        except WarehouseBusy:
            busy += 1
    out, _ = writer.communicate(timeout=30)
    assert writer.returncode == 0 and "written" in out
    assert busy > 0  # the reader stood aside while the writer worked
    with reader.open() as view:
        assert view.scalar("SELECT x FROM t") == 5
