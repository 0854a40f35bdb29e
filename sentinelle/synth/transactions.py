"""Payments as the cohorts produce them, and the ledger that turns them into export rows.

Cohorts think in euros and local days; the export is in the sender's currency and UTC
instants with the sender's offset. ``Ledger.finish`` does that conversion once, splits a
twice-registered sender's history between the two customer numbers, and sorts by time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sentinelle.model import load_table
from sentinelle.synth import calendar
from sentinelle.synth.calibration import EUR_PER_UNIT
from sentinelle.synth.geography import currencies, currency_of
from sentinelle.synth.people import World
from sentinelle.synth.sampling import group_of, rank_in_group, weighted

CHANNELS: tuple[str, ...] = load_table("transactions").field("channel").values
ROUND, WHOLE, CENTS = 0, 1, 2  # how the sender typed the amount


@dataclass
class Payments:
    """One cohort's payments; every array has one value per payment."""

    sender: np.ndarray  # sender record index
    beneficiary: np.ndarray  # beneficiary record index
    day: np.ndarray  # local day, 0 = 2024-01-01
    second: np.ndarray  # local second of the day (may exceed 86,400: carried over)
    eur: np.ndarray  # amount in euros before rounding in the sender's currency
    rounding: np.ndarray  # ROUND | WHOLE | CENTS
    channel: np.ndarray  # index into CHANNELS
    description: np.ndarray  # vocabulary code
    max_eur: float = np.inf  # a ceiling that must hold after rounding


def rounding(rng: np.random.Generator, n: int, round_share: float, cents_share: float
             ) -> np.ndarray:
    return weighted(rng, (round_share, 1 - round_share - cents_share, cents_share),
                    n).astype(np.int8)


def channels(rng: np.random.Generator, per_sender: Mapping[str, float], group: np.ndarray,
             stickiness: float = 0.9) -> np.ndarray:
    """A usual channel per sender, used for most of their payments."""
    codes = np.array([CHANNELS.index(c) for c in per_sender], dtype=np.int8)
    weights = list(per_sender.values())
    usual = codes[weighted(rng, weights, int(group.max()) + 1 if len(group) else 0)]
    other = codes[weighted(rng, weights, len(group))]
    return np.where(rng.random(len(group)) < stickiness, usual[group], other)


@dataclass
class Rows:
    """The finished transactions, sorted by time, ready to write."""

    sender: np.ndarray
    beneficiary: np.ndarray
    utc: np.ndarray
    zone: np.ndarray
    amount_minor: np.ndarray
    currency: np.ndarray
    channel: np.ndarray
    description: np.ndarray

    def __len__(self) -> int:
        return len(self.utc)


class Ledger:
    def __init__(self) -> None:
        self.batches: list[Payments] = []

    def add(self, payments: Payments) -> None:
        self.batches.append(payments)

    def finish(self, world: World) -> Rows:
        """Concatenate, convert and sort; the batches are released (memory at scale 50)."""
        b, self.batches = self.batches, []
        sender = np.concatenate([p.sender for p in b])
        day, second = calendar.clamp_local(np.concatenate([p.day for p in b]),
                                           np.concatenate([p.second for p in b]))
        minor = np.concatenate([_to_minor(world, p) for p in b])
        sender = _split_twins(world, sender, day, second)
        zone = world.senders["zone"][sender]
        utc = calendar.local_to_utc(day, second, zone)
        order = np.argsort(utc, kind="stable")
        return Rows(
            sender=sender[order],
            beneficiary=np.concatenate([p.beneficiary for p in b])[order],
            utc=utc[order],
            zone=zone[order],
            amount_minor=minor[order],
            currency=currency_of(world.senders["country"][sender[order]]),
            channel=np.concatenate([p.channel for p in b])[order],
            description=np.concatenate([p.description for p in b])[order],
        )


def _to_minor(world: World, p: Payments) -> np.ndarray:
    """Euros to the sender's currency, typed the way the sender types it, in cents."""
    rate = np.array([EUR_PER_UNIT.get(c, np.nan) for c in currencies()])[
        currency_of(world.senders["country"][p.sender])]
    value = p.eur / rate
    step = np.where(value < 100, 5, np.where(value < 500, 10, 50))
    rounded = np.where(p.rounding == ROUND, np.maximum(step, np.round(value / step) * step),
                       np.where(p.rounding == WHOLE, np.maximum(1, np.round(value)),
                                np.maximum(1, np.round(value, 2))))
    rounded = np.minimum(rounded, np.floor(p.max_eur / rate))
    return np.round(rounded * 100).astype(np.int64)


def _split_twins(world: World, sender: np.ndarray, day: np.ndarray, second: np.ndarray
                 ) -> np.ndarray:
    """Move the later payments of a twice-registered sender to the second registration.

    The split point is random but leaves at least one payment on each registration; a
    sender with a single payment keeps it, and the unused twin is never written.
    """
    twin = world.senders["twin"]
    rows = np.flatnonzero(twin[sender] >= 0)  # only twice-registered senders' payments
    order = rows[np.lexsort((second[rows], day[rows], sender[rows]))]
    s = sender[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    counts = np.diff(np.r_[starts, len(s)])
    rng = world.rng("twins")
    split = 1 + np.floor(rng.random(len(counts)) * np.maximum(counts - 1, 0)).astype(np.int64)
    g = group_of(counts)
    move = (counts[g] >= 2) & (rank_in_group(counts) >= split[g])
    out = sender.copy()
    out[order[move]] = twin[s[move]]
    return out
