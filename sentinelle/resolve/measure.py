"""Measure entity resolution on synthetic worlds against their truth.

    python -m sentinelle.resolve.measure OUT SCALE SEED [SEED…] [--publish]

generates each world under OUT, ingests it, resolves it and prints one line of figures per
world (docs/resolve.md quotes them): pairwise and B-cubed precision and recall, the
adjusted Rand index, how many true pairs hold a tip with only a name among namesakes
(``quality.name_only_tips``: no field says which namesake it is about) and the recall
over the other true pairs. ``--publish`` also writes them, with the mean and spread over
the seeds against the issue's targets, as a section of docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sentinelle.resolve.quality import TIP_FIELDS, ClusterQuality, with_name_only_tips, world_truth
from sentinelle.resolve.run import resolve


def measure_world(out: Path, scale: float, seed: int, threads: int = 2
                  ) -> tuple[ClusterQuality, int, float]:
    """The clusters' quality, the true pairs holding a name-only tip, and the recall over
    the other true pairs."""
    from sentinelle.ingest import ingest_paths
    from sentinelle.synth import generate_world
    from sentinelle.warehouse import open_warehouse

    world = out / f"world-{scale}-{seed}"
    generate_world(world, scale, seed)
    with open_warehouse(out / f"world-{scale}-{seed}.duckdb", "2GB", threads) as wh:
        ingest_paths(wh, "transactions", [world / "transactions.csv"], user="measure")
        ingest_paths(wh, "referrals", [world / "referrals.csv"], user="measure")
        resolve(wh, user="measure", threads=threads)
        predicted = dict(wh.execute("SELECT record_id, subject_id FROM er_clusters").fetchall())
        records = {r: (k, i) for r, k, i in
                   wh.execute("SELECT record_id, kind, source_id FROM er_records").fetchall()}
        fields = wh.con.sql(f"SELECT {', '.join(TIP_FIELDS)} FROM er_records").to_arrow_table()
    return with_name_only_tips(predicted, world_truth(world, records), fields.to_pylist())


# The targets for pairwise precision and recall on the synthetic worlds.
TARGETS = {"precision": 0.98, "recall": 0.95}


@dataclass(frozen=True)
class WorldQuality:
    seed: int
    quality: ClusterQuality
    name_only_pairs: int
    recall_other: float


def report(worlds: list[WorldQuality], scale: float, command: str) -> str:
    """The docs/benchmarks.md section: one row per world, then the mean and spread over
    the seeds, each against its target (every world must meet it)."""
    from sentinelle.evaluate.metrics import spread
    from sentinelle.evaluate.report import machine

    lines = [
        f"## Entity resolution quality at scale {scale:g}", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, by `{command}`: each "
        "world generated, ingested and resolved at the default threshold, against its "
        "truth (`person_id`). Which seeds were looked at while tuning: docs/resolve.md.",
        "", "| seed | records | true pairs | pairwise precision | pairwise recall | "
        "B-cubed precision | B-cubed recall | adjusted Rand | pairs with a name-only tip | "
        "recall over the others |", "|---|---|---|---|---|---|---|---|---|---|"]
    for w in worlds:
        q = w.quality
        lines.append(f"| {w.seed} | {q.records:,} | {q.true_pairs:,} | "
                     f"{q.pairwise_precision:.3f} | {q.pairwise_recall:.3f} | "
                     f"{q.bcubed_precision:.4f} | {q.bcubed_recall:.4f} | "
                     f"{q.adjusted_rand:.3f} | {w.name_only_pairs:,} | {w.recall_other:.3f} |")
    lines += ["", "| figure | mean ± standard deviation [min, max] | target (every world) "
              "| verdict |", "|---|---|---|---|"]
    for name, values in (("precision", [w.quality.pairwise_precision for w in worlds]),
                         ("recall", [w.quality.pairwise_recall for w in worlds])):
        s = spread(values)
        verdict = "**meets**" if s.min >= TARGETS[name] else "**misses**"
        lines.append(f"| pairwise {name} | {s.mean:.3f} ± {s.std:.3f} [{s.min:.3f}, "
                     f"{s.max:.3f}] | ≥ {TARGETS[name]} | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    publish = "--publish" in argv
    args = [a for a in argv if a != "--publish"]
    out, scale, seeds = Path(args[0]), float(args[1]), [int(s) for s in args[2:]]
    print("scale seed records true_pairs pairwise_P pairwise_R bcubed_P bcubed_R ARI "
          "name_only_tip_pairs recall_other_pairs")
    worlds = []
    for seed in seeds:
        q, held, recall = measure_world(out, scale, seed)
        worlds.append(WorldQuality(seed, q, held, recall))
        print(f"{scale} {seed} {q.records} {q.true_pairs} {q.pairwise_precision:.3f} "
              f"{q.pairwise_recall:.3f} {q.bcubed_precision:.4f} {q.bcubed_recall:.4f} "
              f"{q.adjusted_rand:.3f} {held} {recall:.3f}", flush=True)
    if publish:
        from sentinelle.evaluate.report import write_section

        command = "python -m sentinelle.resolve.measure /tmp/er " + " ".join(args[1:]) + \
            " --publish"
        write_section(Path("docs/benchmarks.md"), f"resolve-quality-s{scale:g}",
                      report(worlds, scale, command))


if __name__ == "__main__":
    main(sys.argv[1:])
