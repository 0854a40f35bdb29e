"""Ingestion on Spark gives what ingestion on DuckDB gives, from the same compiled SQL.

The same files are ingested into a DuckDB warehouse and, on Spark in local mode, into a
directory of Parquet tables; accepted rows (every column), quarantine records, cleaning
notes and each file's counts must be equal. Then a small world is ingested and detected
on each engine: the scores must be equal too. One Spark session serves the module (Spark
has a large fixed cost per query: the tests are few and their files small).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.detect import detect, load_catalogue
from sentinelle.errors import InputRefused, WarehouseError
from sentinelle.ingest import ingest_paths, ingest_paths_spark
from sentinelle.ingest.readers import more_suffixes, stager_for
from sentinelle.ingest.spark import _discover, _Output
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from sentinelle.warehouse.engine import SparkEngine
from sentinelle.warehouse.publish import HadoopFiles, local_path
from tests.conftest import TXN_COLUMNS, txn, viewfs_uri, write_csv

FIXTURES = Path(__file__).parents[1] / "fixtures" / "iso20022"
ORDER = {"transactions": "source_file_id, source_line",
         "quarantine": 'file_id, line, "column"',
         "cleaning_notes": 'file_id, line, "column"',
         "ingest_files": "file_id"}


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sentinelle.warehouse.spark import session_for_command

    with session_for_command(tmp_path_factory.mktemp("spark")) as session:
        yield session


def _plain(value: Any) -> Any:
    """Spark writes a TIMESTAMP as an instant, read back with a zone; the warehouse's
    are naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _warehouse_rows(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list]:
    cur = con.execute(f"SELECT * FROM {name} ORDER BY {ORDER[name]}")
    return [d[0] for d in cur.description], [tuple(map(_plain, r)) for r in cur.fetchall()]


def _parquet_rows(directory: Path, name: str) -> tuple[list[str], list]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cur = con.execute(f"SELECT * FROM read_parquet(?) ORDER BY {ORDER[name]}",
                      [str(directory / f"{name}.parquet" / "*.parquet")])
    return [d[0] for d in cur.description], [tuple(map(_plain, r)) for r in cur.fetchall()]


def _files(tmp: Path) -> list[Path]:
    """Two files: good rows; a row broken in each way; a duplicate of a row in the same
    file and of one in the first file (identical, and with other content); optional
    values that cannot be cleaned; an extra column; a line the reader cannot split."""
    first = [txn(i, branch=f"B{i}") for i in range(1, 9)]
    first += [txn(20, currency="USD"), txn(21, currency="GBP", amount="1234.5678"),
              txn(22, timestamp="2024-03-07T23:41:05+05:30", currency="JPY", amount="1005")]
    first += [
        txn(30, amount="25,50"),                          # unparseable amount
        txn(31, timestamp="07/03/2024 23:41"),            # bad date
        txn(32, sender_id=""),                            # missing required field
        txn(33, currency="XYZ"),                          # bad currency
        txn(3, branch="B3"),                              # identical to line 4
        txn(4, amount="99.00", branch="B4"),              # same key as line 5, other content
        txn(34, sender_email="not-an-address", sender_phone="12", sender_birth_date="1971"),
        txn(35, currency="CHF", timestamp="1999-01-04T10:00:00Z"),  # before any rate
    ]
    a = write_csv(tmp / "first.csv", first, [*TXN_COLUMNS, "branch"])
    with a.open("a", encoding="utf-8") as fh:
        fh.write("T000099,2024-03-07T23:41:05Z,1.00,EUR,too,many,columns\r\n")
    second = [txn(40), txn(5, branch="B5"), txn(6, amount="77.00", branch="B6")]
    b = write_csv(tmp / "second.csv", second, [*TXN_COLUMNS, "branch"])
    refused = tmp / "refused.csv"
    refused.write_bytes(";".join(TXN_COLUMNS).encode() + b"\n1;2\n")
    # Another layout: an ISO 20022 statement, read by its own reader on both engines.
    return [a, b, refused, FIXTURES / "camt.053.001.02.xml"]


