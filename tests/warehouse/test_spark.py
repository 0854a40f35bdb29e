"""Spark stays optional: never imported unless asked for, and named when missing."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from sentinelle.errors import SentinelleError, SettingsError
from sentinelle.warehouse import spark as engine


def test_a_duckdb_run_never_imports_pyspark() -> None:
    # A fresh interpreter: this one may already hold pyspark from the Spark tests.
    code = ("import sys, sentinelle.ingest.pipeline, sentinelle.detect.run, "
            "sentinelle.resolve.subjects, sentinelle.warehouse.spark, "
            "sentinelle.warehouse.spark_dialect; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_missing_pyspark_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as it does where pyspark is not installed.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(engine.EngineMissing) as raised:
        engine.local_session()
    error = raised.value
    assert isinstance(error, SentinelleError)
    assert "pyspark" in error.message
    assert error.fix == "pip install 'sentinelle[spark]'"
    assert "pip install 'sentinelle[spark]'" in str(error)


def test_missing_java_is_named_before_spark_tries_to_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")

    def nowhere(_name: str) -> Any:
        return None

    monkeypatch.setattr(engine.shutil, "which", nowhere)
    with pytest.raises(engine.EngineMissing, match="Java"):
        engine.local_session()


@pytest.mark.parametrize(("description", "given", "expected"), [
    ("defaults: every core, shuffles two per core", {},
     {"spark.master": f"local[{os.cpu_count()}]", "spark.driver.memory": "4g",
      "spark.sql.shuffle.partitions": str(2 * (os.cpu_count() or 1))}),
    ("cores set: shuffles follow them", {"cores": 6, "driver_memory": "24G"},
     {"spark.master": "local[6]", "spark.driver.memory": "24g",
      "spark.sql.shuffle.partitions": "12"}),
    ("shuffles set apart", {"cores": 2, "shuffle_partitions": 400},
     {"spark.master": "local[2]", "spark.driver.memory": "4g",
      "spark.sql.shuffle.partitions": "400"}),
])
def test_the_local_session_is_sized_by_the_settings(description: str, given: dict[str, Any],
                                                    expected: dict[str, str]) -> None:
    assert engine.local_conf(**given) == expected, description


def test_bad_spark_settings_are_named_together_before_java_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINELLE_SPARK_CORES", "-1")
    monkeypatch.setenv("SENTINELLE_SPARK_DRIVER_MEMORY", "lots")
    with pytest.raises(SettingsError) as raised:
        engine.local_session()
    assert raised.value.details == ["spark_cores=-1: 0 (one per core) or more",
                                    "spark_driver_memory='lots': a size such as 4g or 512m"]


@pytest.mark.spark
def test_a_session_already_running_takes_only_the_shuffle_setting(
        spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    before = spark.conf.get("spark.sql.shuffle.partitions")
    monkeypatch.setenv("SENTINELLE_SPARK_SHUFFLE_PARTITIONS", "7")
    monkeypatch.setenv("SENTINELLE_SPARK_CORES", "5")
    try:
        with engine.session_for_command() as session:
            assert session is spark
            assert spark.conf.get("spark.sql.shuffle.partitions") == "7"
            assert spark.sparkContext.getConf().get("spark.master") != "local[5]"
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


@pytest.mark.spark
def test_the_local_session_runs_sql_in_utc(spark: Any) -> None:
    conf = spark.sparkContext.getConf()
    sized = engine.local_conf()
    assert conf.get("spark.master") == sized["spark.master"]
    assert conf.get("spark.driver.memory") == "4g"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    rows = engine.collect(spark, "SELECT CAST(TIMESTAMP '2024-03-31 01:30:00' AS STRING)")
    assert rows == [("2024-03-31 01:30:00",)]
