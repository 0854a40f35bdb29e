"""From indicator strengths to a score that explains itself.

Each indicator adds ``points = weight x strength`` (log-odds). The score is
``1 / (1 + exp(-(intercept + scale x total points)))``, a probability once the intercept
and scale are calibrated. An analyst reads it as a sum: the base score (no indicator
firing) plus one contribution per indicator, ``(score - base) x points / total``, so the
contributions add up to the score exactly and keep each indicator's share of the points.

The glass-box model (``sentinelle model train``) is a logistic regression over the same
strengths: its coefficients replace the weights and the explanation is the same sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sentinelle.detect.catalogue import Catalogue, Indicator


@dataclass(frozen=True)
class Weights:
    """What turns strengths into points for one role: the scorecard's or a model's."""

    role: str
    intercept: float
    scale: float
    weight: dict[str, float]
    scorer: str = "scorecard"

    def of(self, indicator: Indicator) -> float:
        return self.weight.get(indicator.id, 0.0)


def scorecard_weights(catalogue: Catalogue, role: str) -> Weights:
    cal = catalogue.calibration[role]
    return Weights(role, cal.intercept, cal.scale,
                   {i.id: i.weight for i in catalogue.for_role(role)})


def sigmoid_sql(expr: str) -> str:
    return f"(1.0 / (1.0 + exp(-({expr}))))"


def points_sql(weights: Weights, indicators: list[Indicator]) -> str:
    terms = [f"{weights.of(i)!r} * s_{i.id}" for i in indicators]
    return " + ".join(terms) if terms else "0.0"


def score_sql(weights: Weights, points: str) -> str:
    return sigmoid_sql(f"{weights.intercept!r} + {weights.scale!r} * ({points})")


def comparable(expr: str) -> str:
    """A score (or any number from 0 to about 1) as ranks and ties compare it: to 1e-12.
    Scores are sums of doubles added in whatever order an engine's threads finish, so two
    parties with the same payments can differ in the last bits from run to run and from
    engine to engine; compared exactly, their order (a rank, the order of reasons, the
    strongest sender named) would be drawn by chance. floor() of a product is computed
    alike on every engine, where round() is not."""
    return f"floor(({expr}) * 1e12)"


def base_score(weights: Weights) -> float:
    return 1.0 / (1.0 + math.exp(-weights.intercept))
