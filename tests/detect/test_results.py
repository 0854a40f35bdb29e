"""Loading published results into the warehouse: all of a run or nothing, attributed.

The results here are laid out as Spark publishes them (``runs/<id>/<table>/*.parquet``,
``det_runs/``, ``CURRENT``), written by DuckDB from a warehouse's own run so that no
Spark is needed; tests/detect/test_engines.py loads a real Spark run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.detect.results import load_results
from sentinelle.detect.run import PUBLISHED
from sentinelle.errors import DetectionError
from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import Warehouse, open_warehouse
from sentinelle.warehouse.connection import LOOKUP_INDEXES
from sentinelle.warehouse.engine import export_parquet
from tests.conftest import TXN_COLUMNS, write_csv
from tests.detect.conftest import Scored, payment

ROWS = [
    payment(1, "S1", "B1", "2024-03-01T23:10:00+08:00", beneficiary_country="PH"),
    payment(2, "S1", "B2", "2024-03-02T23:40:00+08:00", beneficiary_country="RO"),
    payment(3, "S2", "B1", "2024-03-03T10:00:00+01:00", beneficiary_country="PH"),
]


def _publish_as_spark(wh: Warehouse, results: Path) -> str:
    """The warehouse's last run written in Spark's layout; its run id."""
    # Read to the end: DuckDB refuses the relation API on a connection with a result open.
    (run_id,) = wh.execute("SELECT run_id FROM det_runs").fetchall()[0]
    present = {n for (n,) in wh.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in PUBLISHED:
        if name in present:
            (results / "runs" / run_id / name).mkdir(parents=True)
            wh.con.table(name).write_parquet(
                str(results / "runs" / run_id / name / "part-00000.parquet"))
    (results / "det_runs").mkdir(parents=True)
    wh.con.table("det_runs").write_parquet(str(results / "det_runs" / "part-00000.parquet"))
    (results / "CURRENT").write_text(run_id + "\n", "utf-8")
    return str(run_id)


@pytest.fixture
def published(score: Callable[..., Scored], tmp_path: Path) -> tuple[Scored, Path, str]:
    scored = score(ROWS, params=["alert_threshold=0"])
    results = tmp_path / "results"
    return scored, results, _publish_as_spark(scored.wh, results)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Warehouse]:
    wh = open_warehouse(tmp_path / "fresh.duckdb", memory_limit="1GB", threads=2)
    ingest_paths(wh, "transactions", [write_csv(tmp_path / "t.csv", ROWS, TXN_COLUMNS)],
                 user="test")
    yield wh
    wh.close()


def _rows(wh: Warehouse, table: str) -> list[tuple]:
    return wh.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_published_names_every_table_a_run_publishes(score: Callable[..., Scored]) -> None:
    wh = score(ROWS).wh
    tables = {n for (n,) in wh.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'det_') "
        "AND NOT temporary AND table_name <> 'det_runs'").fetchall()}
    assert tables == set(PUBLISHED) - {"det_subject_parties"}  # a run on parties


def test_a_load_holds_the_run_its_indexes_and_who_loaded_it(
        published: tuple[Scored, Path, str], fresh: Warehouse) -> None:
    scored, results, run_id = published
    loaded = load_results(fresh, results, user="analyst")
    assert loaded.run_id == run_id
    for name in ("det_scores", "det_alerts", "det_contributions", "det_evidence"):
        assert _rows(fresh, name) == _rows(scored.wh, name), name
        assert loaded.rows[name] == len(_rows(scored.wh, name)) > 0
    assert not fresh.has_table("det_subject_parties")  # a run on parties has none
    indexes = {n for (n,) in fresh.execute("SELECT index_name FROM duckdb_indexes()")
               .fetchall()}
    assert set(LOOKUP_INDEXES) <= indexes
    assert fresh.execute("SELECT run_id, run_by FROM det_runs").fetchall() == [
        (run_id, "test")]
    assert fresh.execute("SELECT run_id, loaded_by, source FROM det_loads").fetchall() == [
        (run_id, "analyst", str(results))]
    assert loaded.evidence_missing == 0


def test_a_warehouse_without_the_run_s_payments_is_told_so(
        published: tuple[Scored, Path, str], tmp_path: Path) -> None:
    _, results, _ = published
    with open_warehouse(tmp_path / "other.duckdb", memory_limit="1GB", threads=2) as other:
        loaded = load_results(other, results, user="analyst")
        assert loaded.evidence_missing == loaded.rows["det_evidence"] > 0


def test_a_failed_load_leaves_the_previous_results(published: tuple[Scored, Path, str],
                                                   fresh: Warehouse) -> None:
    _, results, run_id = published
    load_results(fresh, results, user="analyst")
    before = {name: _rows(fresh, name) for name in ("det_scores", "det_alerts", "det_runs")}
    # The next run: its scores are readable, its evidence is not Parquet.
    for part in (results / "runs" / run_id / "det_evidence").iterdir():
        part.write_bytes(b"not parquet")
    with pytest.raises(Exception, match="(?i)parquet"):
        load_results(fresh, results, user="analyst")
    assert {name: _rows(fresh, name) for name in before} == before
    assert fresh.scalar("SELECT count(*) FROM det_loads") == 1


@pytest.mark.parametrize(("description", "location", "message", "fix"), [
    ("a remote location", "s3a://bucket/results", "not on this machine", "copy"),
    ("no run published", "{tmp}/empty", "no published run", "--output DIR"),
])
def test_what_cannot_be_loaded_is_refused_with_a_fix(
        description: str, location: str, message: str, fix: str, tmp_path: Path,
        fresh: Warehouse) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DetectionError) as raised:
        load_results(fresh, location.format(tmp=tmp_path), user="analyst")
    assert message in raised.value.message, description
    assert raised.value.fix is not None and fix in raised.value.fix, description
    assert not fresh.has_table("det_scores")


def test_a_run_missing_a_table_is_refused(published: tuple[Scored, Path, str],
                                          fresh: Warehouse) -> None:
    _, results, run_id = published
    for part in (results / "runs" / run_id / "det_alerts").iterdir():
        part.unlink()
    (results / "runs" / run_id / "det_alerts").rmdir()
    with pytest.raises(DetectionError, match="lacks det_alerts"):
        load_results(fresh, results, user="analyst")
    assert not fresh.has_table("det_scores")


def test_the_command_loads_and_alerts_then_read_the_run(
        published: tuple[Scored, Path, str], fresh: Warehouse) -> None:
    _, results, run_id = published
    db = fresh.path
    fresh.close()
    runner = CliRunner()
    done = runner.invoke(app, ["results", "load", str(results), "--db", str(db)],
                         env={"SENTINELLE_USER": "analyst"})
    assert done.exit_code == 0, done.output
    assert run_id in done.output and "det_scores" in done.output
    shown = runner.invoke(app, ["alerts", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "S1" in shown.output and "B1" in shown.output



def _published_rows(wh: Warehouse, name: str) -> list[tuple]:
    """A table's rows in order, without the run id (each run has its own)."""
    columns = [c for (c,) in wh.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_name "
        "<> 'run_id' ORDER BY column_index", [name]).fetchall()]
    listed = ", ".join(f'"{c}"' for c in columns)
    return wh.execute(f"SELECT {listed} FROM {name} ORDER BY ALL").fetchall()


