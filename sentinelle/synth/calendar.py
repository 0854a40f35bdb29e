"""The two-year calendar and each sender's local time, daylight saving included.

Why local time matters: the night-time indicators (FATF 2025; ECPAT 2024) read the hour
in the *sender's* zone from the timestamp's own offset, so every timestamp carries the
correct offset for its zone and instant (``+01:00`` in a Paris winter, ``+02:00`` in
summer). Generators think in local days and seconds; this module converts to UTC.

Vectorised: the UTC offset of every zone is tabulated once on a 15-minute UTC grid (every
daylight-saving transition of the declared zones falls on a quarter hour), from the exact
transition instants found with ``zoneinfo``. Looking up ten million offsets is one
fancy-indexing operation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinelle.synth.geography import zone_names

START = date(2024, 1, 1)
END = date(2025, 12, 31)
DAYS = (END - START).days + 1  # 731 local days
EPOCH_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
QUARTER = 900
# The grid covers a day either side of the period: local midnight is up to 14 h off UTC.
GRID_START = EPOCH_START - 2 * 86400
GRID_LEN = (DAYS + 4) * 86400 // QUARTER


def _offset_seconds(zone: ZoneInfo, t: int) -> int:
    off = datetime.fromtimestamp(t, tz=zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


@cache
def offset_grid() -> np.ndarray:
    """UTC offset in seconds, per zone (row) and quarter hour of the grid (column)."""
    grid = np.empty((len(zone_names()), GRID_LEN), dtype=np.int32)
    noon = GRID_START + 43200 + 86400 * np.arange(GRID_LEN * QUARTER // 86400)
    for zi, name in enumerate(zone_names()):
        zone = ZoneInfo(name)
        daily = np.array([_offset_seconds(zone, int(t)) for t in noon])
        cuts, values = [GRID_START], [daily[0]]
        for d in np.flatnonzero(np.diff(daily)):
            lo, hi = int(noon[d]), int(noon[d + 1])  # offset changes within (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_seconds(zone, mid) == daily[d]:
                    lo = mid
                else:
                    hi = mid
            cuts.append(hi)
            values.append(daily[d + 1])
        quarters = GRID_START + QUARTER * np.arange(GRID_LEN)
        grid[zi] = np.array(values)[np.searchsorted(cuts, quarters, side="right") - 1]
    return grid


def offsets_at(utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The zone's UTC offset in seconds at each UTC instant."""
    q = np.clip((utc - GRID_START) // QUARTER, 0, GRID_LEN - 1)
    return offset_grid()[zone, q]


def local_to_utc(day: np.ndarray, second: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """UTC epoch seconds of a local day (0 = 2024-01-01) and second of day, in a zone.

    Two fixed-point steps settle the offset; a local time that does not exist (the hour
    skipped in spring) lands an hour off, as a clock would show it.
    """
    local = EPOCH_START + day.astype(np.int64) * 86400 + second
    utc = local - offsets_at(local, zone)
    return local - offsets_at(utc, zone)


def clamp_local(day: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carry seconds past midnight into the next day and keep days inside the period."""
    day = day.astype(np.int64) + second // 86400
    second = second % 86400
    return np.clip(day, 0, DAYS - 1), second


@cache
def _day_strings() -> pa.Array:
    first = START - timedelta(days=2)
    return pa.array([(first + timedelta(days=i)).isoformat() for i in range(DAYS + 4)])


@cache
def _time_strings() -> pa.Array:
    s = np.arange(86400)
    return pa.array([f"T{h:02d}:{m:02d}:{x:02d}" for h, m, x in
                     zip(s // 3600, s // 60 % 60, s % 60, strict=True)])


@cache
def _offset_strings() -> tuple[np.ndarray, pa.Array]:
    minutes = np.arange(-14 * 60, 14 * 60 + 1, 15)
    text = [f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in minutes]
    return minutes, pa.array(text)


def format_timestamps(utc: np.ndarray, zone: np.ndarray) -> pa.Array:
    """ISO 8601 with the local offset: ``2024-03-07T23:41:05+01:00``."""
    offset = offsets_at(utc, zone)
    local = utc + offset - (EPOCH_START - 2 * 86400)
    day = pa.array(local // 86400)
    sec = pa.array(local % 86400)
    minutes, text = _offset_strings()
    off = pa.array(np.searchsorted(minutes, offset // 60))
    return pc.binary_join_element_wise(
        _day_strings().take(day), _time_strings().take(sec), text.take(off), "")


def local_days(utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """Local day index (0 = 2024-01-01) of each instant, for checks and referrals."""
    return (utc + offsets_at(utc, zone) - EPOCH_START) // 86400


def month_starts() -> np.ndarray:
    """Day index of the first of each month, 2024-01 to 2026-01 (25 values)."""
    out = []
    for k in range(25):
        y, m = 2024 + k // 12, k % 12 + 1
        out.append((date(y, m, 1) - START).days)
    return np.array(out, dtype=np.int64)


def date_strings(days_since_epoch: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD`` for days since 1970-01-01; a missing marker gives null."""
    missing = days_since_epoch == MISSING_DATE
    arr = pa.array(np.where(missing, 0, days_since_epoch).astype(np.int32), type=pa.date32())
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr.cast(pa.string()))


MISSING_DATE = np.iinfo(np.int32).min
