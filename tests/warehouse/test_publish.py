"""Publishing a Spark run on a local path or a URI: the pointer names one complete run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from sentinelle.errors import WarehouseError
from sentinelle.warehouse import publish
from sentinelle.warehouse.engine import SparkEngine
from sentinelle.warehouse.publish import CURRENT, NEXT, current_run, publish_run
from tests.conftest import viewfs_uri


@pytest.mark.parametrize(("location", "uri"), [
    ("/data/results/", "file:///data/results"),
    (Path("/data/results"), "file:///data/results"),
    ("file:///data/results", "file:///data/results"),
    ("s3a://bucket/sentinelle/results/", "s3a://bucket/sentinelle/results"),
    ("abfss://box@account.dfs.core.windows.net/results",
     "abfss://box@account.dfs.core.windows.net/results"),
])
def test_a_location_is_a_uri_and_a_local_path_a_file_uri(location: str | Path,
                                                         uri: str) -> None:
    assert publish.location_uri(location) == uri


def test_a_relative_path_becomes_an_absolute_file_uri(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert publish.location_uri("results") == f"file://{tmp_path.resolve()}/results"


@pytest.mark.parametrize(("location", "path"), [
    ("file:///data/results", Path("/data/results")),
    ("file://localhost/data/results", Path("/data/results")),
    ("file://elsewhere/data/results", None),
    ("hdfs://namenode:8020/results", None),
    ("gs://bucket/results", None),
])
def test_only_this_machine_s_locations_have_a_local_path(location: str,
                                                          path: Path | None) -> None:
    assert publish.local_path(location) == path


def test_without_spark_a_remote_pointer_cannot_be_read() -> None:
    with pytest.raises(WarehouseError) as raised:
        current_run("s3a://bucket/results")
    assert "not on this machine" in raised.value.message
    assert raised.value.fix is not None and "copy" in raised.value.fix


def test_between_the_delete_and_the_rename_readers_read_the_next_pointer(
        tmp_path: Path) -> None:
    assert current_run(tmp_path) is None
    (tmp_path / NEXT).write_text("b2\n", "utf-8")
    assert current_run(tmp_path) == "b2"
    (tmp_path / CURRENT).write_text("a1\n", "utf-8")
    assert current_run(tmp_path) == "a1"
    (tmp_path / CURRENT).write_text("../../etc\n", "utf-8")
    with pytest.raises(WarehouseError, match="does not hold a run id"):
        current_run(tmp_path)


class _RefusingStore:
    """A file system whose rename never replaces a file, without a FileContext."""

    def __init__(self, root: Path) -> None:
        self.root, self.uri = root, publish.location_uri(root)

    def _local(self, uri: str) -> Path:
        found = publish.local_path(uri)
        assert found is not None
        return found

    def replace(self, source: str, target: str) -> bool:
        return False  # no FileContext for this file system

    def rename(self, source: str, target: str) -> bool:
        if self._local(target).exists():
            return False
        self._local(source).rename(self._local(target))
        return True

    def delete(self, uri: str) -> None:
        self._local(uri).unlink(missing_ok=True)


def test_where_rename_refuses_to_replace_the_pointer_is_deleted_first(tmp_path: Path) -> None:
    (tmp_path / CURRENT).write_text("a1\n", "utf-8")
    (tmp_path / NEXT).write_text("b2\n", "utf-8")
    publish._switch(_RefusingStore(tmp_path))  # type: ignore[arg-type]
    assert current_run(tmp_path) == "b2" and not (tmp_path / NEXT).exists()


# ---------------------------------------------------------------------------- Spark
def _frame(spark: Any, sql: str) -> Any:
    return spark.sql(sql)


def _tables(spark: Any, tag: str) -> dict[str, Any]:
    return {"det_scores": _frame(spark, f"SELECT '{tag}' AS tag, id FROM range(3)"),
            "det_alerts": _frame(spark, f"SELECT '{tag}' AS tag, 1 AS alert_no")}


def _log(spark: Any, run_id: str) -> dict[str, Any]:
    return {"det_runs": _frame(spark, f"SELECT '{run_id}' AS run_id")}


def _read(output: Path, run_id: str, table: str) -> list[tuple[Any, ...]]:
    return duckdb.execute("SELECT * FROM read_parquet(?) ORDER BY ALL",
                          [str(output / "runs" / run_id / table / "*.parquet")]).fetchall()


@pytest.mark.spark
@pytest.mark.parametrize("form", ["file URI", "path text", "Path", "viewfs URI"])
def test_a_run_replaces_the_previous_one_on_a_uri_or_a_path(spark: Any, tmp_path: Path,
                                                             form: str) -> None:
    output = tmp_path / "results"
    forms: dict[str, str | Path] = {"file URI": f"file://{output}", "path text": str(output),
                                    "Path": output,
                                    "viewfs URI": viewfs_uri(spark, tmp_path) + "/results"}
    location = forms[form]
    publish_run(spark, location, "run1", _tables(spark, "first"), _log(spark, "run1"))
    assert current_run(location, spark) == current_run(output) == "run1"
    assert _read(output, "run1", "det_alerts") == [("first", 1)]
    publish_run(spark, location, "run2", _tables(spark, "second"), _log(spark, "run2"))
    assert current_run(location, spark) == "run2"
    assert (output / CURRENT).read_text("utf-8") == "run2\n"
    assert sorted(p.name for p in (output / "runs").iterdir()) == ["run2"]
    assert _read(output, "run2", "det_scores") == [("second", 0), ("second", 1),
                                                   ("second", 2)]
    logged = duckdb.execute("SELECT run_id FROM read_parquet(?) ORDER BY run_id",
                            [str(output / "det_runs" / "*.parquet")]).fetchall()
    assert logged == [("run1",), ("run2",)]
    assert not (output / NEXT).exists()


@pytest.mark.spark
def test_a_failed_run_removes_its_directory_and_leaves_the_pointer(spark: Any,
                                                                   tmp_path: Path) -> None:
    output = f"file://{tmp_path / 'results'}"
    publish_run(spark, output, "good", _tables(spark, "good"), _log(spark, "good"))
    # The first table is written; the second fails while it is computed.
    failing = {"det_scores": _frame(spark, "SELECT 'bad' AS tag, id FROM range(3)"),
               "det_alerts": _frame(spark, "SELECT CAST(raise_error('stopped') AS STRING) "
                                           "AS tag")}
    with pytest.raises(Exception, match="stopped"):
        publish_run(spark, output, "bad", failing, _log(spark, "bad"))
    root = tmp_path / "results"
    assert current_run(output, spark) == "good"
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["good"]
    assert _read(root, "good", "det_alerts") == [("good", 1)]
    assert not (root / NEXT).exists()
    logged = duckdb.execute("SELECT run_id FROM read_parquet(?)",
                            [str(root / "det_runs" / "*.parquet")]).fetchall()
    assert logged == [("good",)]


@pytest.mark.spark
def test_spark_reads_its_inputs_from_a_uri(spark: Any, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    duckdb.execute(f"COPY (SELECT 'T1' AS txn_id) TO '{inputs / 'transactions.parquet'}'")
    engine = SparkEngine(spark, f"file://{inputs}", f"file://{tmp_path / 'out'}")
    assert engine.rows("SELECT txn_id FROM transactions") == [("T1",)]
    assert engine.output == f"file://{tmp_path / 'out'}"
    with pytest.raises(WarehouseError, match="no transactions.parquet"):
        SparkEngine(spark, f"file://{tmp_path / 'empty'}", str(tmp_path / "out"))


@pytest.mark.spark
def test_on_a_local_disk_the_pointer_is_renamed_over_in_one_step(spark: Any,
                                                                 tmp_path: Path) -> None:
    files = publish.HadoopFiles(spark, tmp_path)
    (tmp_path / CURRENT).write_text("a1\n", "utf-8")
    files.write_text(publish.child(files.uri, NEXT), "b2\n")
    assert files.replace(publish.child(files.uri, NEXT), publish.child(files.uri, CURRENT))
    assert (tmp_path / CURRENT).read_text("utf-8") == "b2\n"
    assert not (tmp_path / NEXT).exists()
    assert files.read_text(publish.child(files.uri, CURRENT)) == "b2"
