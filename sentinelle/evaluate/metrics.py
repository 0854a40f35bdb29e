"""Ranking metrics for one role: how high the true offenders sit in the ranked list.

Ties are broken pessimistically (a true party among equal scores counts as ranked last
among them), so a detector cannot gain from giving everyone the same score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankQuality:
    parties: int
    positives: int
    average_precision: float
    r_precision: float
    top1_precision: float
    top1_recall: float

    def as_dict(self) -> dict[str, float]:
        return {"average_precision": self.average_precision, "r_precision": self.r_precision,
                "top1_precision": self.top1_precision, "top1_recall": self.top1_recall}


def _order(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels sorted by score, highest first; among ties, negatives first."""
    return labels[np.lexsort((labels, -scores))]


def rank_quality(scores: np.ndarray, labels: np.ndarray) -> RankQuality:
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    n, p = len(labels), int(labels.sum())
    if p == 0:
        raise ValueError("no positive party to measure against")
    ranked = _order(scores, labels)
    hits = np.cumsum(ranked)
    precision_at = hits / np.arange(1, n + 1)
    ap = float(precision_at[ranked].sum() / p)
    top = max(1, int(np.ceil(0.01 * n)))
    return RankQuality(
        parties=n, positives=p, average_precision=ap,
        r_precision=float(hits[p - 1] / p),
        top1_precision=float(hits[top - 1] / top),
        top1_recall=float(hits[top - 1] / p))


@dataclass(frozen=True)
class Spread:
    """One figure over several seeds: mean, sample standard deviation, least and most."""

    n: int
    mean: float
    std: float
    min: float
    max: float


def spread(values: list[float]) -> Spread:
    if not values:
        raise ValueError("no value to summarise")
    a = np.asarray(values, dtype=float)
    std = float(a.std(ddof=1)) if len(a) > 1 else 0.0
    return Spread(len(a), float(a.mean()), std, float(a.min()), float(a.max()))
