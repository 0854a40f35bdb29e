"""The measure of what entity resolution changes in detection (evaluate/resolution.py)."""

from __future__ import annotations

import math
from pathlib import Path

from sentinelle.evaluate.resolution import measure_world, report


def test_parties_and_subjects_are_compared_over_the_same_people(tmp_path: Path) -> None:
    effects = measure_world(tmp_path, 0.05, 7)
    assert {e.role for e in effects} == {"buyer", "facilitator"}
    for e in effects:
        assert e.positives > 0 and e.people > e.positives
        for value in (e.ap_parties, e.ap_subjects, e.unit_ap_parties, e.unit_ap_subjects,
                      e.top1_parties, e.top1_subjects):
            assert 0.0 <= value <= 1.0
    facilitators = next(e for e in effects if e.role == "facilitator")
    # A facilitator collecting under relatives' names raises one alert per record on
    # parties, one per person on subjects.
    assert not math.isnan(facilitators.alerts_per_found_parties)
    assert facilitators.alerts_per_found_subjects <= facilitators.alerts_per_found_parties
    text = report(effects, 0.05, "python -m sentinelle.evaluate.resolution X 0.05 7")
    assert "| facilitator | 7 |" in text and "AP gain" in text
