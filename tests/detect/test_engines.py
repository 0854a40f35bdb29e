"""One truth on two engines: detection on Spark gives what it gives on DuckDB.

A small world (with calls paired to payments, and referrals) is ingested into DuckDB and
detected there; its tables are exported as Parquet and detected on Spark in local mode
from the same declarations. Then entity resolution runs, and both engines detect again on
subjects. Every published table must agree: text, counts, ranks, alert numbers and
evidence exactly, scores and measures to 1e-9.

One Spark session serves the module; both Spark runs publish into the same output
directory, so the second also shows how a run replaces the previous one. Each Spark run is
also loaded into a second warehouse holding the same payments (``sentinelle results
load``), which must then hold what DuckDB's own run published and show the same alerts.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.pairing import pair_sessions
from sentinelle.detect import detect, load_catalogue
from sentinelle.errors import SentinelleError
from sentinelle.ingest import ingest_paths
from sentinelle.resolve import resolve
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from sentinelle.warehouse.engine import SparkEngine, export_parquet
from sentinelle.warehouse.publish import CURRENT, current_run

SCALE, SEED = 0.05, 7

# Each published table with the columns that identify a row (run_id differs by design).
TABLES = {
    "det_scores": ("role", "provider", "party_id"),
    "det_contributions": ("role", "provider", "party_id", "indicator"),
    "det_alerts": ("alert_no",),
    "det_evidence": ("role", "provider", "party_id", "indicator", "txn_provider", "txn_id"),
    "det_links": ("provider", "sender_id", "beneficiary_id"),
    "det_referral_matches": ("referral_id", "source", "role", "provider", "party_id"),
    "det_subject_parties": ("subject_id", "side", "provider", "party_id"),
}
Rows = dict[str, list[dict[str, Any]]]


def _read(con: duckdb.DuckDBPyConnection, source: dict[str, str], tables: list[str]) -> Rows:
    """Each table's rows as dicts in key order; ``source`` maps a table to what to read
    it from (a table name, or a Parquet glob bound as a parameter)."""
    out: Rows = {}
    for name in tables:
        key = ", ".join(TABLES[name])
        if name in source:
            cur = con.execute(f"SELECT * FROM read_parquet(?) ORDER BY {key}", [source[name]])
        else:
            cur = con.execute(f"SELECT * FROM {name} ORDER BY {key}")
        cols = [d[0] for d in cur.description]
        out[name] = [{c: v for c, v in zip(cols, row, strict=True) if c != "run_id"}
                     for row in cur.fetchall()]
    return out


def _differences(duck: Rows, spark: Rows) -> list[str]:
    found = []
    for name, rows in duck.items():
        other = spark[name]
        if len(rows) != len(other):
            found.append(f"{name}: {len(rows)} rows on DuckDB, {len(other)} on Spark")
            continue
        for a, b in zip(rows, other, strict=True):
            if a.keys() != b.keys():
                found.append(f"{name}: columns {sorted(a)} against {sorted(b)}")
                break
            for col, x in a.items():
                y = b[col]
                same = (math.isclose(x, y, rel_tol=0, abs_tol=1e-9)
                        if isinstance(x, float) and isinstance(y, float)
                        else _plain(x) == _plain(y))
                if not same:
                    found.append(f"{name} {[a[k] for k in TABLES[name]]} {col}: "
                                 f"{x!r} on DuckDB, {y!r} on Spark")
    return found


def _shape(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The det_* tables' columns with their types, and the indexes on them."""
    columns = con.execute(
        "SELECT table_name, list(column_name || ' ' || data_type ORDER BY column_index) "
        "FROM duckdb_columns() WHERE database_name <> 'temp' AND starts_with(table_name, "
        "'det_') AND table_name NOT IN ('det_runs', 'det_loads') GROUP BY ALL").fetchall()
    indexes = con.execute("SELECT index_name, table_name FROM duckdb_indexes() "
                          "ORDER BY index_name").fetchall()
    return {"columns": dict(columns), "indexes": indexes}


