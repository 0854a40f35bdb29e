"""A hundred million transactions through ingest and detection on one machine, out of core.

    python bench/outofcore.py                       # 10 providers x scale 50: ~102 million
    python bench/outofcore.py --providers 2 --scale 1 --no-write   # a quick rehearsal

What an FIU holds: the exports of several remittance providers. Each provider's export is
a synthetic world of its own seed (``sentinelle synth --scale S --seed k``), its
``provider`` column renamed "Kestrel Remit 01" … and its referral ids prefixed, so that
keys (provider, txn_id) and (source, referral_id) stay unique across providers. The
worlds are independent draws: a phone number may recur in two providers' worlds for two
different fictitious people (North American numbers are drawn from the 555 exchange, a
small space), which links parties that the truth keeps apart -- more work for detection's
identifier links than a real population would give, not less.

Generation and renaming are not timed as part of the target (kept under bench-data/).
Timed, each in its own process, with the memory of the process and its workers sampled:
``sentinelle ingest transactions`` of every provider's file in one command, ``sentinelle
ingest referrals``, then ``sentinelle detect --timings``. DuckDB's memory limit is the
setting ``memory_limit`` (``--memory-limit``); larger work spills to the warehouse's
temporary folder. Target (issue 9): peak under 12 GiB on a 2-core, 24 GiB machine, with
the time it takes. Writes the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Measured, machine, measure, publish, timings_table  # noqa: E402

from sentinelle.evaluate.metrics import rank_quality  # noqa: E402

PROVIDER = "Kestrel Remit {k:02d}"


def prepare(data: Path, scale: float, providers: int,
            first: int = 1) -> tuple[list[Path], list[Path], float]:
    """Every provider's transactions and referrals files, generated once; seconds spent."""
    sentinelle = [sys.executable, "-m", "sentinelle"]
    out = data / f"outofcore-s{scale:g}"
    out.mkdir(parents=True, exist_ok=True)
    txns, refs = [], []
    start = time.perf_counter()
    for k in range(first, first + providers):
        world = data / f"world-s{scale:g}-seed{k}"
        txn_file, ref_file = out / f"transactions-{k:02d}.csv", out / f"referrals-{k:02d}.csv"
        if not txn_file.exists():
            if not (world / "transactions.csv").exists():
                subprocess.run(sentinelle + ["synth", str(world), "--scale", str(scale),
                                             "--seed", str(k)], check=True)
            with duckdb.connect() as con:
                con.execute("SET preserve_insertion_order = true")
                con.execute(
                    "COPY (SELECT * REPLACE (? AS provider) FROM read_csv(?, all_varchar = true))"
                    " TO ? (HEADER, QUOTE '\"')",
                    [PROVIDER.format(k=k), str(world / "transactions.csv"), str(txn_file)])
                con.execute(
                    "COPY (SELECT * REPLACE (? || referral_id AS referral_id)"
                    " FROM read_csv(?, all_varchar = true)) TO ? (HEADER, QUOTE '\"')",
                    [f"P{k:02d}-", str(world / "referrals.csv"), str(ref_file)])
            (world / "transactions.csv").unlink()  # the renamed copy replaces it
        txns.append(txn_file)
        refs.append(ref_file)
    return txns, refs, time.perf_counter() - start


def quality(con: duckdb.DuckDBPyConnection, data: Path, scale: float,
            providers: int) -> dict[str, object]:
    """Average precision over every provider's parties, against each world's truth."""
    truths = [str(data / f"world-s{scale:g}-seed{k}" / "truth.csv")
              for k in range(1, providers + 1)]
    con.execute(
        "CREATE TEMP TABLE truth AS SELECT ? || lpad(regexp_extract(filename, "
        "'seed([0-9]+)', 1), 2, '0') AS provider, side, party_id, role "
        "FROM read_csv(?, all_varchar = true, filename = true, union_by_name = true)",
        ["Kestrel Remit ", truths])
    out = {}
    for role, side in (("buyer", "sender"), ("facilitator", "beneficiary")):
        scored = con.execute(
            """SELECT s.score, coalesce(t.role = ?, false) FROM det_scores s
               LEFT JOIN truth t ON t.side = ? AND t.provider = s.provider
                                AND t.party_id = s.party_id
               WHERE s.role = ?""", [role, side, role]).fetchnumpy()
        columns = list(scored.values())
        out[role] = rank_quality(np.asarray(columns[0]), np.asarray(columns[1], dtype=bool))
    return out


