"""The cluster metrics on cases small enough to count by hand."""

from __future__ import annotations

import pytest

from sentinelle.resolve import cluster_quality

CASES = [
    ("perfect", {"a": "1", "b": "1", "c": "2"}, {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1.0, pairwise_recall=1.0, bcubed_precision=1.0,
          bcubed_recall=1.0, adjusted_rand=1.0)),
    ("one person split in two", {"a": "1", "b": "2", "c": "3"},
     {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1.0, pairwise_recall=0.0, bcubed_precision=1.0,
          bcubed_recall=2 / 3)),
    ("two people merged", {"a": "1", "b": "1", "c": "1"}, {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1 / 3, pairwise_recall=1.0, bcubed_recall=1.0,
          bcubed_precision=(2 / 3 + 2 / 3 + 1 / 3) / 3)),
]


@pytest.mark.parametrize(("description", "predicted", "truth", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_cluster_quality(description: str, predicted: dict[str, str], truth: dict[str, str],
                         expected: dict[str, float]) -> None:
    quality = cluster_quality(predicted, truth)
    for metric, value in expected.items():
        assert getattr(quality, metric) == pytest.approx(value), (description, metric)


def test_records_the_truth_does_not_know_are_left_out() -> None:
    quality = cluster_quality({"a": "1", "b": "1", "x": "1"}, {"a": "P", "b": "P"})
    assert quality.records == 2 and quality.pairwise_precision == 1.0
