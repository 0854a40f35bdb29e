"""Entity resolution on Apache Spark: ``sentinelle resolve --engine spark``.

The same records (records.py, rendered for the Spark dialect), the same model
(linkage.py: the comparisons rendered for Spark, the same sample, training and scoring,
on Splink's Spark backend) and the same clustering (clusters.py) as on DuckDB.

It reads ``INPUT/transactions.parquet`` and ``INPUT/referrals.parquet`` (as ``sentinelle
export parquet`` or ``sentinelle ingest --engine spark`` write them) and writes
``er_records``, ``er_pairs``, ``er_levels`` and ``er_clusters`` as
``OUTPUT/<table>.parquet`` — where ``sentinelle detect --engine spark --input OUTPUT``
reads them, so OUTPUT is usually the input location itself — and appends the run to
``OUTPUT/er_runs/``. Each is a local path or a Hadoop-compatible URI (files go through
``warehouse/publish.HadoopFiles``). The tables are written aside, then each is put in
place by a rename: a detection started while they are swapped could read one run's
records with the other's clusters (DuckDB replaces them in one transaction).
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sentinelle.errors import SentinelleError, WarehouseError
from sentinelle.resolve.clusters import lowest_probability
from sentinelle.resolve.linkage import _clock, level_labels, pairs_sql, train_and_score
from sentinelle.resolve.records import records_sql
from sentinelle.resolve.run import ResolveRun, _check, _clusters_table, _step
from sentinelle.warehouse.dialect import Dialect
from sentinelle.warehouse.publish import HadoopFiles, child
from sentinelle.warehouse.spark_dialect import SPARK, spark_literal

INPUTS = ("transactions", "referrals")
TABLES = ("er_records", "er_pairs", "er_levels", "er_clusters")
RUNS = "er_runs"
CLUSTER_COLUMNS = "record_id STRING, subject_id STRING, cluster_size BIGINT, decided_by STRING"


class SparkSplink:
    """Splink on a Spark session holding ``er_input`` (linkage.Backend)."""

    dialect: Dialect = SPARK

    def __init__(self, session: Any) -> None:
        self.session = session
        self.kept: dict[str, Any] = {}
        add_similarity_functions(session)

    def api(self) -> Any:
        from splink.backends.spark import SparkAPI

        # Splink's working tables kept in memory (spilled to disk when they do not fit),
        # rather than Parquet under a checkpoint directory the session may not have.
        return SparkAPI(spark_session=self.session, break_lineage_method="persist")

    def table(self, name: str, select: str) -> None:
        frame = self.session.sql(select).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self.kept[name] = frame

    def scalar(self, sql: str) -> Any:
        return _collect(self.session.sql(sql))[0][0]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return _collect(self.session.sql(sql))


def add_similarity_functions(session: Any) -> None:
    """Splink's similarity functions (``jaro_winkler``, ``damerau_levenshtein``, which the
    Spark dialect's ``jaro_winkler`` and ``edit_distance`` call) in ``session``: the jar
    that comes with Splink added to the running session (no download; on a cluster, to its
    executors too), then registered, as Splink's SparkAPI does when it is made."""
    from splink.backends.spark import SparkAPI, similarity_jar_location

    session.sql(f"ADD JAR {spark_literal(similarity_jar_location())}")
    SparkAPI(spark_session=session, break_lineage_method="persist")


