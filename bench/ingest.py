"""Ingest speed and memory against DuckDB's own CSV load of the same file.

    python bench/ingest.py --scale 50        # about 10 million transactions

Generates the synthetic world once (kept under bench-data/), then, in the same run and
each in its own process: DuckDB alone loading the CSV into a table, and
``sentinelle ingest transactions`` into a new warehouse. Writes the figures to
docs/benchmarks.md. Target (issue 2): no more than 3x DuckDB's time, peak under 4 GiB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, measure, publish, timings_table  # noqa: E402

BASELINE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[2]])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    world = args.data / f"world-s{args.scale:g}-seed{args.seed}"
    csv = world / "transactions.csv"
    sentinelle = [sys.executable, "-m", "sentinelle"]
    synth = None
    if not csv.exists():
        shutil.rmtree(world, ignore_errors=True)
        synth = measure(sentinelle + ["synth", str(world), "--scale", str(args.scale),
                                      "--seed", str(args.seed)])
    rows = sum(1 for _ in csv.open("rb")) - 1
    size = csv.stat().st_size

    work = args.data / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_before = os.getloadavg()[1]
    baseline = measure([sys.executable, "-c", BASELINE, str(work / "baseline.duckdb"), str(csv)])
    report = work / "ingest-output.txt"
    ours = measure(sentinelle + ["ingest", "transactions", str(csv), "--timings", "--db",
                                 str(work / "sentinelle.duckdb")],
                   env={**os.environ, "COLUMNS": "200"}, stdout=report)
    load_after = os.getloadavg()[1]
    timings = report.read_text("utf-8").partition("Time per step")[2]
    steps = re.findall(r"│ \S+ +│ (.+?) +│ +([0-9.]+) │", timings)
    with duckdb.connect(str(work / "sentinelle.duckdb"), read_only=True) as con:
        read, accepted, quarantined = con.execute(
            "SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_files").fetchone()
    sizes = [(work / name).stat().st_size / 2**30
             for name in ("baseline.duckdb", "sentinelle.duckdb")]
    ratio = ours.seconds / baseline.seconds
    verdict = "meets" if ratio <= 3 and ours.peak_gib < 4 else "MISSES"
    lines = [
        "## Ingest: canonical transactions from CSV",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, DuckDB {duckdb.__version__}, "
        f"by `python bench/ingest.py --scale {args.scale:g} --seed {args.seed}`.",
        "",
        f"File: {rows:,} transactions, {size / 2**30:.2f} GiB (synthetic world, "
        f"scale {args.scale:g}).",
        "",
        "| run | seconds | peak memory (RSS, workers included) | database file |",
        "|---|---:|---:|---:|",
        f"| DuckDB alone: `CREATE TABLE t AS SELECT * FROM read_csv(file)` | "
        f"{baseline.seconds:.1f} | {baseline.peak_gib:.2f} GiB | {sizes[0]:.2f} GiB |",
        f"| `sentinelle ingest transactions` (check, clean, deduplicate, EUR, provenance; "
        f"clean and raw values side by side) | {ours.seconds:.1f} | {ours.peak_gib:.2f} GiB | "
        f"{sizes[1]:.2f} GiB |",
        "",
        f"Ratio {ratio:.2f}x DuckDB alone; target ≤ 3x and < 4 GiB: **{verdict}**. "
        f"Rows: read {read:,} = accepted {accepted:,} + quarantined {quarantined:,}.",
        "",
        f"Load average (5 min) {load_before:.1f} before the run and {load_after:.1f} after, "
        f"on {os.cpu_count()} cores: other work shares the machine. Both runs are measured "
        "in the same script, one after the other, which limits but does not remove that "
        "noise; the ratio moves by a few tenths from run to run.",
    ]
    lines += timings_table(steps)
    if synth:
        lines += ["", f"Generating the world (`sentinelle synth --scale {args.scale:g}`) took "
                  f"{synth.seconds:.0f} s, peak {synth.peak_gib:.2f} GiB."]
    publish(f"ingest-s{args.scale:g}", lines, not args.no_write)


if __name__ == "__main__":
    main()