@pytest.fixture(scope="module")
def both(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("broken")
    files = _files(tmp)
    out = tmp / "spark-out"
    got: dict[str, Any] = {"out": out}
    readers = {"stager_for": stager_for(None, None), "more_suffixes": more_suffixes(None)}
    with open_warehouse(tmp / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        got["duck_reports"] = [r for f in files for r in ingest_paths(
            wh, "transactions", [f], user="tester", **readers)]  # type: ignore[arg-type]
        got["duck"] = {name: _warehouse_rows(wh.con, name) for name in ORDER}
    got["spark_reports"] = [r for f in files for r in ingest_paths_spark(
        spark, "transactions", [f], out, user="tester", **readers)]  # type: ignore[arg-type]
    got["again"] = ingest_paths_spark(spark, "transactions", files[:1], out, user="tester")
    got["spark"] = {name: _parquet_rows(out, name) for name in ORDER}
    return got


@pytest.mark.spark
def test_the_files_exercise_every_outcome(both: dict[str, Any]) -> None:
    """So that equality below is not vacuous."""
    reasons = " | ".join(str(r[5]) for r in both["duck"]["quarantine"][1])
    for fragment in ("dot", "ISO 8601", "required value is missing", "XYZ",
                     "identical to line", "already used on line",
                     "identical to the row already ingested from file #1",
                     "came from file #1", "columns"):
        assert fragment in reasons
    notes = {r[3] for r in both["duck"]["cleaning_notes"][1]}
    assert {"sender_email", "sender_phone", "sender_birth_date", "amount"} <= notes
    cols, rows = both["duck"]["transactions"]
    currencies = {r[cols.index("currency")] for r in rows}
    assert {"EUR", "USD", "GBP", "JPY"} <= currencies


def _assert_equal(name: str, duck: tuple[list[str], list], spark: tuple[list[str], list],
                  skip: frozenset[str] = frozenset()) -> None:
    (duck_cols, duck_rows), (spark_cols, spark_rows) = duck, spark
    assert spark_cols == duck_cols
    assert len(spark_rows) == len(duck_rows) > 0
    for a, b in zip(duck_rows, spark_rows, strict=True):
        for col, x, y in zip(duck_cols, a, b, strict=True):
            if col not in skip:
                same = (math.isclose(x, y, rel_tol=0, abs_tol=1e-12)
                        if isinstance(x, float) else x == y)
                assert same, f"{name} {a[:3]} {col}: {x!r} on DuckDB, {y!r} on Spark"


@pytest.mark.spark
@pytest.mark.parametrize("name", list(ORDER))
def test_spark_writes_what_duckdb_writes(both: dict[str, Any], name: str) -> None:
    # Where and when a file was ingested differ by design.
    _assert_equal(name, both["duck"][name], both["spark"][name],
                  frozenset({"path", "started_at", "finished_at"}))


@pytest.mark.spark
def test_counts_reconcile_and_a_file_is_ingested_once(both: dict[str, Any]) -> None:
    duck, spark = both["duck_reports"], both["spark_reports"]
    assert [(r.status, r.read, r.accepted, r.quarantined) for r in spark] == \
        [(r.status, r.read, r.accepted, r.quarantined) for r in duck]
    assert [r.status for r in spark] == ["ingested", "ingested", "refused", "ingested"]
    assert "semicolon" in spark[2].message
    assert all(r.reconciles for r in spark)
    assert spark[0].read == 20 and spark[0].quarantined == 7
    assert (spark[3].read, spark[3].accepted, spark[3].quarantined) == (3, 2, 1)
    [again] = both["again"]
    assert (again.status, again.file_id) == ("already ingested", 1)
    files = both["spark"]["ingest_files"][1]
    assert len(files) == 3  # neither the refused file nor the second attempt wrote any
    cols = both["spark"]["ingest_files"][0]
    for row in files:
        r = dict(zip(cols, row, strict=True))
        assert r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"]


@pytest.mark.spark
def test_the_spark_output_has_the_warehouse_types(both: dict[str, Any]) -> None:
    con = duckdb.connect()
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                             "read_parquet(?))", [str(both["out"] / "transactions.parquet" /
                                                     "*.parquet")]).fetchall())
    assert types["amount"] == "DECIMAL(18,4)" and types["amount_eur"] == "DECIMAL(18,2)"
    assert types["timestamp_offset_min"] == "SMALLINT"
    assert types["sender_birth_date"] == "DATE" and types["source_line"] == "BIGINT"
    assert types["timestamp"].startswith("TIMESTAMP")


