"""Entity resolution on Spark gives what it gives on DuckDB, and so does detection on the
subjects it found.

A small world is ingested into DuckDB and resolved there; its transactions and referrals
are exported as Parquet and resolved on Spark in local mode by the command
(``sentinelle resolve --engine spark``), into the same folder, which detection on Spark
then reads. Every record must get the same subject on both engines, every pair the same
levels and a match probability equal to 1e-6, and detection on subjects the same tables.

u is measured on 100,000 pairs rather than a million, on both engines alike: the same code
and the same hash-drawn sample, at a size that keeps Spark's share of the test in minutes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.detect import detect, load_catalogue
from sentinelle.errors import SentinelleError
from sentinelle.ingest import ingest_paths
from sentinelle.resolve import linkage, resolve
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from sentinelle.warehouse.engine import SparkEngine, export_parquet
from sentinelle.warehouse.publish import current_run
from tests.detect.test_engines import TABLES, _differences, _read

SCALE, SEED = 0.05, 7
U_PAIRS = 100_000
KEYS = {"er_records": "record_id", "er_clusters": "record_id",
        "er_pairs": "record_id_l, record_id_r"}


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sentinelle.warehouse.spark import session_for_command

    with session_for_command(tmp_path_factory.mktemp("spark")) as session:
        yield session


def _rows(con: duckdb.DuckDBPyConnection, table: str, parquet: str | None = None
          ) -> list[dict[str, Any]]:
    source = "read_parquet(?)" if parquet else table
    cur = con.execute(f"SELECT * FROM {source} ORDER BY {KEYS[table]}",
                      [parquet] if parquet else [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="module")
def runs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("er-engines")
    generate_world(folder / "w", SCALE, SEED)
    inputs, spark_in = folder / "parquet", folder / "spark-in"
    got: dict[str, Any] = {}
    con = duckdb.connect()
    with pytest.MonkeyPatch.context() as patch, \
            open_warehouse(folder / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        patch.setattr(linkage, "U_MAX_PAIRS", U_PAIRS)
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        got["duck_run"] = resolve(wh, user="test", threads=2)
        export_parquet(wh, inputs)
        spark_in.mkdir()
        for name in ("transactions", "referrals"):  # not DuckDB's er_* tables
            shutil.copy(inputs / f"{name}.parquet", spark_in / f"{name}.parquet")
        got["command"] = CliRunner().invoke(app, [
            "resolve", "--engine", "spark", "--input", str(spark_in),
            "--output", str(spark_in), "--db", str(folder / "w.duckdb")])
        if got["command"].exit_code != 0:
            raise AssertionError(got["command"].output) from got["command"].exception
        for table in KEYS:
            got[table] = (_rows(wh.con, table),
                          _rows(con, table, str(spark_in / f"{table}.parquet" / "*.parquet")))
        got["er_runs"] = con.execute("SELECT run_id, records, pairs, subjects FROM "
                                     "read_parquet(?)", [str(spark_in / "er_runs" / "*.parquet")]
                                     ).fetchall()
        detect(wh, load_catalogue(), user="test", subjects=True)
        output = folder / "spark-results"
        detect(SparkEngine(spark, spark_in, output), load_catalogue(), user="test",
               subjects=True)
        run_dir = output / "runs" / str(current_run(output))
        where = {t: str(run_dir / t / "*.parquet") for t in TABLES}
        got["detect"] = (_read(wh.con, {}, list(TABLES)), _read(con, where, list(TABLES)))
    return got


@pytest.mark.spark
def test_spark_resolves_as_duckdb_does_and_detects_the_same_subjects(
        runs: dict[str, Any]) -> None:
    command = runs["command"]
    assert command.exit_code == 0, command.output or command.exception
    assert "Entity resolution run 1" in command.output
    run = runs["duck_run"]
    assert runs["er_runs"] == [(1, run.records, run.pairs, run.subjects)]
    records, on_spark = runs["er_records"]
    assert on_spark == records
    # The same subject for every record, decided alike; clusters that merge records, and
    # referrals among them, so that the equality is not that of singletons.
    clusters, on_spark = runs["er_clusters"]
    assert on_spark == clusters
    assert any(c["cluster_size"] > 1 and c["record_id"].startswith("referral:")
               for c in clusters)
    pairs, on_spark = runs["er_pairs"]
    assert [(p["record_id_l"], p["record_id_r"]) for p in on_spark] == [
        (p["record_id_l"], p["record_id_r"]) for p in pairs]
    for duck, other in zip(pairs, on_spark, strict=True):
        for col, value in duck.items():
            if isinstance(value, float):
                assert other[col] == pytest.approx(value, abs=1e-6), (col, duck, other)
            else:
                assert other[col] == value, (col, duck, other)
    assert sum(p["match_probability"] >= 0.9 for p in pairs) > 10
    duck_tables, spark_tables = runs["detect"]
    assert _differences(duck_tables, spark_tables) == []
    assert {r["provider"] for r in duck_tables["det_scores"]} == {"subject"}
    assert any(r["matched_on"] == "entity resolution"
               for r in duck_tables["det_referral_matches"])


def test_resolve_on_spark_asks_for_its_input_and_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["resolve", "--engine", "spark", "--db",
                                      str(tmp_path / "w.duckdb")])
    assert isinstance(result.exception, SentinelleError)
    assert "--input DIR --output DIR" in str(result.exception)
