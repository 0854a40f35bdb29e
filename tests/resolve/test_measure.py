"""The section measure.py publishes: every world's figures, and a verdict that every world
must earn."""

from __future__ import annotations

from sentinelle.resolve.measure import WorldQuality, report
from sentinelle.resolve.quality import ClusterQuality


def _world(seed: int, precision: float, recall: float) -> WorldQuality:
    q = ClusterQuality(records=1000, true_pairs=100, predicted_pairs=90, correct_pairs=88,
                       pairwise_precision=precision, pairwise_recall=recall,
                       bcubed_precision=0.99, bcubed_recall=0.98, adjusted_rand=0.95)
    return WorldQuality(seed, q, name_only_pairs=3, recall_other=0.97)


def test_each_world_is_a_row_and_the_verdicts_follow_the_worst_world() -> None:
    text = report([_world(1, 0.99, 0.97), _world(2, 0.985, 0.94)], 1.0, "cmd --publish")
    assert "`cmd --publish`" in text
    assert "| 1 | 1,000 | 100 | 0.990 | 0.970 |" in text
    assert "| 2 | 1,000 | 100 | 0.985 | 0.940 |" in text
    precision = next(line for line in text.splitlines() if line.startswith("| pairwise precision"))
    recall = next(line for line in text.splitlines() if line.startswith("| pairwise recall"))
    assert precision.endswith("**meets** |") and "[0.985, 0.990]" in precision
    # The mean (0.955) is over the target; seed 2 is not, so the target is missed.
    assert recall.endswith("**misses** |") and "0.955 ±" in recall
