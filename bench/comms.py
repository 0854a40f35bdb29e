"""What corroborated sessions change in detection: the same worlds detected without and
with their communications.

    python bench/comms.py --scale 1 --seeds 1 2 3

For each seed: the synthetic world (with its ``comms.csv``) is generated and its
transactions and referrals ingested once (kept under bench-data/comms/, not timed); a copy
is detected as it is, then the world's ``comms.csv`` is ingested
(``sentinelle ingest comms --format csv``), payments are paired with calls
(``sentinelle sessions``) and the copy is detected again. Quality is measured on each
role's truth. Writes the figures to docs/benchmarks.md (``--no-write``: print only);
``--param`` passes detection parameters (``sessions_paid.weight=2``) to both runs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, publish  # noqa: E402

from sentinelle.evaluate.metrics import RankQuality, rank_quality, spread  # noqa: E402

ROLES = (("buyer", "sender"), ("facilitator", "beneficiary"))
RUNS = ("without", "with")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data" / "comms")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--section", default="comms-detection",
                        help="the docs/benchmarks.md section to write (held-out seeds are "
                             "written apart from the tuning seeds: comms-detection-held-out)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "sentinelle"]
    params = [x for p in args.param for x in ("--param", p)]
    results: dict[int, dict[str, dict[str, RankQuality]]] = {}
    counts: dict[int, dict[str, int]] = {}
    for seed in args.seeds:
        name = f"s{args.scale:g}-seed{seed}"
        world, base = args.data / f"world-{name}", args.data / f"{name}.duckdb"
        if not (world / "comms.csv").exists():
            subprocess.run(cli + ["synth", str(world), "--scale", str(args.scale), "--seed",
                                  str(seed)], check=True, stdout=subprocess.DEVNULL)
        if not base.exists():
            for table in ("transactions", "referrals"):
                subprocess.run(cli + ["ingest", table, str(world / f"{table}.csv"), "--db",
                                      str(base)], check=True, stdout=subprocess.DEVNULL)
        db = args.data / f"{name}-work.duckdb"
        shutil.copy(base, db)
        results[seed] = {}
        for run in RUNS:
            if run == "with":
                subprocess.run(cli + ["ingest", "comms", str(world / "comms.csv"), "--format",
                                      "csv", "--db", str(db)], check=True,
                               stdout=subprocess.DEVNULL)
                subprocess.run(cli + ["sessions", "--db", str(db)], check=True,
                               stdout=subprocess.DEVNULL)
            subprocess.run(cli + ["detect", "--parties", "--db", str(db), *params], check=True,
                           stdout=subprocess.DEVNULL)
            results[seed][run], alerts = _quality(db, world / "truth.csv")
            counts.setdefault(seed, {}).update({f"{run} {k}": v for k, v in alerts.items()})
        counts[seed].update(_sessions(db))
        db.unlink()
        print(seed, {r: {k: round(q.average_precision, 4) for k, q in v.items()}
                     for r, v in results[seed].items()}, counts[seed], flush=True)
    publish(args.section, _page(args, results, counts, params), not args.no_write)


def _quality(db: Path, truth: Path) -> tuple[dict[str, RankQuality], dict[str, int]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE truth AS SELECT * FROM read_csv(?, all_varchar = true)",
                    [str(truth)])
        out, alerts = {}, {}
        for role, side in ROLES:
            scored = con.execute(
                """SELECT s.score, coalesce(t.role = ?, false) FROM det_scores s
                   LEFT JOIN truth t ON t.side = ? AND t.party_id = s.party_id
                   WHERE s.role = ?""", [role, side, role]).fetchall()
            out[role] = rank_quality(np.array([r[0] for r in scored]),
                                     np.array([r[1] for r in scored]))
            alerts[f"{role} alerts"], alerts[f"{role} true alerts"] = con.execute(
                """SELECT count(*), count(t.role) FROM det_alerts a
                   LEFT JOIN truth t ON t.side = ? AND t.party_id = a.party_id AND t.role = ?
                   WHERE a.role = ?""", [side, role, role]).fetchone()  # type: ignore[misc]
    return out, alerts


def _sessions(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        sessions = con.execute("SELECT count(*) FROM comm_sessions").fetchone()
        fired = dict(con.execute("SELECT indicator, count(*) FROM det_contributions "
                                 "WHERE indicator LIKE 'sessions_%' GROUP BY indicator")
                     .fetchall())
    return {"sessions": int(sessions[0]) if sessions else 0, **fired}


def _page(args: argparse.Namespace, results: dict[int, dict[str, dict[str, RankQuality]]],
          counts: dict[int, dict[str, int]], params: list[str]) -> list[str]:
    seeds = sorted(results)
    command = (f"python bench/comms.py --scale {args.scale:g} --seeds "
               + " ".join(map(str, seeds)) + "".join(f" --param {p}" for p in args.param)
               + (f" --section {args.section}" if args.section != "comms-detection" else ""))
    held_out = args.section.endswith("held-out")
    lines = [
        "## Communications: what corroborated sessions change in detection"
        + (" (held-out seeds)" if held_out else ""),
        *(["", "Seeds never looked at while the sessions indicators' weight and ramp were "
           "chosen (on seeds 1-3, above)."] if held_out else []),
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()} by `{command}`: each world "
        "detected on its parties without communications, then again after "
        "`sentinelle ingest comms comms.csv --format csv` and `sentinelle sessions` "
        "(defaults: a call of at least 10 min starting within 2 h of the payment). "
        "Mean ± sample standard deviation over the seeds, least and most in brackets.",
        "",
        "| role | measure | without comms | with comms | change |",
        "|---|---|---|---|---|",
    ]
    for role, _ in ROLES:
        for label, attr in (("average precision", "average_precision"),
                            ("recall in the top 1%", "top1_recall"),
                            ("R-precision", "r_precision")):
            cells = []
            for run in RUNS:
                s = spread([getattr(results[seed][run][role], attr) for seed in seeds])
                cells.append(f"{s.mean:.3f} ± {s.std:.3f} ({s.min:.3f}-{s.max:.3f})")
            d = spread([getattr(results[seed]["with"][role], attr)
                        - getattr(results[seed]["without"][role], attr) for seed in seeds])
            lines.append(f"| {role} | {label} | {cells[0]} | {cells[1]} | "
                         f"{d.mean:+.3f} ({d.min:+.3f} to {d.max:+.3f}) |")
    lines += ["", "| seed | sessions | buyers with a session | facilitators with a session | "
              "buyer alerts (true) without → with | facilitator alerts (true) without → with |",
              "|---|---:|---:|---:|---|---|"]
    for seed in seeds:
        c = counts[seed]
        lines.append(
            f"| {seed} | {c['sessions']:,} | {c.get('sessions_paid', 0):,} | "
            f"{c.get('sessions_received', 0):,} | "
            + " | ".join(f"{c[f'without {r} alerts']:,} ({c[f'without {r} true alerts']:,}) → "
                         f"{c[f'with {r} alerts']:,} ({c[f'with {r} true alerts']:,})"
                         for r, _ in ROLES) + " |")
    return lines


if __name__ == "__main__":
    main()
