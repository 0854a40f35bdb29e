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
    reader = WarehouseReader(path, wait_s=0.1)
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
    reader = WarehouseReader(path, wait_s=0.1)
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
