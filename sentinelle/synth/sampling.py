"""Small vectorised sampling helpers shared by the generators.

Why here: every cohort draws weighted categories, heavy-tailed amounts, local hours and
group positions over arrays of people; writing each once keeps the cohorts readable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sentinelle.synth.calibration import Weights


def weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """``n`` indexes into ``weights`` drawn in proportion to them."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def weighted_keys(rng: np.random.Generator, weights: Weights, n: int) -> list[str]:
    keys = [k for k, _ in weights]
    return [keys[i] for i in weighted(rng, [w for _, w in weights], n)]


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def local_seconds(
    rng: np.random.Generator, windows: tuple[tuple[float, float, float], ...], n: int
) -> np.ndarray:
    """Seconds after local midnight, uniform within weighted hour windows.

    A window may run past 24 h (``(0.4, 23, 26)`` is 23:00-02:00); such seconds exceed
    86,400 and the caller carries them into the next day (``calendar.clamp_local``).
    """
    k = weighted(rng, [w[0] for w in windows], n)
    start = np.array([w[1] for w in windows])[k]
    end = np.array([w[2] for w in windows])[k]
    return ((start + (end - start) * rng.random(n)) * 3600).astype(np.int64)


def group_of(counts: np.ndarray) -> np.ndarray:
    """For counts ``[2, 1]`` -> ``[0, 0, 1]``: which group each expanded item belongs to."""
    return np.repeat(np.arange(len(counts)), counts)


def rank_in_group(counts: np.ndarray) -> np.ndarray:
    """For counts ``[2, 1]`` -> ``[0, 1, 0]``: the position of each item in its group."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), in random order."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        drawn = rng.integers(low, high, (n - len(out)) * 11 // 10 + 8, dtype=np.int64)
        merged = np.concatenate([out, drawn])
        _, first = np.unique(merged, return_index=True)
        out = merged[np.sort(first)]
    return out[:n]


def stratified(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms, one per equal slice of (0, 1), shuffled.

    Why: calibrated shares (3% of buyers make half the payments) must hold even for the
    few dozen buyers of a small test world; plain random draws would swing too much.
    """
    u = (np.arange(n) + rng.random(n)) / max(n, 1)
    return rng.permutation(u)


def fresh(draw: Callable[[int], np.ndarray], n: int, taken: dict[str, np.ndarray], key: str
          ) -> np.ndarray:
    """``n`` values from ``draw`` never handed out before under ``key`` (in draw order).

    Why: phones and accounts must stay unique across every cohort of a world, or two
    strangers would look like one person to entity resolution.
    """
    before = taken.get(key, np.empty(0, dtype=np.int64))
    values = before
    while len(values) < len(before) + n:
        more = draw((len(before) + n - len(values)) * 11 // 10 + 8)
        merged = np.concatenate([values, more])
        _, first = np.unique(merged, return_index=True)
        values = merged[np.sort(first)]
    taken[key] = values[:len(before) + n]
    return taken[key][len(before):]
