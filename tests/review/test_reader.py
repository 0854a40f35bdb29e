"""The warehouse as the web application reads it: shared by the requests in flight, free
for a writer as soon as none is."""

from __future__ import annotations

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
