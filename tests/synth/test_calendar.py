"""Local offsets are exactly zoneinfo's, daylight saving included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sentinelle.synth import calendar
from sentinelle.synth.geography import zone_names


def test_offsets_match_zoneinfo_at_random_instants() -> None:
    rng = np.random.default_rng(0)
    utc = rng.integers(calendar.EPOCH_START - 86400, calendar.EPOCH_START + 731 * 86400, 5000)
    zone = rng.integers(0, len(zone_names()), 5000)
    text = calendar.format_timestamps(utc, zone).to_pylist()
    for u, z, t in zip(utc.tolist(), zone.tolist(), text, strict=True):
        assert datetime.fromtimestamp(u, ZoneInfo(zone_names()[z])).isoformat() == t


@pytest.mark.parametrize(("zone", "utc", "expected"), [
    ("Europe/Paris", "2024-03-31T00:59:59", "2024-03-31T01:59:59+01:00"),
    ("Europe/Paris", "2024-03-31T01:00:00", "2024-03-31T03:00:00+02:00"),
    ("Europe/London", "2025-10-26T01:00:00", "2025-10-26T01:00:00+00:00"),
    ("Australia/Sydney", "2024-01-15T12:00:00", "2024-01-15T23:00:00+11:00"),
    ("Australia/Sydney", "2024-07-15T12:00:00", "2024-07-15T22:00:00+10:00"),
    ("Australia/Brisbane", "2024-01-15T12:00:00", "2024-01-15T22:00:00+10:00"),
    ("America/New_York", "2024-11-03T06:00:00", "2024-11-03T01:00:00-05:00"),
])
def test_transitions(zone: str, utc: str, expected: str) -> None:
    t = int(datetime.fromisoformat(utc + "+00:00").timestamp())
    z = np.array([zone_names().index(zone)])
    assert calendar.format_timestamps(np.array([t]), z)[0].as_py() == expected


def test_local_days_round_trip() -> None:
    rng = np.random.default_rng(1)
    day = rng.integers(0, calendar.DAYS, 2000)
    second = rng.integers(0, 86400, 2000)
    zone = rng.integers(0, len(zone_names()), 2000)
    utc = calendar.local_to_utc(day, second, zone)
    assert (calendar.local_days(utc, zone) == day).all()


def test_seconds_past_midnight_carry_into_the_next_day() -> None:
    day, second = calendar.clamp_local(np.array([0, 730]), np.array([90000, 90000]))
    assert day.tolist() == [1, 730] and second.tolist() == [3600, 3600]
