"""Phones are valid for their country with phonenumbers, in the formats exports mix."""

from __future__ import annotations

import numpy as np
import phonenumbers
import pytest

from sentinelle.synth.geography import code, countries
from sentinelle.synth.phones import STYLES, draw_numbers, format_numbers
from tests.synth.conftest import Loaded


@pytest.mark.parametrize("country", [c.code for c in countries()])
def test_every_style_parses_to_the_same_valid_number(country: str) -> None:
    rng = np.random.default_rng(0)
    ci = np.full(40, code(country), dtype=np.int16)
    numbers = draw_numbers(rng, ci)
    assert len(set(numbers.tolist())) == len(numbers)
    e164 = None
    for s in range(len(STYLES)):
        written = format_numbers(ci, numbers, np.full(40, s, np.int8)).to_pylist()
        parsed = [phonenumbers.parse(w, country) for w in written]
        assert all(phonenumbers.is_valid_number(p) for p in parsed), (STYLES[s], written[:3])
        assert all(phonenumbers.region_code_for_number(p) == country for p in parsed)
        formatted = [phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)
                     for p in parsed]
        assert e164 is None or formatted == e164
        e164 = formatted


def test_north_american_numbers_use_the_fiction_exchange() -> None:
    rng = np.random.default_rng(1)
    for country in ("US", "CA"):
        numbers = draw_numbers(rng, np.full(50, code(country), dtype=np.int16))
        assert all(str(n)[3:6] == "555" for n in numbers.tolist())


def test_sample_of_the_world_phones_is_valid(world: Loaded) -> None:
    rows = world.rows("""
        SELECT sender_phone, sender_country FROM transactions
        WHERE sender_phone IS NOT NULL USING SAMPLE 400 ROWS
        UNION ALL
        SELECT beneficiary_phone, beneficiary_country FROM transactions
        WHERE beneficiary_phone IS NOT NULL USING SAMPLE 400 ROWS""")
    assert len(rows) > 500
    formats = set()
    for phone, country in rows:
        parsed = phonenumbers.parse(phone, country)
        assert phonenumbers.is_valid_number(parsed), (phone, country)
        formats.add("e164" if phone.startswith("+") and " " not in phone else
                    "spaced" if " " in phone else "dashed" if "-" in phone else "compact")
    assert formats == {"e164", "spaced", "dashed", "compact"}


def test_distinct_people_do_not_share_phones(world: Loaded) -> None:
    shared = world.one("""
        SELECT count(*) FROM (
            SELECT regexp_replace(sender_phone, '[^0-9]', '', 'g') AS digits,
                   count(DISTINCT t.person_id) AS people
            FROM transactions x JOIN truth t ON t.party_id = x.sender_id
            WHERE sender_phone LIKE '+%' AND sender_phone NOT LIKE '% %'
            GROUP BY 1 HAVING people > 1)""")
    assert shared == 0