def step_totals(output: str) -> dict[str, float]:
    """Seconds per step summed over the files, from ingest's ``--timings`` table."""
    totals: dict[str, float] = {}
    for line in output.partition("Time per step")[2].splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 5 and re.fullmatch(r"[0-9.]+", cells[3]):
            totals[cells[2]] = totals.get(cells[2], 0.0) + float(cells[3])
    return totals


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50, help="scale of each provider")
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse afterwards")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--append", type=int, metavar="K",
                        help="only time and measure the ingestion of provider K's export "
                             "appended to the kept warehouse of an earlier run: the memory "
                             "of ingesting into the full warehouse, which --detect-only "
                             "does not see")
    parser.add_argument("--detect-only", action="store_true",
                        help="detect on the warehouse an earlier run ingested (kept after a "
                             "detection that failed); its ingest is reported from that run's "
                             "own output, its memory not measured")
    args = parser.parse_args()

    db = args.data / f"outofcore-s{args.scale:g}-x{args.providers}.duckdb"
    logs = args.data / f"outofcore-s{args.scale:g}-x{args.providers}"
    env = {**os.environ, "COLUMNS": "200", "SENTINELLE_MEMORY_LIMIT": args.memory_limit}
    sentinelle = [sys.executable, "-m", "sentinelle"]
    loads = [f"before ingest: {load_average()}"]
    runs: dict[str, Measured] = {}
    if args.append:
        append(args, db, logs, env, loads)
        return
    if args.detect_only:
        prepared, csv_bytes = 0.0, 0
        elapsed = re.search(r"file \d+ of \d+ .*? (\d+):(\d\d):(\d\d)",
                            Path(f"{logs}-ingest.txt").read_text("utf-8"))
        if not db.exists() or elapsed is None:
            raise SystemExit(f"--detect-only needs {db} and {logs}-ingest.txt of an earlier run")
        h, m, sec = map(int, elapsed.groups())
        runs["ingest transactions"] = Measured(h * 3600 + m * 60 + sec, 0, 0)
    else:
        txns, refs, prepared = prepare(args.data, args.scale, args.providers)
        csv_bytes = sum(f.stat().st_size for f in txns)
        for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.tmp")):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink(missing_ok=True)
        runs["ingest transactions"] = measure(
            sentinelle + ["ingest", "transactions", *map(str, txns), "--db", str(db),
                          "--timings"], env=env, stdout=Path(f"{logs}-ingest.txt"))
        runs["ingest referrals"] = measure(
            sentinelle + ["ingest", "referrals", *map(str, refs), "--db", str(db)],
            env=env, stdout=Path(f"{logs}-referrals.txt"))
    loads.append(f"before detect: {load_average()}")
    runs["detect"] = measure(sentinelle + ["detect", "--timings", "--db", str(db)],
                             env=env, stdout=Path(f"{logs}-detect.txt"))
    loads.append(f"after detect: {load_average()}")
    ingest_out = Path(f"{logs}-ingest.txt").read_text("utf-8")
    detect_out = Path(f"{logs}-detect.txt").read_text("utf-8")
    steps = re.findall(r"│ ([a-z][a-z ,]+?) +│ +([0-9.]+) │",
                       detect_out.partition("Time per step")[2])

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        referrals = con.execute("SELECT count(*) FROM referrals").fetchone()[0]
        parties = dict(con.execute("SELECT role, count(*) FROM det_scores GROUP BY role")
                       .fetchall())
        alerts = dict(con.execute("SELECT role, count(*) FROM det_alerts GROUP BY role")
                      .fetchall())
        found = quality(con, args.data, args.scale, args.providers)
    db_gib = db.stat().st_size / 2**30
    if not args.keep:
        db.unlink()
    peak = max(r.peak_gib for r in runs.values())
    unmeasured = " (not measured: ingested by an earlier run)" if args.detect_only else ""
    total = sum(r.seconds for r in runs.values())
    verdict = "meets" if peak < 12 else "MISSES"
    command = "python bench/outofcore.py" + (
        "" if (args.scale, args.providers) == (50, 10)
        else f" --scale {args.scale:g} --providers {args.providers}") + (
        "" if args.memory_limit == "6GB" else f" --memory-limit {args.memory_limit}") + (
        " --detect-only" if args.detect_only else "")
    lines = [
        f"## Out of core: {rows / 1e6:,.0f} million transactions through ingest and detection",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, DuckDB {duckdb.__version__}, "
        f"by `{command}` (setting `memory_limit` = {args.memory_limit}).",
        "",
        f"Input: {args.providers} providers' exports, each a synthetic world of scale "
        f"{args.scale:g} (seeds 1–{args.providers}), {rows + quarantined:,} transactions in "
        + (f"{csv_bytes / 2**30:.1f} GiB of CSV and {referrals:,} referrals (generated and "
           f"renamed in {prepared / 60:.0f} min, not timed below)" if not args.detect_only
           else f"CSV and {referrals:,} referrals")
        + f". Warehouse file afterwards: {db_gib:.1f} GiB.",
        "",
        "| step | seconds | peak memory (RSS, workers included) |",
        "|---|---:|---:|",
        *[f"| `sentinelle {name}` | {r.seconds:,.0f} | "
          + (f"{r.peak_gib:.2f} GiB |" if r.peak_gib else f"–{unmeasured} |")
          for name, r in runs.items()],
        f"| **in all** | **{total:,.0f}** ({total / 60:.0f} min) | **{peak:.2f} GiB** |",
        "",
        f"Target: peak under 12 GiB: **{verdict}**. Rows: read {rows + quarantined:,} = "
        f"accepted {rows:,} + quarantined {quarantined:,}. "
        f"{parties.get('buyer', 0):,} senders and {parties.get('facilitator', 0):,} "
        f"beneficiaries scored; {alerts.get('buyer', 0):,} buyer and "
        f"{alerts.get('facilitator', 0):,} facilitator alerts.",
        "",
        "Quality over all providers' parties (the worlds' truth): "
        + "; ".join(f"{role}s average precision {q.average_precision:.3f}, recall in the "
                    f"top 1% {q.top1_recall:.3f} ({q.positives:,} among {q.parties:,})"
                    for role, q in found.items()) + ".",
        "",
        "Load average on the 2 cores: " + "; ".join(loads) + ". Other engineers' jobs "
        "shared the machine where it is above 2: the times are then upper bounds.",
    ]
    ingest_steps = step_totals(ingest_out)
    if ingest_steps:
        lines += ["", "Ingest, where the time goes (`--timings`, summed over the files):", "",
                  "| step | seconds |", "|---|---:|",
                  *[f"| {what} | {secs:,.1f} |" for what, secs in ingest_steps.items()]]
    lines += ["", "Detection, where the time goes (`--timings`):"] + timings_table(steps)[2:]
    publish(f"outofcore-s{args.scale:g}-x{args.providers}", lines, not args.no_write)


