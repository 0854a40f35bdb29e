"""Names, handles, descriptions and emails come only from the neutral pools."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from sentinelle.synth import vocabulary
from sentinelle.synth.names import (
    FEMALE,
    MALE,
    draw_first,
    draw_surname,
    fold_ascii,
    namesake_chance,
    pool_code,
    pools,
    strip_accents,
)
from tests.synth.conftest import Loaded

HANDLE = re.compile(r"^@([a-z]+)_\d{2}$")


def fold(word: str) -> str:
    return strip_accents(word).lower()


def pool_words() -> set[str]:
    p = pools()
    words = set()
    for text in (*p.first, *p.surnames, *(w for group in p.business for w in group)):
        words.update(fold(w) for w in text.split())
    return words


def test_pools_are_text_and_unique() -> None:
    p = pools()
    assert all(isinstance(n, str) and n for n in (*p.first, *p.surnames))
    for lo, hi in p.surname_ranges:
        assert len(set(p.surnames[lo:hi])) == hi - lo


@pytest.mark.parametrize("pool", ["british", "filipino", "thai", "vietnamese"])
def test_namesake_chance_is_what_the_draws_give(pool: str) -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    code, gender = np.full(n, pool_code(pool)), np.full(n, FEMALE)
    names = Counter(zip(draw_first(rng, code, gender).tolist(),
                        draw_surname(rng, code).tolist(), strict=True))
    drawn = sum(c * (c - 1) for c in names.values()) / (n * (n - 1))
    assert drawn == pytest.approx(namesake_chance(pool_code(pool), FEMALE), rel=0.1)


def test_namesakes_are_rare_in_every_pool() -> None:
    # A name alone tells two people apart unless they are namesakes; with 30 given names
    # and 40 surnames one pair in 700 shared a full name (a real population: far fewer).
    for pool in range(len(pools().names)):
        for gender in (MALE, FEMALE):
            assert namesake_chance(pool, gender) < 5e-4, pools().names[pool]


@pytest.mark.parametrize(("raw", "ascii_", "plain"), [
    ("Dela Cruz", "delacruz", "Dela Cruz"),
    ("Hélène", "helene", "Helene"),
    ("Bjørn", "bjorn", "Bjorn"),
    ("Łukasz", "lukasz", "Lukasz"),
    ("Nguyễn", "nguyen", "Nguyen"),
    ("Đặng", "dang", "Dang"),
    ("WEIẞ", "weiss", "WEISS"),
])
def test_folding(raw: str, ascii_: str, plain: str) -> None:
    assert fold_ascii(raw) == ascii_
    assert strip_accents(raw) == plain


def test_transaction_names_come_from_the_pools(world: Loaded) -> None:
    words = pool_words()
    names = world.rows("SELECT DISTINCT sender_name FROM transactions UNION "
                       "SELECT DISTINCT beneficiary_name FROM transactions")
    for (name,) in names:
        assert {fold(w) for w in name.split()} <= words, name


def test_descriptions_are_neutral_phrases_or_handles(world: Loaded) -> None:
    firsts = {fold_ascii(n) for n in pools().first}
    for (text,) in world.rows("SELECT DISTINCT description FROM transactions "
                              "WHERE description IS NOT NULL"):
        handle = HANDLE.match(text)
        if handle:
            assert any(f.startswith(handle.group(1)) for f in firsts), text
        else:
            assert text in vocabulary.PHRASE_LIST, text


def test_emails_are_built_from_pool_names(world: Loaded) -> None:
    words = {fold_ascii(n) for n in (*pools().first, *pools().surnames)}

    def known(part: str) -> bool:
        return len(part) == 1 or part in words

    for (email,) in world.rows("SELECT DISTINCT sender_email FROM transactions "
                               "WHERE sender_email IS NOT NULL USING SAMPLE 300 ROWS"):
        local, domain = email.split("@")
        assert domain in ("example.org", "example.com", "example.net")
        local = re.sub(r"\d+$", "", local)
        parts = re.split(r"[._]", local)
        if len(parts) == 2:
            assert all(known(p) for p in parts), email
        else:
            assert any(known(local[:i]) and known(local[i:]) for i in range(2, len(local))), email


def test_referral_names_are_pool_words_give_or_take_a_typo(world: Loaded) -> None:
    words = pool_words()

    def near(token: str) -> bool:
        if token in words:
            return True
        return any(abs(len(w) - len(token)) <= 1 and _one_slip(w, token) for w in words)

    for (name,) in world.rows("SELECT subject_name FROM referrals WHERE subject_name IS NOT NULL"):
        tokens = [fold(w).rstrip(".") for w in name.split()]
        assert all(len(t) == 1 or near(t) for t in tokens), name


def _one_slip(a: str, b: str) -> bool:
    """Equal but for one swap of neighbours, one dropped/doubled or one changed letter."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