@pytest.mark.spark
def test_the_command_ingests_on_spark_and_refuses_a_wrong_mix(
        spark: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [txn(1), txn(2, amount="x")])
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "transactions", str(path), "--engine", "spark",
                                 "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "reconciles" in result.output
    _, rows = _parquet_rows(tmp_path / "out", "quarantine")
    assert [(r[2], r[3], r[4]) for r in rows] == [(3, "amount", "x")]
    wrong = runner.invoke(app, ["ingest", "transactions", str(path), "--engine", "spark"])
    assert wrong.exit_code != 0
    assert "--output" in str(wrong.exception)


@pytest.mark.spark
def test_a_world_ingested_and_detected_on_spark_scores_as_on_duckdb(
        spark: Any, tmp_path: Path) -> None:
    generate_world(tmp_path / "w", 0.02, 3)
    csvs = {t: tmp_path / "w" / f"{t}.csv" for t in ("transactions", "referrals")}
    with open_warehouse(tmp_path / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        for table, path in csvs.items():
            ingest_paths(wh, table, [path], user="test")
        ingested = _warehouse_rows(wh.con, "transactions")
        detect(wh, load_catalogue(), user="test")
        cur = wh.execute("SELECT * FROM det_scores ORDER BY role, provider, party_id")
        cols = [d[0] for d in cur.description]
        duck = cur.fetchall()
    out = tmp_path / "ingested"
    for table, path in csvs.items():
        [report] = ingest_paths_spark(spark, table, [path], out, user="test")
        assert report.status == "ingested" and report.reconciles
    # Every phone, name and amount of a few thousand payments, cleaned alike (Spark cleans
    # every phone with to_e164; DuckDB decides most in SQL first).
    _assert_equal("transactions", ingested, _parquet_rows(out, "transactions"))
    detect(SparkEngine(spark, out, tmp_path / "results"), load_catalogue(), user="test")
    # The only run published there.
    got = duckdb.connect().execute(
        "SELECT * FROM read_parquet(?) ORDER BY role, provider, party_id",
        [str(tmp_path / "results" / "runs" / "*" / "det_scores" / "*.parquet")])
    spark_cols = [d[0] for d in got.description]
    scores = got.fetchall()
    assert spark_cols == cols
    assert len(scores) == len(duck) > 100
    for a, b in zip(duck, scores, strict=True):
        for col, x, y in zip(cols, a, b, strict=True):
            if col != "run_id":
                same = (math.isclose(x, y, rel_tol=0, abs_tol=1e-9)
                        if isinstance(x, float) else _plain(x) == _plain(y))
                assert same, f"det_scores {a[:3]} {col}: {x!r} on DuckDB, {y!r} on Spark"


@pytest.mark.spark
def test_rows_of_a_file_whose_provenance_never_arrived_are_removed(
        spark: Any, tmp_path: Path) -> None:
    """A process killed while a file's Parquet files were moved into DIR."""
    parts = {"ingest_files": ["file000001-a"], "transactions": ["file000001-b", "file000002-c"],
             "quarantine": ["file000002-d"], "cleaning_notes": ["file000001-e"]}
    for name, files in parts.items():
        (tmp_path / f"{name}.parquet").mkdir()
        for f in files:
            (tmp_path / f"{name}.parquet" / f"{f}.parquet").write_bytes(b"")
    out = _Output(None, HadoopFiles(spark, tmp_path), "", None)  # type: ignore[arg-type]
    removed = out.roll_back()
    assert sorted(uri.rsplit("/", 1)[1] for uri in removed) == [
        "file000002-c.parquet", "file000002-d.parquet"]
    assert sorted(p.name for p in tmp_path.glob("*/*.parquet")) == [
        "file000001-a.parquet", "file000001-b.parquet", "file000001-e.parquet"]


@pytest.mark.spark
def test_a_second_ingest_into_the_same_directory_is_refused(spark: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [txn(1)])
    out = tmp_path / "out"
    out.mkdir()
    (out / ".ingest.lock").write_text("process 1 since 2024-03-07 10:00:00 UTC\n")
    with pytest.raises(WarehouseError, match="another ingest is writing") as raised:
        ingest_paths_spark(spark, "transactions", [path], out, user="tester")
    assert raised.value.fix is not None and ".ingest.lock" in raised.value.fix
    assert raised.value.value == "process 1 since 2024-03-07 10:00:00 UTC"
    assert sorted(p.name for p in out.iterdir()) == [".ingest.lock"]  # nothing else touched


@pytest.mark.spark
def test_ingestion_reads_and_writes_a_file_system_that_is_not_the_drivers_disk(
        spark: Any, both: dict[str, Any], tmp_path: Path) -> None:
    """Input files and output on a URI Sentinelle cannot read as a local path:
    ``viewfs``, Hadoop's mount table, over a local directory (HDFS or S3 need a network
    this machine has not). Each input is copied to the driver through Hadoop; every file
    of the output, and the staged rows the executors read, go through Hadoop's
    FileSystem, as on a cluster. The result is the local output's."""
    root = viewfs_uri(spark, tmp_path)
    assert local_path(root) is None
    (tmp_path / "in").mkdir()
    files = _files(tmp_path / "in")
    camt = tmp_path / "in" / files[-1].name
    camt.write_bytes(files[-1].read_bytes())
    uris = [f"{root}/in/{f.name}" for f in files]
    readers = {"stager_for": stager_for(None, None), "more_suffixes": more_suffixes(None)}
    reports = [r for u in uris for r in ingest_paths_spark(
        spark, "transactions", [u], root + "/out", user="tester",
        **readers)]  # type: ignore[arg-type]
    assert [(r.status, r.read, r.accepted, r.quarantined) for r in reports] == \
        [(r.status, r.read, r.accepted, r.quarantined) for r in both["spark_reports"]]
    assert uris[2] in reports[2].message  # the refused file is named by its URI
    for name in ORDER:
        _assert_equal(name, both["spark"][name], _parquet_rows(tmp_path / "out", name),
                      frozenset({"path", "started_at", "finished_at"}))
    cols, rows = _parquet_rows(tmp_path / "out", "ingest_files")
    assert [r[cols.index("path")] for r in rows] == [uris[0], uris[1], uris[3]]
    # Nothing left behind: no lock, no work directory, only the tables.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.parquet" for name in ORDER)


@pytest.mark.spark
def test_a_folder_on_another_file_system_gives_its_readable_files(
        spark: Any, tmp_path: Path) -> None:
    for name in ("b.csv", "notes.txt", "sub/a.parquet", "sub/c.CSV"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x\n")
    root = viewfs_uri(spark, tmp_path)
    assert _discover(spark, [root], frozenset()) == [
        f"{root}/b.csv", f"{root}/sub/a.parquet", f"{root}/sub/c.CSV"]
    assert _discover(spark, [f"{root}/notes.txt"], frozenset()) == [f"{root}/notes.txt"]
    with pytest.raises(InputRefused, match="does not exist"):
        _discover(spark, [f"{root}/missing"], frozenset())


def test_the_engine_setting_chooses_unless_the_command_names_a_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINELLE_ENGINE", "spark")
    path = write_csv(tmp_path / "t.csv", [txn(1), txn(2)])
    runner = CliRunner()
    db = tmp_path / "w.duckdb"
    named = runner.invoke(app, ["ingest", "transactions", str(path), "--db", str(db)])
    assert named.exit_code == 0, named.output
    with open_warehouse(db) as wh:
        assert wh.scalar("SELECT count(*) FROM transactions") == 2
    unnamed = runner.invoke(app, ["ingest", "transactions", str(path)])
    assert unnamed.exit_code != 0
    assert "--output" in str(unnamed.exception)


def test_duckdb_refuses_a_uri_of_another_file_system(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "transactions", "hdfs://nn/exports/t.csv",
                                      "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert "hdfs://nn/exports/t.csv is not on this machine" in str(result.exception)
    assert "--engine spark" in str(result.exception.fix)  # type: ignore[union-attr]
    assert not (tmp_path / "w.duckdb").exists()  # refused before the warehouse is opened