def _close(a: tuple, b: tuple) -> bool:
    return all(abs(x - y) <= 1e-9 if isinstance(x, float) and isinstance(y, float)
               else x == y for x, y in zip(a, b, strict=True))


@pytest.mark.spark
def test_spark_on_file_uris_then_loaded_gives_duckdb_s_results(
        published: tuple[Scored, Path, str], fresh: Warehouse, tmp_path: Path) -> None:
    """The commands end to end: detect on Spark from and to ``file:`` URIs, then load."""
    duck = published[0].wh
    (tmp_path / "in").mkdir()
    export_parquet(duck, tmp_path / "in")
    db = fresh.path
    fresh.close()
    runner = CliRunner()
    ran = runner.invoke(app, ["detect", "--engine", "spark", "--param", "alert_threshold=0",
                              "--input", f"file://{tmp_path / 'in'}",
                              "--output", f"file://{tmp_path / 'out'}"])
    assert ran.exit_code == 0, ran.output
    done = runner.invoke(app, ["results", "load", f"file://{tmp_path / 'out'}", "--db",
                               str(db)])
    assert done.exit_code == 0, done.output
    with open_warehouse(db, read_only=True) as loaded:
        for name in ("det_scores", "det_contributions", "det_alerts", "det_evidence"):
            mine, theirs = _published_rows(loaded, name), _published_rows(duck, name)
            assert len(mine) == len(theirs) > 0, name
            assert all(_close(a, b) for a, b in zip(mine, theirs, strict=True)), name
