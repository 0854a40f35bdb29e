"""The same detection on Apache Spark (local mode) and on DuckDB, on one large world.

    python bench/spark.py                      # scale 50: about 10 million transactions
    python bench/spark.py --scale 0.05 --no-write      # a quick rehearsal
    python bench/spark.py --detect-only        # detection again on the kept warehouse

Generates the world once (kept under bench-data/, not timed), ingests it into DuckDB and
exports the warehouse as Parquet (timed, for the record), then times, each in its own
process with its memory (the JVM included) sampled: ``sentinelle detect`` on DuckDB and
``sentinelle detect --engine spark`` on the Parquet. The two runs' published scores are
compared row for row (names and ranks exactly, scores to 1e-9). Where ingestion on Spark
is available (``sentinelle ingest … --engine spark``), it is timed too, from the same CSV.
Writes the figures to docs/benchmarks.md (issue 9: Spark local mode on 10 million).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Measured, machine, measure, publish  # noqa: E402

STEPS = re.compile(r"│ ([a-z][a-z ,]+?) +│ +([0-9.]+) │")


def spark_ingest_available() -> bool:
    out = subprocess.run([sys.executable, "-m", "sentinelle", "ingest", "transactions",
                          "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"}).stdout
    return "--engine" in out


def compare_scores(duck: Path, spark_current: Path) -> tuple[int, int]:
    """Rows of det_scores on each engine that the other lacks or scores differently."""
    with duckdb.connect(str(duck), read_only=True) as con:
        con.execute("CREATE TEMP TABLE s AS SELECT * FROM read_parquet(?)",
                    [str(spark_current / "det_scores" / "*.parquet")])
        rows = con.execute("SELECT count(*) FROM s").fetchone()[0]
        differ = con.execute(
            """SELECT count(*) FROM det_scores d FULL JOIN s
                 ON s.role = d.role AND s.provider = d.provider AND s.party_id = d.party_id
               WHERE s.party_id IS NULL OR d.party_id IS NULL OR s.rank <> d.rank
                  OR abs(s.score - d.score) > 1e-9""").fetchone()[0]
    return rows, differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--driver-memory", default="8g",
                        help="the setting spark_driver_memory for Spark's local session")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--detect-only", action="store_true",
                        help="detect again on both engines from the warehouse and Parquet "
                             "a previous run kept (ingestion not run nor timed)")
    args = parser.parse_args()

    name = f"s{args.scale:g}-seed{args.seed}"
    world = args.data / f"spark-world-{name}"
    work = args.data / f"spark-{name}"
    db = work / "warehouse.duckdb"
    sentinelle = [sys.executable, "-m", "sentinelle"]
    env = {**os.environ, "COLUMNS": "200", "SENTINELLE_SPARK_DRIVER_MEMORY": args.driver_memory}
    runs: dict[str, Measured] = {}
    files = {t: str(world / f"{t}.csv") for t in ("transactions", "referrals")}
    if args.detect_only:
        if not (db.exists() and (work / "parquet").is_dir()):
            sys.exit(f"--detect-only: no warehouse and Parquet kept in {work}; run without it")
        shutil.rmtree(work / "results", ignore_errors=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        if not (world / "transactions.csv").exists():
            subprocess.run(sentinelle + ["synth", str(world), "--scale", str(args.scale),
                                         "--seed", str(args.seed)], check=True)
        runs["DuckDB: ingest transactions and referrals"] = measure(
            ["bash", "-c", " && ".join(" ".join(sentinelle + ["ingest", t, f, "--db", str(db)])
                                       for t, f in files.items())], env=env)
        runs["DuckDB: export parquet"] = measure(
            sentinelle + ["export", "parquet", "--out", str(work / "parquet"), "--db", str(db)],
            env=env)
    runs["DuckDB: detect"] = measure(
        sentinelle + ["detect", "--parties", "--timings", "--db", str(db)], env=env,
        stdout=work / "duckdb-detect.txt")
    runs["Spark: detect (from the exported Parquet)"] = measure(
        sentinelle + ["detect", "--engine", "spark", "--parties", "--timings",
                      "--input", str(work / "parquet"), "--output", str(work / "results")],
        env=env, stdout=work / "spark-detect.txt")
    if spark_ingest_available() and not args.detect_only:
        for table, f in files.items():
            runs[f"Spark: ingest {table}"] = measure(
                sentinelle + ["ingest", table, f, "--engine", "spark",
                              "--output", str(work / "spark-in")], env=env,
                stdout=work / f"spark-ingest-{table}.txt")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
    current = work / "results" / "current"
    if not current.exists():  # a pointer file names the run instead of a link
        pointer = work / "results" / "CURRENT"
        current = work / "results" / "runs" / pointer.read_text("utf-8").strip()
    scored, differ = compare_scores(db, current)
    steps = {}
    for engine in ("duckdb", "spark"):
        text = (work / f"{engine}-detect.txt").read_text("utf-8")
        steps[engine] = dict(STEPS.findall(text.partition("Time per step")[2]))
    again = " --detect-only" if args.detect_only else ""
    lines = [
        "## Spark local mode against DuckDB: detection on one world"
        + (", again (the warehouse and Parquet kept)" if again else ""),
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, DuckDB {duckdb.__version__}, "
        f"by `python bench/spark.py --scale {args.scale:g} --seed {args.seed}{again}` (Spark "
        f"in local mode, 2 cores, driver memory {args.driver_memory}).",
        "",
        f"World: {rows:,} transactions (synthetic world, scale {args.scale:g}, seed "
        f"{args.seed}). Load average (1 min) at the end: {os.getloadavg()[0]:.1f} on 2 cores: "
        "where it is above 2, other jobs shared the machine and the times are upper bounds.",
        "",
        "| run | seconds | peak memory (RSS, JVM and workers included) |",
        "|---|---:|---:|",
        *[f"| {what} | {r.seconds:,.1f} | {r.peak_gib:.2f} GiB |" for what, r in runs.items()],
        "",
        f"Scores compared row for row: {scored:,} parties scored on Spark; {differ:,} differ "
        "from DuckDB's (rank, or score beyond 1e-9) or are missing on one side.",
        "",
        "Detection, where the time goes (`--timings`):",
        "",
        "| step | DuckDB (s) | Spark (s) |",
        "|---|---:|---:|",
        *[f"| {step} | {secs} | {steps['spark'].get(step, '–')} |"
          for step, secs in steps["duckdb"].items()],
    ]
    publish(f"spark-s{args.scale:g}{'-again' if again else ''}", lines, not args.no_write)


if __name__ == "__main__":
    main()
