"""Fictitious mobile numbers, valid for their country, written the ways real exports write them.

Why valid: ingestion normalises phones with ``phonenumbers`` and flags invalid ones; a
synthetic world full of invalid numbers would test the wrong thing. Each country's mobile
prefixes in ``data/countries.yaml`` were checked with ``phonenumbers.is_valid_number``;
the remaining digits are random. North American numbers use the 555 exchange.

Numbers are unique across people unless a generator copies one on purpose (a facilitator
collecting under relatives' names gives the relatives her phone).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinelle.synth.geography import countries
from sentinelle.synth.sampling import fresh

# How a number is written: E.164 compact, international with spaces, national with
# spaces, national with dashes, national compact. Weights: what exports mix.
STYLES = ("e164", "intl_spaced", "national_spaced", "national_dashed", "national_compact")
STYLE_WEIGHTS = (0.35, 0.15, 0.25, 0.10, 0.15)


def draw_numbers(rng: np.random.Generator, country: np.ndarray,
                 taken: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """A national significant number (int64) per person, never one already in ``taken``."""
    taken = {} if taken is None else taken
    out = np.zeros(len(country), dtype=np.int64)
    for ci in np.unique(country):
        rows = np.flatnonzero(country == ci)
        spec = countries()[ci].phone
        prefixes = np.array([int(p) for p in spec.prefixes], dtype=np.int64)
        rest = np.array([spec.length - len(p) for p in spec.prefixes], dtype=np.int64)
        # Per country: countries sharing +1 have disjoint area codes, so never collide.
        key = f"phone:{countries()[ci].code}"
        if len(taken.get(key, ())) + len(rows) > int((10.0 ** rest).sum()) // 2:
            raise ValueError(f"too few phone numbers declared for {countries()[ci].code}: "
                             "add prefixes in data/countries.yaml")

        def draw(k: int, prefixes: np.ndarray = prefixes, rest: np.ndarray = rest
                 ) -> np.ndarray:
            which = rng.integers(0, len(prefixes), k)
            tail = (rng.random(k) * 10.0 ** rest[which]).astype(np.int64)
            return prefixes[which] * 10 ** rest[which] + tail

        out[rows] = fresh(draw, len(rows), taken, key)
    return out


def draw_styles(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(STYLES), size=n, p=STYLE_WEIGHTS).astype(np.int8)


def format_numbers(country: np.ndarray, number: np.ndarray, style: np.ndarray) -> pa.Array:
    """Phone strings; a zero number is a missing phone (null)."""
    out = np.empty(len(country), dtype=object)
    for ci in np.unique(country):
        mask = np.flatnonzero(country == ci)
        for s in np.unique(style[mask]):
            sub = mask[style[mask] == s]
            out[sub] = _format(int(ci), number[sub], STYLES[s]).to_numpy(zero_copy_only=False)
    out[number == 0] = None
    return pa.array(out, type=pa.string())


def format_as(country: np.ndarray, number: np.ndarray, style: str) -> pa.Array:
    """Every number in one style (for referrals quoting a number differently)."""
    return format_numbers(country, number, np.full(len(country), STYLES.index(style), np.int8))


def _format(ci: int, number: np.ndarray, style: str) -> pa.Array:
    spec = countries()[ci].phone
    digits = pc.utf8_lpad(pa.array(number).cast(pa.string()), spec.length, "0")
    if style == "e164":
        return pc.binary_join_element_wise("+" + spec.cc, digits, "")
    groups, start = [], 0
    for g in spec.groups:
        groups.append(pc.utf8_slice_codeunits(digits, start, start + g))
        start += g
    if style == "intl_spaced":
        return pc.binary_join_element_wise("+" + spec.cc, *groups, " ")
    if style == "national_compact":
        return pc.binary_join_element_wise(spec.trunk, digits, "")
    groups[0] = pc.binary_join_element_wise(spec.trunk, groups[0], "")
    return pc.binary_join_element_wise(*groups, " " if style == "national_spaced" else "-")
