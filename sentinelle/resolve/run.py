"""One resolution run: records from the warehouse, linkage, clusters with stable subject
ids, and the tables written back in one transaction.

Tables (replaced by each run; er_runs keeps every run):

- ``er_records``  every record compared (records.COLUMNS);
- ``er_pairs``    every pair blocking produced, with its match probability and weight and,
                  per field, the level reached (``gamma_*``) and its match weight (``mw_*``):
                  the explanation an analyst reads before accepting a merge;
- ``er_levels``   the label of each field's levels, to put words on ``gamma_*``;
- ``er_clusters`` record → subject: the records whose pairs reach the threshold, joined
                  transitively, with people's judgements outranking the model
                  (resolve/clusters.py) and who decided (``decided_by``);
- ``er_runs``     when, by whom, the threshold, the counts and the trained model (JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from sentinelle.errors import SentinelleError
from sentinelle.resolve.clusters import Clustering, cluster_tables
from sentinelle.resolve.linkage import link
from sentinelle.resolve.records import records_sql
from sentinelle.settings import SETTINGS
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.dialect import Dialect

STEPS = ("records", "linkage", "clusters", "publish")

# Two records are one subject from this match probability up: the setting
# resolve_threshold's default (`--threshold` and SENTINELLE_RESOLVE_THRESHOLD change it).
DEFAULT_THRESHOLD: float = next(s.default for s in SETTINGS if s.name == "resolve_threshold")
THRESHOLD_HELP = ("Match probability from which two records are taken to be the same "
                  "person (0-1).")

@dataclass
class ResolveRun:
    run_id: int
    threshold: float
    records: int
    pairs: int
    subjects: int
    seconds: dict[str, float] = field(default_factory=dict)
    judgements: int = 0
    clustering: Clustering | None = None


def largest_sql(dialect: Dialect, limit: int) -> str:
    """The largest subjects, with their records' kinds and names."""
    return f"""
        SELECT c.subject_id, c.cluster_size,
               {dialect.distinct_text_agg("r.kind", ", ")} AS kinds,
               {dialect.distinct_text_agg("r.name", ", ")} AS names
        FROM er_clusters c JOIN er_records r ON r.record_id = c.record_id
        WHERE c.cluster_size > 1
        GROUP BY c.subject_id, c.cluster_size
        ORDER BY c.cluster_size DESC, c.subject_id LIMIT {int(limit)}"""


def _step(on_step: Callable[[str], None] | None, name: str) -> None:
    if on_step:
        on_step(name)


def _check(threshold: float) -> None:
    if not 0 < threshold < 1:
        raise SentinelleError(f"the threshold {threshold} is not a probability between 0 "
                              "and 1", fix="use --threshold 0.9 (or the setting "
                              "SENTINELLE_RESOLVE_THRESHOLD), for example")


def _clusters_table(records: pa.Table, pairs: pa.Table,
                    judgements: dict[tuple[str, str], str],
                    threshold: float) -> tuple[pa.Table, Clustering]:
    """``records``: record_id, first_seen and last_seen of every record to cluster."""
    result = cluster_tables(records, pairs, judgements, threshold)
    size: dict[str, int] = {}
    for subject in result.subjects.values():
        size[subject] = size.get(subject, 0) + 1
    ordered = sorted(result.subjects.items(), key=lambda kv: (kv[1], kv[0]))
    return pa.table({
        "record_id": [r for r, _ in ordered],
        "subject_id": [s for _, s in ordered],
        "cluster_size": pa.array([size[s] for _, s in ordered], pa.int64()),
        "decided_by": [result.decided_by[r] for r, _ in ordered],
    }), result