def _collect(frame: Any) -> list[tuple[Any, ...]]:
    """A frame's rows. PySpark leaves the socket it reads them from to the garbage
    collector (see warehouse.spark.collect)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unclosed <socket.socket",
                                category=ResourceWarning)
        return [tuple(row) for row in frame.collect()]


def resolve_on_spark(session: Any, inputs: str | Path, output: str | Path,
                     threshold: float, user: str = "",
                     on_step: Callable[[str], None] | None = None,
                     judgements: dict[tuple[str, str], str] | None = None) -> ResolveRun:
    """Link every sender, beneficiary and referral subject of the Parquet tables in
    ``inputs``; write the er_* tables to ``output``."""
    # Splink collects results of its own through PySpark, which leaves each socket it
    # read from to the garbage collector (see _collect), and whose toPandas passes pandas
    # 3 a keyword it deprecates, and checks pandas' version with distutils' deprecated
    # LooseVersion: noise from the libraries, not a fault of the run.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unclosed <socket.socket",
                                category=ResourceWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        warnings.filterwarnings("ignore", message="distutils Version classes are deprecated",
                                category=DeprecationWarning)
        return _resolve(session, inputs, output, threshold, user, on_step, judgements)


def _resolve(session: Any, inputs: str | Path, output: str | Path, threshold: float, user: str,
             on_step: Callable[[str], None] | None,
             judgements: dict[tuple[str, str], str] | None) -> ResolveRun:
    _check(threshold)
    judged = dict(judgements or {})
    seconds: dict[str, float] = {}
    started = datetime.now(UTC)
    lap = _clock(seconds)
    _step(on_step, "records")
    source = HadoopFiles(session, inputs)
    for name in INPUTS:
        uri = child(source.uri, f"{name}.parquet")
        if not source.exists(uri):
            raise SentinelleError(f"no {name}.parquet in {inputs}",
                                  fix="sentinelle export parquet --out DIR writes the "
                                      "warehouse's tables there")
        session.read.parquet(uri).createOrReplaceTempView(name)
    backend = SparkSplink(session)
    backend.table("er_input", SPARK.statement(records_sql(SPARK)))
    records = backend.kept["er_input"].count()
    if records < 2:
        raise SentinelleError("there are fewer than two records to resolve",
                              fix="ingest transactions and referrals first")
    lap("records")
    _step(on_step, "linkage")
    linker, predicted = train_and_score(backend, lap)
    backend.table("er_pairs_out", pairs_sql(predicted.physical_name))
    model = linker.misc.save_model_to_json()
    pairs = backend.kept["er_pairs_out"].count()
    _step(on_step, "clusters")
    # Clustered in Python by clusters.py, over the pairs it reads (from the threshold, or
    # from ONLY_CANDIDATE for a referral's only candidate, if lower) collected to the
    # driver: blocking keeps every pair under one per record, and those
    # over the threshold are a few per hundred records. Judgements, and the rule that a
    # referral never bridges two payment clusters, are applied pair by pair from the most
    # probable down, which connected components on Spark would not do. Every record in
    # no such pair is a subject of its own, made on Spark.
    over = _collect(session.sql(
        "SELECT record_id_l, record_id_r, match_probability, on_identifier FROM er_pairs_out "
        "WHERE match_probability >= ?", args=[lowest_probability(threshold)]))
    scored = pa.table({"record_id_l": [r[0] for r in over],
                       "record_id_r": [r[1] for r in over],
                       "match_probability": pa.array([r[2] for r in over], pa.float64()),
                       "on_identifier": pa.array([r[3] for r in over], pa.bool_())})
    lowest = lowest_probability(threshold)
    in_pairs = _collect(session.sql(
        "SELECT record_id, first_seen, last_seen FROM er_input WHERE record_id IN "
        "(SELECT record_id_l FROM er_pairs_out WHERE match_probability >= ? UNION "
        "SELECT record_id_r FROM er_pairs_out WHERE match_probability >= ?) "
        "ORDER BY record_id", args=[lowest, lowest]))
    paired = pa.table({"record_id": [r[0] for r in in_pairs],
                       "first_seen": [r[1] for r in in_pairs],
                       "last_seen": [r[2] for r in in_pairs]})
    joined, clustering = _clusters_table(paired, scored, judged, threshold)
    session.createDataFrame(list(zip(*joined.to_pydict().values(), strict=True)),
                            schema=CLUSTER_COLUMNS).createOrReplaceTempView("er_joined")
    backend.table("er_clusters_out", _clusters_sql(SPARK))
    labels = level_labels(model)
    session.createDataFrame(
        [(f, g, label) for f, by in labels.items() for g, label in by.items()],
        schema="field STRING, gamma INT, label STRING").createOrReplaceTempView("er_levels_out")
    lap("clusters")
    _step(on_step, "publish")
    subjects = int(backend.scalar("SELECT count(DISTINCT subject_id) FROM er_clusters_out"))
    files = HadoopFiles(session, output)
    run_id = _next_run(session, files)
    frames = {"er_records": session.sql("SELECT * FROM er_input ORDER BY record_id"),
              "er_pairs": session.table("er_pairs_out"),
              "er_levels": session.table("er_levels_out"),
              "er_clusters": session.table("er_clusters_out")}
    row = (run_id, started, user, float(threshold), records, pairs, subjects,
           json.dumps(model))
    _publish(session, frames, files, row)
    lap("publish")
    return ResolveRun(run_id, threshold, records, pairs, subjects, seconds, len(judged),
                      clustering)


def _clusters_sql(dialect: Dialect) -> str:
    """Every record's subject: as clustered (``er_joined``), else a subject of its own."""
    return f"""
        SELECT coalesce(j.record_id, r.record_id) AS record_id,
               coalesce(j.subject_id, {dialect.subject_id('r.record_id')}) AS subject_id,
               coalesce(j.cluster_size, 1) AS cluster_size,
               coalesce(j.decided_by, 'alone') AS decided_by
        FROM er_input r FULL JOIN er_joined j ON j.record_id = r.record_id
        ORDER BY subject_id, record_id"""


def _next_run(session: Any, files: HadoopFiles) -> int:
    runs = child(files.uri, RUNS)
    if not files.exists(runs):
        return 1
    found = _collect(session.read.parquet(runs).selectExpr("max(run_id)"))
    return int(found[0][0] or 0) + 1


def _publish(session: Any, frames: dict[str, Any], files: HadoopFiles,
             row: tuple[Any, ...]) -> None:
    """Each table written aside, then renamed into place (the previous one, a file or a
    folder, moved aside first); the run appended to er_runs."""
    staging = child(files.uri, f".er-{uuid.uuid4().hex[:8]}")  # a dot: Spark skips it
    try:
        for name, frame in frames.items():
            frame.write.parquet(child(staging, f"{name}.parquet"))
        for name in frames:
            target = child(files.uri, f"{name}.parquet")
            if files.exists(target):
                files.rename(target, child(staging, f"{name}.previous"))
            if not files.rename(child(staging, f"{name}.parquet"), target):
                raise WarehouseError(f"could not rename the new {name} to {target}",
                                     fix="check the permissions on the output location")
        session.createDataFrame(
            [row], schema="run_id INT, started_at TIMESTAMP, user_name STRING, "
            "threshold DOUBLE, records BIGINT, pairs BIGINT, subjects BIGINT, model STRING"
        ).coalesce(1).write.mode("append").parquet(child(files.uri, RUNS))
    finally:
        files.delete(staging)