def _plain(value: Any) -> Any:
    """Spark writes a TIMESTAMP as an instant, which DuckDB reads back with a zone; the
    warehouse's are naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sentinelle.warehouse.spark import session_for_command

    with session_for_command(tmp_path_factory.mktemp("spark")) as session:
        yield session


@pytest.fixture(scope="module")
def runs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both engines on parties, then (after entity resolution) on subjects."""
    folder = tmp_path_factory.mktemp("engines")
    generate_world(folder / "w", SCALE, SEED)
    output = folder / "spark-results"
    got: dict[str, Any] = {"output": output}
    con = duckdb.connect()
    loaded = folder / "loaded.duckdb"  # the same payments; results loaded from Spark's
    with open_warehouse(loaded, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
    with open_warehouse(folder / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        ingest_file(wh, get("csv"), folder / "w" / "comms.csv", Options(), user="test")
        pair_sessions(wh)
        for mode in ("parties", "subjects"):
            if mode == "subjects":
                resolve(wh, user="test", threads=2)
            duck_run = detect(wh, load_catalogue(), user="test", subjects=mode == "subjects")
            inputs = folder / f"parquet-{mode}"
            export_parquet(wh, inputs)
            spark_run = detect(SparkEngine(spark, inputs, output), load_catalogue(),
                               user="test", subjects=mode == "subjects")
            tables = [t for t in TABLES if t != "det_subject_parties" or mode == "subjects"]
            run_dir = output / "runs" / str(current_run(output))
            where = {t: str(run_dir / t / "*.parquet") for t in tables}
            got[mode] = {"duck": _read(wh.con, {}, tables), "spark": _read(con, where, tables),
                         "duck_run": duck_run, "spark_run": spark_run}
            got[mode]["load"] = CliRunner().invoke(
                app, ["results", "load", str(output), "--db", str(loaded)],
                env={"SENTINELLE_USER": "loader"})
            got[mode]["alerts"] = {
                name: CliRunner().invoke(app, ["alerts", "--db", str(db), "--limit", "25"])
                for name, db in (("duck", wh.path), ("loaded", loaded))}
            with open_warehouse(loaded, read_only=True) as other:
                got[mode]["loaded"] = _read(other.con, {}, tables)
                got[mode]["loaded_shape"] = _shape(other.con)
                got[mode]["loaded_log"] = other.execute(
                    "SELECT r.run_id, r.run_by, l.loaded_by, l.source FROM det_runs r "
                    "JOIN det_loads l USING (run_id)").fetchall()
            got[mode]["duck_shape"] = _shape(wh.con)
            # Read now: the next Spark run replaces this one's directory.
            got[mode]["spark_runs"] = con.execute(
                "SELECT run_id FROM read_parquet(?)",
                [str(output / "det_runs" / "*.parquet")]).fetchall()
    return got


@pytest.mark.spark
@pytest.mark.parametrize("mode", ["parties", "subjects"])
def test_spark_publishes_what_duckdb_publishes(runs: dict[str, Any], mode: str) -> None:
    duck, spark = runs[mode]["duck"], runs[mode]["spark"]
    assert _differences(duck, spark) == []
    assert runs[mode]["spark_run"].parties == runs[mode]["duck_run"].parties
    assert runs[mode]["spark_run"].alerts == runs[mode]["duck_run"].alerts


@pytest.mark.spark
@pytest.mark.parametrize("mode", ["parties", "subjects"])
def test_the_world_exercises_every_step_compared(runs: dict[str, Any], mode: str) -> None:
    """Equal tables prove little if a step produced nothing: the network rounds, the
    referral matches, shared identifiers and paired sessions all fired on this world."""
    rows = runs[mode]["duck"]
    fired = {r["indicator"] for r in rows["det_contributions"]}
    catalogue = load_catalogue()
    for kind in ("network", "referral", "identifiers", "sessions", "aggregate"):
        assert fired & {i.id for i in catalogue.indicators if i.kind == kind}, kind
    assert len({r["role"] for r in rows["det_alerts"]}) == 2
    assert rows["det_referral_matches"] and rows["det_links"] and rows["det_evidence"]
    if mode == "subjects":
        assert {r["provider"] for r in rows["det_scores"]} == {"subject"}
        assert any(r["matched_on"] == "entity resolution"
                   for r in rows["det_referral_matches"])


@pytest.mark.spark
def test_a_spark_run_replaces_the_previous_one(runs: dict[str, Any]) -> None:
    output: Path = runs["output"]
    first, second = runs["parties"]["spark_run"].run_id, runs["subjects"]["spark_run"].run_id
    assert runs["parties"]["spark_runs"] == [(first,)]
    assert sorted(runs["subjects"]["spark_runs"]) == sorted([(first,), (second,)])
    assert (output / CURRENT).read_text("utf-8") == second + "\n"
    assert current_run(output) == second
    assert [p.name for p in (output / "runs").iterdir()] == [second]


@pytest.mark.spark
@pytest.mark.parametrize("mode", ["parties", "subjects"])
def test_loaded_spark_results_are_what_duckdb_publishes(runs: dict[str, Any],
                                                        mode: str) -> None:
    got = runs[mode]
    assert got["load"].exit_code == 0, got["load"].output
    assert _differences(got["duck"], got["loaded"]) == []
    assert got["loaded_shape"] == got["duck_shape"]
    assert {i for i, _ in got["duck_shape"]["indexes"]} >= {
        "det_scores_party_id", "det_alerts_party_id", "transactions_sender_id"}
    spark_run = got["spark_run"].run_id
    # Who ran it (on Spark) and who loaded it, from where.
    assert (spark_run, "test", "loader", str(runs["output"].resolve())) in got["loaded_log"]


@pytest.mark.spark
@pytest.mark.parametrize("mode", ["parties", "subjects"])
def test_alerts_read_loaded_spark_results_as_duckdb_results(runs: dict[str, Any],
                                                            mode: str) -> None:
    shown = runs[mode]["alerts"]
    assert shown["duck"].exit_code == 0, shown["duck"].output
    assert "alerts" in shown["duck"].output and "• " in shown["duck"].output
    assert shown["loaded"].output == shown["duck"].output


def test_asking_for_spark_without_pyspark_names_the_package(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # None in sys.modules makes the import fail as it does where pyspark is not installed.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.setenv("SENTINELLE_ENGINE", "spark")
    result = CliRunner().invoke(app, ["detect", "--input", str(tmp_path), "--output",
                                      str(tmp_path / "out")])
    # What `sentinelle` prints (cli.main prints the error family's text and exits 2).
    assert isinstance(result.exception, SentinelleError)
    assert "pyspark" in str(result.exception)
    assert "pip install 'sentinelle[spark]'" in str(result.exception)


def test_an_unknown_engine_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["detect", "--engine", "postgres", "--db",
                                      str(tmp_path / "w.duckdb")])
    assert isinstance(result.exception, SentinelleError)
    assert "unknown engine 'postgres'" in str(result.exception)
    assert "duckdb or spark" in str(result.exception)


def test_decimal_columns_compare_exactly() -> None:
    """The comparison above must not pass two different amounts as equal."""
    rows = {"det_links": [{"provider": "p", "sender_id": "s", "beneficiary_id": "b",
                           "eur": Decimal("1.00")}]}
    other = {"det_links": [{"provider": "p", "sender_id": "s", "beneficiary_id": "b",
                            "eur": Decimal("1.01")}]}
    assert _differences(rows, other) and not _differences(rows, rows)
