"""Neutral name pools, drawn from by integer index so that millions of people cost nothing.

Every first name and surname of every pool sits in one global array (``first_names()``,
``surnames()``); a person holds two int32 indexes into them. The pools live in
``data/names.yaml`` so reviewers check them for neutrality in one place, and the tests
assert that every generated name, email and handle is built from them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml

MALE, FEMALE = 0, 1


@dataclass(frozen=True)
class Pools:
    names: tuple[str, ...]  # pool names, in file order: the integer pool code
    first: tuple[str, ...]  # all first names, pool after pool, male then female
    first_ranges: tuple[tuple[int, int, int], ...]  # per pool: male start, female start, end
    surnames: tuple[str, ...]
    surname_ranges: tuple[tuple[int, int], ...]
    business: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@cache
def pools() -> Pools:
    text = resources.files("sentinelle.synth").joinpath("data/names.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    names: list[str] = []
    first: list[str] = []
    surnames: list[str] = []
    fr: list[tuple[int, int, int]] = []
    sr: list[tuple[int, int]] = []
    for name, pool in data["pools"].items():
        names.append(name)
        male_start = len(first)
        first.extend(pool["male"])
        female_start = len(first)
        first.extend(pool["female"])
        fr.append((male_start, female_start, len(first)))
        sr.append((len(surnames), len(surnames) + len(pool["surnames"])))
        surnames.extend(pool["surnames"])
    b = data["business"]
    return Pools(tuple(names), tuple(first), tuple(fr), tuple(surnames), tuple(sr),
                 (tuple(b["adjectives"]), tuple(b["nouns"]), tuple(b["suffixes"])))


def pool_code(name: str) -> int:
    return pools().names.index(name)


def draw_first(rng: np.random.Generator, pool: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """A first name index per person, from the person's pool and gender."""
    out = np.empty(len(pool), dtype=np.int32)
    ranges = pools().first_ranges
    u = rng.random(len(pool))
    for p in np.unique(pool):
        male, female, end = ranges[p]
        for g, lo, hi in ((MALE, male, female), (FEMALE, female, end)):
            mask = (pool == p) & (gender == g)
            # A mild Zipf weight: common names are more common, as in any population.
            out[mask] = lo + _zipf_index(u[mask], hi - lo)
    return out


def draw_surname(rng: np.random.Generator, pool: np.ndarray) -> np.ndarray:
    """A surname index per person, from the person's pool."""
    out = np.empty(len(pool), dtype=np.int32)
    u = rng.random(len(pool))
    for p in np.unique(pool):
        lo, hi = pools().surname_ranges[p]
        mask = pool == p
        out[mask] = lo + _zipf_index(u[mask], hi - lo)
    return out


def other_surname(rng: np.random.Generator, pool: np.ndarray, surname: np.ndarray) -> np.ndarray:
    """A surname of the same pool that differs from ``surname`` (a married name)."""
    out = draw_surname(rng, pool)
    same = out == surname
    lo = np.array([r[0] for r in pools().surname_ranges])[pool[same]]
    hi = np.array([r[1] for r in pools().surname_ranges])[pool[same]]
    out[same] = lo + (out[same] - lo + 1) % (hi - lo)
    return out


def _zipf_weights(n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** 0.5
    return weights / weights.sum()


def _zipf_index(u: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(_zipf_weights(n))
    return np.minimum(np.searchsorted(cdf, u), n - 1).astype(np.int32)


def namesake_chance(pool: int, gender: int) -> float:
    """The chance that two people of one pool and gender, drawn apart, have one given name
    and one surname: how often a name alone cannot tell two people apart."""
    male, female, end = pools().first_ranges[pool]
    lo, hi = pools().surname_ranges[pool]
    given = female - male if gender == MALE else end - female
    return float((_zipf_weights(given) ** 2).sum() * (_zipf_weights(hi - lo) ** 2).sum())


def fold_ascii(text: str) -> str:
    """Lower-case ASCII letters only: ``Dela Cruz`` -> ``delacruz``, for emails and handles."""
    special = {"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae"}
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = (special.get(ch, ch) for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in "".join(letters) if "a" <= ch <= "z")


def strip_accents(text: str) -> str:
    """The name as a system without accents records it: ``Hélène`` -> ``Helene``."""
    special = {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss",
               "ẞ": "SS"}
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(special.get(ch, ch) for ch in decomposed if not unicodedata.combining(ch))


@cache
def first_ascii() -> tuple[str, ...]:
    return tuple(fold_ascii(n) for n in pools().first)


@cache
def surname_ascii() -> tuple[str, ...]:
    return tuple(fold_ascii(n) for n in pools().surnames)


def business_names(rng: np.random.Generator, n: int) -> list[str]:
    """Names of platform-like payees: "<adjective> <noun> <suffix>"."""
    adjectives, nouns, suffixes = pools().business
    a = rng.integers(0, len(adjectives), n)
    b = rng.integers(0, len(nouns), n)
    c = rng.integers(0, len(suffixes), n)
    return [f"{adjectives[i]} {nouns[j]} {suffixes[k]}" for i, j, k in zip(a, b, c, strict=True)]


def handles(rng: np.random.Generator, first: np.ndarray) -> list[str]:
    """Social-media-like handles built from a first name and two digits (``@jen_22``)."""
    ascii_first = first_ascii()
    digits = rng.integers(0, 100, len(first))
    cut = rng.integers(3, 7, len(first))
    return [f"@{ascii_first[f][:k]}_{d:02d}" for f, k, d in zip(first, cut, digits, strict=True)]
