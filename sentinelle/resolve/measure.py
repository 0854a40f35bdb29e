"""Measure entity resolution on synthetic worlds against their truth.

    python -m sentinelle.resolve.measure OUT SCALE SEED [SEED…]

generates each world under OUT, ingests it, resolves it and prints one line of figures per
world (docs/resolve.md quotes them): pairwise and B-cubed precision and recall, the
adjusted Rand index, how many true pairs hold a tip with only a name among namesakes
(``quality.name_only_tips``: no field says which namesake it is about) and the recall
over the other true pairs.
"""

from __future__ import annotations

import sys
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


def main(argv: list[str]) -> None:
    out, scale, seeds = Path(argv[0]), float(argv[1]), [int(s) for s in argv[2:]]
    print("scale seed records true_pairs pairwise_P pairwise_R bcubed_P bcubed_R ARI "
          "name_only_tip_pairs recall_other_pairs")
    for seed in seeds:
        q, held, recall = measure_world(out, scale, seed)
        print(f"{scale} {seed} {q.records} {q.true_pairs} {q.pairwise_precision:.3f} "
              f"{q.pairwise_recall:.3f} {q.bcubed_precision:.4f} {q.bcubed_recall:.4f} "
              f"{q.adjusted_rand:.3f} {held} {recall:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
