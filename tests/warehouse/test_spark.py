"""Spark stays optional: never imported unless asked for, and named when missing."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from sentinelle.errors import SentinelleError
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


@pytest.mark.spark
def test_the_local_session_runs_sql_in_utc(spark: Any) -> None:
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    rows = engine.collect(spark, "SELECT CAST(TIMESTAMP '2024-03-31 01:30:00' AS STRING)")
    assert rows == [("2024-03-31 01:30:00",)]
