"""A synthetic world with ground truth: a remittance export, referrals and who is who.

Everything is fictitious and neutral (names from ``data/names.yaml``, emails at
example.org/.com/.net, made-up bank codes); the behaviour is calibrated on published
figures, cited in ``calibration.py``.
"""

from __future__ import annotations

from sentinelle.synth.calibration import CALIBRATION, EUR_PER_UNIT, Calibration
from sentinelle.synth.world import TRUTH_COLUMNS, WorldSummary, generate_world

__all__ = [
    "CALIBRATION",
    "EUR_PER_UNIT",
    "TRUTH_COLUMNS",
    "Calibration",
    "WorldSummary",
    "generate_world",
]
