"""How good the clusters are, against a truth that says which person is behind each record.

Pairwise precision and recall count pairs of records put together; B-cubed averages, over
records, how much of a record's cluster is the same person (precision) and how much of its
person its cluster holds (recall); the adjusted Rand index sums it up, 0 for chance and 1
for perfect. Records the truth does not know are left out.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# truth.csv's side → the record kind.
_KIND = {"sender": "sender", "beneficiary": "beneficiary", "referral": "referral"}


@dataclass(frozen=True)
class ClusterQuality:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    bcubed_precision: float
    bcubed_recall: float
    adjusted_rand: float

    @property
    def pairwise_f1(self) -> float:
        p, r = self.pairwise_precision, self.pairwise_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def cluster_quality(predicted: dict[str, str], truth: dict[str, str]) -> ClusterQuality:
    """Compare ``predicted`` (record → cluster) with ``truth`` (record → person)."""
    records = sorted(set(predicted) & set(truth))
    both = Counter((predicted[r], truth[r]) for r in records)
    clusters = Counter(predicted[r] for r in records)
    people = Counter(truth[r] for r in records)
    correct = sum(_pairs(n) for n in both.values())
    pred = sum(_pairs(n) for n in clusters.values())
    true = sum(_pairs(n) for n in people.values())
    n = len(records)
    b_precision = sum(k * k / clusters[c] for (c, _), k in both.items()) / n if n else 1.0
    b_recall = sum(k * k / people[p] for (_, p), k in both.items()) / n if n else 1.0
    total = _pairs(n)
    expected = pred * true / total if total else 0.0
    top = (pred + true) / 2 - expected
    ari = (correct - expected) / top if top else 1.0
    return ClusterQuality(
        records=n, true_pairs=true, predicted_pairs=pred, correct_pairs=correct,
        pairwise_precision=correct / pred if pred else 1.0,
        pairwise_recall=correct / true if true else 1.0,
        bcubed_precision=b_precision, bcubed_recall=b_recall, adjusted_rand=ari,
    )


def world_truth(world: Path, records: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The person behind each record of a synthetic world: ``records`` maps record id to
    (kind, source id), which truth.csv keys by side and party id."""
    with (world / "truth.csv").open(encoding="utf-8", newline="") as fh:
        person = {(_KIND[row["side"]], row["party_id"]): row["person_id"]
                  for row in csv.DictReader(fh) if row["side"] in _KIND}
    return {rid: person[key] for rid, key in records.items() if key in person}
