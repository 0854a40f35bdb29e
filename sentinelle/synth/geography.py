"""Countries of the synthetic world: currency, time zones, naming pools, phones, cities.

Declared once in ``data/countries.yaml``; this module loads it into small index-addressed
tables, because the generators work on numpy arrays of country codes (int16), not strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml

from sentinelle.synth.calibration import Weights


@dataclass(frozen=True)
class Phone:
    cc: str  # country calling code
    trunk: str  # national prefix, "" where none is dialled
    length: int  # digits of the national significant number
    prefixes: tuple[str, ...]
    groups: tuple[int, ...]


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    zones: tuple[str, ...]
    zone_weights: tuple[float, ...]
    pools: tuple[str, ...]
    phone: Phone
    iban_length: int | None
    cities: tuple[str, ...]


@cache
def countries() -> tuple[Country, ...]:
    """Every declared country, in file order (the order is the integer code)."""
    text = resources.files("sentinelle.synth").joinpath("data/countries.yaml").read_text("utf-8")
    out = []
    for code, raw in yaml.safe_load(text).items():
        zones = raw["zones"]
        weights = zones if isinstance(zones, dict) else {z: 1 for z in zones}
        p = raw["phone"]
        out.append(Country(
            code=str(code),
            currency=raw["currency"],
            zones=tuple(weights),
            zone_weights=tuple(float(w) for w in weights.values()),
            pools=tuple(raw.get("pools") or ()),
            phone=Phone(str(p["cc"]), str(p["trunk"]), int(p["length"]),
                        tuple(str(x) for x in p["prefixes"]), tuple(p["groups"])),
            iban_length=raw.get("iban"),
            cities=tuple(raw.get("cities") or ()),
        ))
    return tuple(out)


@cache
def country_index() -> dict[str, int]:
    return {c.code: i for i, c in enumerate(countries())}


def code(country: str) -> int:
    return country_index()[country]


@cache
def zone_names() -> tuple[str, ...]:
    """Every sender time zone, in a fixed order: the integer zone code."""
    seen: dict[str, None] = {}
    for c in countries():
        for z in c.zones:
            seen.setdefault(z, None)
    return tuple(seen)


@cache
def city_names() -> tuple[str, ...]:
    """Every city, in a fixed order: the integer city code."""
    return tuple(city for c in countries() for city in c.cities)


@cache
def _city_ranges() -> tuple[tuple[int, int], ...]:
    ranges, start = [], 0
    for c in countries():
        ranges.append((start, start + len(c.cities)))
        start += len(c.cities)
    return tuple(ranges)


def draw_countries(rng: np.random.Generator, weights: Weights, n: int) -> np.ndarray:
    """``n`` country codes (int16) drawn with the given weights."""
    codes = np.array([code(c) for c, _ in weights], dtype=np.int16)
    p = np.array([w for _, w in weights], dtype=float)
    return codes[rng.choice(len(codes), size=n, p=p / p.sum())]


def draw_zones(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A time zone per person, by population weight within the country."""
    zone_of = {z: i for i, z in enumerate(zone_names())}
    out = np.empty(len(country), dtype=np.int16)
    for ci in np.unique(country):
        c = countries()[ci]
        mask = country == ci
        p = np.array(c.zone_weights) / sum(c.zone_weights)
        idx = rng.choice(len(c.zones), size=int(mask.sum()), p=p)
        out[mask] = np.array([zone_of[z] for z in c.zones], dtype=np.int16)[idx]
    return out


def draw_cities(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A city per receiving person (int16 city code); countries without cities get -1."""
    out = np.full(len(country), -1, dtype=np.int16)
    ranges = _city_ranges()
    for ci in np.unique(country):
        lo, hi = ranges[ci]
        if hi > lo:
            mask = country == ci
            # Capitals and big cities first in the file: a gentle Zipf weight.
            p = 1.0 / np.arange(1, hi - lo + 1) ** 0.6
            out[mask] = lo + rng.choice(hi - lo, size=int(mask.sum()), p=p / p.sum())
    return out


def currency_of(country: np.ndarray) -> np.ndarray:
    """Index into ``currencies()`` for each country code."""
    lookup = np.array([currencies().index(c.currency) for c in countries()], dtype=np.int16)
    return lookup[country]


@cache
def currencies() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for c in countries():
        seen.setdefault(c.currency, None)
    return tuple(seen)
