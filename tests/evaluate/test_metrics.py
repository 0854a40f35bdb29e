"""Ranking metrics: how high the true parties sit, ties counted against the ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentinelle.evaluate.metrics import rank_quality, spread

CASES = [
    # (description, scores, labels, AP, R-precision, top-1% precision, top-1% recall)
    ("perfect ranking", [4, 3, 2, 1], [1, 1, 0, 0], 1.0, 1.0, 1.0, 0.5),
    ("reversed ranking", [4, 3, 2, 1], [0, 0, 1, 1], (1 / 3 + 2 / 4) / 2, 0.0, 0.0, 0.0),
    ("all tied: the positive counts as last", [1, 1, 1, 1], [1, 0, 0, 0], 1 / 4, 0.0, 0.0,
     0.0),
    ("tie below the top: negatives first", [2, 1, 1], [0, 1, 0], 1 / 3, 0.0, 0.0, 0.0),
    ("tie at the top, two positives", [5, 5, 1], [1, 1, 0], 1.0, 1.0, 1.0, 0.5),
    ("n < 100: the top 1% is the top party", [9] + [1] * 49, [1] + [0] * 48 + [1],
     (1 + 2 / 50) / 2, 0.5, 1.0, 0.5),
    ("n = 250: the top 1% is 3 parties", list(range(250, 0, -1)),
     [0, 1, 1] + [0] * 246 + [1], (1 / 2 + 2 / 3 + 3 / 250) / 3, 2 / 3, 2 / 3, 2 / 3),
]


@pytest.mark.parametrize(("scores", "labels", "ap", "rp", "p1", "r1"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rank_quality(scores, labels, ap, rp, p1, r1):
    q = rank_quality(np.array(scores, dtype=float), np.array(labels, dtype=bool))
    got = (q.average_precision, q.r_precision, q.top1_precision, q.top1_recall)
    assert got == pytest.approx((ap, rp, p1, r1))
    assert (q.parties, q.positives) == (len(labels), sum(labels))


def test_no_positive_party_raises():
    with pytest.raises(ValueError, match="no positive"):
        rank_quality(np.array([1.0, 2.0]), np.array([False, False]))


def test_minus_infinity_ranks_last():
    q = rank_quality(np.array([-np.inf, 0.5]), np.array([True, False]))
    assert q.average_precision == 0.5


SPREADS = [
    # (description, values, mean, standard deviation, least, most)
    ("one seed: no spread", [0.5], 0.5, 0.0, 0.5, 0.5),
    ("two seeds: sample standard deviation", [0.0, 1.0], 0.5, math.sqrt(0.5), 0.0, 1.0),
    ("equal values", [0.8, 0.8, 0.8], 0.8, 0.0, 0.8, 0.8),
]


@pytest.mark.parametrize(("values", "mean", "std", "least", "most"),
                         [c[1:] for c in SPREADS], ids=[c[0] for c in SPREADS])
def test_spread(values, mean, std, least, most):
    s = spread(values)
    assert (s.n, s.mean, s.std, s.min, s.max) == pytest.approx(
        (len(values), mean, std, least, most))


def test_spread_of_nothing_raises():
    with pytest.raises(ValueError):
        spread([])