def resolve(wh: Warehouse, threshold: float = DEFAULT_THRESHOLD, user: str = "",
            threads: int = 0, on_step: Callable[[str], None] | None = None,
            judgements: dict[tuple[str, str], str] | None = None) -> ResolveRun:
    """Link every sender, beneficiary and referral subject; write the er_* tables.
    ``judgements`` (pair → same / not_same / unsure, from the case database) outrank the
    model when the pairs are clustered."""
    _check(threshold)
    judged = dict(judgements or {})
    seconds: dict[str, float] = {}
    started = datetime.now(UTC)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    _step(on_step, "records")
    reader = wh.con.cursor()  # a connection of its own, so no pending result is in the way
    records = reader.sql(records_sql()).to_arrow_table()
    reader.close()
    if records.num_rows < 2:
        raise SentinelleError("there are fewer than two records to resolve",
                              fix="ingest transactions and referrals first")
    lap("records")
    _step(on_step, "linkage")
    linkage = link(records, threshold, threads)
    lap("linkage")
    _step(on_step, "clusters")
    clusters, clustering = _clusters_table(records, linkage.pairs, judged, threshold)
    levels = pa.table({
        "field": [f for f, by in linkage.labels.items() for _ in by],
        "gamma": [g for by in linkage.labels.values() for g in by],
        "label": [lab for by in linkage.labels.values() for lab in by.values()],
    })
    lap("clusters")
    _step(on_step, "publish")
    wh.execute("BEGIN TRANSACTION")
    try:
        for name, table in (("er_records_in", records), ("er_pairs_in", linkage.pairs),
                            ("er_clusters_in", clusters), ("er_levels_in", levels)):
            wh.con.register(f"{name}_view", table)
            wh.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_view")
            wh.con.unregister(f"{name}_view")
        for name in ("er_records", "er_pairs", "er_levels", "er_clusters"):
            wh.execute(f"DROP TABLE IF EXISTS {name}")
        wh.execute("CREATE TABLE er_records AS SELECT * FROM er_records_in")
        wh.execute("CREATE TABLE er_pairs AS SELECT * FROM er_pairs_in")
        wh.execute("CREATE TABLE er_levels AS SELECT * FROM er_levels_in")
        wh.execute("CREATE TABLE er_clusters AS SELECT * FROM er_clusters_in")
        wh.execute("""CREATE TABLE IF NOT EXISTS er_runs (
            run_id INTEGER, started_at TIMESTAMPTZ, user_name VARCHAR, threshold DOUBLE,
            records BIGINT, pairs BIGINT, subjects BIGINT, model JSON)""")
        run_id = wh.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM er_runs")
        subjects = wh.scalar("SELECT count(DISTINCT subject_id) FROM er_clusters")
        wh.execute("INSERT INTO er_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, started, user, threshold, records.num_rows,
                    linkage.pairs.num_rows, subjects, json.dumps(linkage.model)])
        for name in ("er_records_in", "er_pairs_in", "er_clusters_in", "er_levels_in"):
            wh.execute(f"DROP TABLE {name}")
        wh.execute("COMMIT")
    except BaseException:
        wh.execute("ROLLBACK")
        raise
    lap("publish")
    return ResolveRun(run_id, threshold, records.num_rows, linkage.pairs.num_rows, subjects,
                      seconds, len(judged), clustering)


def recluster(wh: Warehouse, judgements: dict[tuple[str, str], str],
              threshold: float = DEFAULT_THRESHOLD) -> Clustering:
    """Cluster the last run's pairs again with today's judgements, without training the
    model again: what a judgement changes, seconds after it is made."""
    _check(threshold)
    if not wh.has_table("er_pairs"):
        raise SentinelleError("entity resolution has not run on this warehouse",
                              fix="run sentinelle resolve first")
    reader = wh.con.cursor()  # a connection of its own, so no pending result is in the way
    if "on_identifier" not in reader.sql("SELECT * FROM er_pairs LIMIT 0").columns:
        reader.close()
        raise SentinelleError("the last entity resolution run on this warehouse predates "
                              "er_pairs.on_identifier, which clustering reads",
                              fix="run sentinelle resolve once (not --recluster)")
    records = reader.sql("SELECT record_id, first_seen, last_seen FROM er_records"
                         ).to_arrow_table()
    pairs = reader.sql("SELECT record_id_l, record_id_r, match_probability, on_identifier "
                       "FROM er_pairs").to_arrow_table()
    reader.close()
    clusters, clustering = _clusters_table(records, pairs, judgements, threshold)
    wh.con.register("er_clusters_view", clusters)
    wh.execute("BEGIN TRANSACTION")
    try:
        wh.execute("CREATE OR REPLACE TABLE er_clusters AS SELECT * FROM er_clusters_view")
        wh.execute("COMMIT")
    except BaseException:
        wh.execute("ROLLBACK")
        raise
    finally:
        wh.con.unregister("er_clusters_view")
    return clustering
