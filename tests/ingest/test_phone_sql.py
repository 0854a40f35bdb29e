"""Where SQL decides a phone number, it agrees with to_e164 (libphonenumber) exactly."""

from __future__ import annotations

import random

import duckdb
import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat

from sentinelle.ingest.phone_sql import fast_clean
from sentinelle.normalise import to_e164
from sentinelle.normalise.phone_rules import region_rules

LAYOUT = str.maketrans("", "", " ().-/")
TYPES = ("MOBILE", "FIXED_LINE", "TOLL_FREE", "VOIP", "PREMIUM_RATE")


def _written_forms() -> list[tuple[str, str]]:
    """Example numbers of every region and type, written the ways people write them."""
    rng = random.Random(7)
    samples = []
    for region in sorted(region_rules()):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(
                region, getattr(phonenumbers.PhoneNumberType, kind))
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            forms = [e164, "00" + e164[1:], national, e164[1:],
                     phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)]
            # A digit changed or dropped: mostly invalid, sometimes another valid number.
            digits = list(e164[1:])
            i = rng.randrange(len(digits))
            digits[i] = str((int(digits[i]) + 1) % 10)
            forms += ["+" + "".join(digits), e164[:-1]]
            other = rng.choice(sorted(region_rules()))
            samples += [(f, region) for f in forms] + [(national, other)]
    return samples


def _fast(samples: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], str]:
    con = duckdb.connect()
    keys = sorted({(raw.translate(LAYOUT), region or "") for raw, region in samples})
    con.execute("CREATE TEMP TABLE phone_keys (raw VARCHAR, region_raw VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO phone_keys VALUES (?, ?, nullif(?, ''))",
                    [[k, r, r] for k, r in keys])
    fast_clean(con)
    return {(raw, region or None): fast for raw, region, fast in
            con.execute("SELECT raw, region_raw, fast FROM phone_fast").fetchall()}


def test_sql_agrees_with_libphonenumber_wherever_it_decides():
    samples = _written_forms()
    decided = _fast(samples)
    assert len(decided) > len(samples) / 4, "the SQL path decides too little to be worth it"
    disagreements = []
    for (key, region), fast in decided.items():
        expected, _ = to_e164(key, region)
        if fast != expected:
            disagreements.append((key, region, fast, expected))
    assert disagreements == []


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+639171234567", None, "+639171234567"),
    ("09171234567", "PH", "+639171234567"),
    ("0033612345678", None, "+33612345678"),
    ("0612345678", "FR", "+33612345678"),
    ("07400123456", "GB", "+447400123456"),
    ("07700900123", "GB", None),  # a drama range, not valid: only to_e164 says so, with why
    ("2125550142", "US", "+12125550142"),
    ("12015550123", "US", None),  # starts with its own calling code: left to to_e164
    ("2015550123", "US", "+12015550123"),
])
def test_plain_numbers(raw, region, expected):
    got = _fast([(raw, region)]).get((raw, region))
    assert got == expected
    if expected:
        assert to_e164(raw, region)[0] == expected
