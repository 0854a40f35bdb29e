"""IBANs carry correct check digits and the country's length; wallets follow the phone."""

from __future__ import annotations

import numpy as np
import pytest

from sentinelle.synth import accounts
from sentinelle.synth.geography import code, countries
from tests.synth.conftest import Loaded


def iban_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


@pytest.mark.parametrize("country", [c.code for c in countries() if c.iban_length])
def test_ibans_are_valid(country: str) -> None:
    rng = np.random.default_rng(0)
    n = 50
    ci = np.full(n, code(country), dtype=np.int16)
    text = accounts.format_accounts(ci, np.full(n, accounts.IBAN, np.int8),
                                    accounts.draw_numbers(rng, n), None).to_pylist()
    length = countries()[code(country)].iban_length
    assert all(len(t) == length and t.startswith(country) and iban_ok(t) for t in text)


def test_world_ibans_are_valid(world: Loaded) -> None:
    rows = world.rows("""
        SELECT DISTINCT sender_account FROM transactions
        WHERE regexp_matches(sender_account, '^[A-Z]{2}[0-9]{2}[A-Z0-9]+$')""")
    assert rows
    assert all(iban_ok(a) for (a,) in rows)


def test_wallets_are_phone_based(world: Loaded) -> None:
    rows = world.rows("""
        SELECT beneficiary_account, beneficiary_country FROM transactions
        WHERE beneficiary_account LIKE '%-EW-%' LIMIT 50""")
    assert rows
    for account, country in rows:
        prefix, digits = account.split("-EW-")
        assert prefix == country and digits.isdigit()
