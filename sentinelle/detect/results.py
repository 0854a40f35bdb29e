"""A Spark run's published results, loaded into the DuckDB warehouse for review.

Detection on Spark publishes Parquet (``warehouse/publish.py``); the alerts, explanations,
network, web application and reports read the warehouse's ``det_*`` tables. Loading the
current run of a results directory replaces those tables exactly as a DuckDB ``sentinelle
detect`` publishes them — same tables, same column types, same lookup indexes — in one
transaction, and records who loaded which run, from where and when in ``det_loads``
beside the run's own ``det_runs`` row (who ran it, with which settings).

DuckDB reads the Parquet from a local directory only: reading ``s3a://`` or ``hdfs://``
would need network extensions at run time, so a remote location is copied here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sentinelle.detect.run import PUBLISHED, RUN_COLUMNS, ensure_tables
from sentinelle.errors import DetectionError
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.connection import create_lookup_indexes
from sentinelle.warehouse.publish import RUNS, current_run, local_path

LOAD_COLUMNS = (("run_id", "VARCHAR"), ("loaded_at", "TIMESTAMP"), ("loaded_by", "VARCHAR"),
                ("source", "VARCHAR"), ("tables", "VARCHAR"))
# Published only by a run on subjects; a run on parties drops it (as DuckDB's does).
OPTIONAL = {"det_subject_parties"}


@dataclass
class Loaded:
    run_id: str
    source: Path
    rows: dict[str, int]
    # Evidence naming payments this warehouse lacks: the run read other data.
    evidence_missing: int = 0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_results(wh: Warehouse, location: str | Path, *, user: str) -> Loaded:
    """Replace the warehouse's ``det_*`` tables with the current run published at
    ``location`` (a local directory, or a ``file:`` URI), in one transaction."""
    root = local_path(location)
    if root is None:
        raise DetectionError(f"{location} is not on this machine: the warehouse loads "
                             "results from a local directory",
                             fix="copy the results directory here first (hadoop fs -get, "
                                 "aws s3 cp --recursive, azcopy, gsutil cp -r), then "
                                 "sentinelle results load DIR")
    run_id = current_run(root)
    if run_id is None:
        raise DetectionError(f"no published run in {location} (it has no CURRENT file)",
                             fix="sentinelle detect --engine spark --output DIR publishes "
                                 "one there")
    run_dir = root / RUNS / run_id
    present = {name for name in PUBLISHED if (run_dir / name).is_dir()}
    missing = sorted(set(PUBLISHED) - OPTIONAL - present)
    if missing:
        raise DetectionError(f"run {run_id} in {location} lacks {', '.join(missing)}",
                             fix="publish the run again: sentinelle detect --engine spark")
    log = wh.execute(f"SELECT {', '.join(n for n, _ in RUN_COLUMNS)} "
                     "FROM read_parquet(?) WHERE run_id = ?",
                     [str(root / "det_runs" / "*.parquet"), run_id]).fetchall()
    if len(log) != 1:
        raise DetectionError(f"{location}/det_runs has {len(log)} rows for run {run_id}",
                             fix="publish the run again: sentinelle detect --engine spark")
    ensure_tables(wh)
    wh.execute("CREATE TABLE IF NOT EXISTS det_loads ("
               + ", ".join(f"{n} {t}" for n, t in LOAD_COLUMNS) + ")")
    rows: dict[str, int] = {}
    wh.execute("BEGIN TRANSACTION")
    try:
        for name in PUBLISHED:
            if name not in present:
                wh.execute(f"DROP TABLE IF EXISTS {name}")
                continue
            files = str(run_dir / name / "*.parquet")
            wh.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {_columns(wh, files)} "
                       "FROM read_parquet(?)", [files])
            rows[name] = wh.scalar(f"SELECT count(*) FROM {name}")
        wh.execute("DELETE FROM det_runs WHERE run_id = ?", [run_id])
        wh.execute(f"INSERT INTO det_runs VALUES ({', '.join('?' for _ in RUN_COLUMNS)})",
                   list(_naive(log[0])))
        wh.execute("INSERT INTO det_loads VALUES (?, ?, ?, ?, ?)",
                   [run_id, datetime.now(UTC).replace(tzinfo=None), user, str(root),
                    ", ".join(f"{n}={c}" for n, c in rows.items())])
        wh.execute("COMMIT")
    except Exception:
        wh.execute("ROLLBACK")
        raise
    create_lookup_indexes(wh)
    missing = wh.scalar("SELECT count(*) FROM det_evidence e ANTI JOIN transactions t "
                        "ON t.provider = e.txn_provider AND t.txn_id = e.txn_id")
    return Loaded(run_id, root, rows, missing)


def _columns(wh: Warehouse, files: str) -> str:
    """The Parquet columns as DuckDB's run stores them. Spark writes a TIMESTAMP as an
    instant (DuckDB reads it WITH TIME ZONE); the warehouse keeps naive UTC."""
    described = wh.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files]).fetchall()
    return ", ".join(
        f"CAST({_quote(name)} AS TIMESTAMP) AS {_quote(name)}"
        if sql_type == "TIMESTAMP WITH TIME ZONE" else _quote(name)
        for name, sql_type, *_ in described)


def _naive(row: tuple) -> tuple:
    return tuple(v.astimezone(UTC).replace(tzinfo=None)
                 if isinstance(v, datetime) and v.tzinfo is not None else v for v in row)


__all__ = ["LOAD_COLUMNS", "Loaded", "load_results"]