def append(args: argparse.Namespace, db: Path, logs: Path, env: dict[str, str],
           loads: list[str]) -> None:
    """One more provider's export ingested into the kept warehouse of every other: what
    the last file of the run costs, its duplicate checks reading every key already
    there."""
    if not db.exists():
        raise SystemExit(f"--append needs the warehouse {db} of an earlier run (--keep)")
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
    (extra,), _, _ = prepare(args.data, args.scale, 1, first=args.append)
    ran = measure([sys.executable, "-m", "sentinelle", "ingest", "transactions", str(extra),
                   "--db", str(db)], env=env, stdout=Path(f"{logs}-append.txt"))
    loads.append(f"after: {load_average()}")
    with duckdb.connect(str(db), read_only=True) as con:
        after = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
        read, accepted, quarantined = con.execute(
            "SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_files "
            "WHERE path LIKE ? ORDER BY finished_at DESC LIMIT 1",
            [f"%{extra.name}"]).fetchone()
    verdict = "meets" if ran.peak_gib < 12 else "MISSES"
    lines = [
        f"## Out of core: one more provider's export appended to {before / 1e6:,.0f} million "
        "transactions",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, DuckDB {duckdb.__version__}, "
        f"by `python bench/outofcore.py --append {args.append}"
        + ("" if args.memory_limit == "6GB" else f" --memory-limit {args.memory_limit}")
        + "` after the run above "
        f"(`--keep`; setting `memory_limit` = {args.memory_limit}).",
        "",
        f"`sentinelle ingest transactions` of provider {args.append}'s export (a synthetic "
        f"world of scale {args.scale:g}, seed {args.append}) into the warehouse holding "
        f"{before:,} transactions: {ran.seconds:,.0f} s, peak memory {ran.peak_gib:.2f} GiB "
        f"(RSS, workers included). Target: peak under 12 GiB: **{verdict}**. Rows: read "
        f"{read:,} = accepted {accepted:,} + quarantined {quarantined:,}; the warehouse "
        f"went from {before:,} to {after:,}.",
        "",
        "Load average on the 2 cores: " + "; ".join(loads) + ".",
    ]
    publish(f"outofcore-append-s{args.scale:g}", lines, not args.no_write)


if __name__ == "__main__":
    main()
