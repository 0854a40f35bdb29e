"""Apache Spark as an optional engine: PySpark imported only when Spark is asked for.

A DuckDB-only install never imports pyspark; asking for Spark without it raises
``EngineMissing`` with the command that installs it. The local session here is what the
tests and a single machine use; a cluster gets its session from spark-submit instead.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from sentinelle.errors import SentinelleError, SettingsError
from sentinelle.settings import resolve

INSTALL = "pip install 'sentinelle[spark]'"


class EngineMissing(SentinelleError):
    """An optional engine, or what it runs on, is not installed."""


def require_pyspark() -> ModuleType:
    """The ``pyspark.sql`` module, or an error naming the package to install."""
    try:
        return importlib.import_module("pyspark.sql")
    except ImportError as error:
        raise EngineMissing("the Spark engine needs the Python package pyspark, which is "
                            "not installed", fix=INSTALL, value=str(error)) from error


def local_conf(cores: int = 0, driver_memory: str = "4g",
               shuffle_partitions: int = 0) -> dict[str, str]:
    """The sizes of a local session, from the settings spark_cores, spark_driver_memory
    and spark_shuffle_partitions (0: one per core; two per core). Every problem is named
    at once, before Java starts."""
    problems = []
    if cores < 0:
        problems.append(f"spark_cores={cores}: 0 (one per core) or more")
    if shuffle_partitions < 0:
        problems.append(f"spark_shuffle_partitions={shuffle_partitions}: 0 (two per core) "
                        "or more")
    if not re.fullmatch(r"[1-9][0-9]*[kmgt]?", driver_memory.strip().lower()):
        problems.append(f"spark_driver_memory={driver_memory!r}: a size such as 4g or 512m")
    if problems:
        raise SettingsError("some Spark settings are not valid", details=problems,
                            fix="set them as SENTINELLE_SPARK_CORES, "
                                "SENTINELLE_SPARK_DRIVER_MEMORY, "
                                "SENTINELLE_SPARK_SHUFFLE_PARTITIONS")
    used = cores or os.cpu_count() or 1
    return {"spark.master": f"local[{used}]",
            "spark.driver.memory": driver_memory.strip().lower(),
            "spark.sql.shuffle.partitions": str(shuffle_partitions or 2 * used)}


def local_session(warehouse_dir: Path | None = None, cores: int | None = None,
                  app_name: str = "sentinelle", driver_memory: str | None = None,
                  shuffle_partitions: int | None = None) -> Any:
    """A Spark session in local mode on this machine: no UI, no network beyond loopback,
    few shuffle partitions (the default 200 makes small jobs slow), times in UTC so that a
    TIMESTAMP means what it means in the DuckDB warehouse (naive UTC). Sizes not given
    come from the settings (``local_conf``); the driver's memory applies only when this
    call starts Spark's JVM."""
    settings = resolve()
    sizes = local_conf(
        settings["spark_cores"] if cores is None else cores,
        settings["spark_driver_memory"] if driver_memory is None else driver_memory,
        settings["spark_shuffle_partitions"] if shuffle_partitions is None
        else shuffle_partitions)
    sql = require_pyspark()
    if shutil.which("java") is None:
        raise EngineMissing("the Spark engine needs a Java runtime (17) and none is on PATH",
                            fix="install Java 17 (Debian: apt-get install openjdk-17-jre-headless)")
    where = warehouse_dir or Path(tempfile.mkdtemp(prefix="sentinelle-spark-"))
    builder = (
        sql.SparkSession.builder.master(sizes["spark.master"]).appName(app_name)
        .config("spark.driver.memory", sizes["spark.driver.memory"])
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", sizes["spark.sql.shuffle.partitions"])
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(where / "warehouse"))
        .config("spark.local.dir", str(where / "tmp"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={where / 'derby'}")
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j reports a JVM that would not start as a bare Exception
        raise EngineMissing("the Spark engine could not start its Java process",
                            fix="check that Java 17 runs (java -version)",
                            value=str(error).splitlines()[0] if str(error) else None) from error
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def session_for_command(warehouse_dir: Path | None = None) -> Iterator[Any]:
    """The Spark session a command runs on: the one already active in this process
    (spark-submit's, or a test's), left running, its sizes the cluster's except a
    spark_shuffle_partitions that is set; else a local one, stopped afterwards."""
    active = require_pyspark().SparkSession.getActiveSession()
    if active is not None:
        partitions = resolve()["spark_shuffle_partitions"]
        if partitions > 0:
            active.conf.set("spark.sql.shuffle.partitions", str(partitions))
        yield active
        return
    session = local_session(warehouse_dir)
    try:
        yield session
    finally:
        session.stop()


def collect(session: Any, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query, as tuples. PySpark 3.5's collect leaves the socket it reads the
    rows from to the garbage collector (pyspark/rdd.py, _create_local_socket), whose
    ResourceWarning is noise, not a leak of ours: it is silenced here and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unclosed <socket.socket",
                                category=ResourceWarning)
        return [tuple(row) for row in session.sql(sql).collect()]
