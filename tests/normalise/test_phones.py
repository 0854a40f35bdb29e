"""to_e164: any way a phone number is written, to E.164, or a reason (numbers are fictitious
where a fictitious range exists, otherwise valid-format samples)."""

from __future__ import annotations

import pytest

from sentinelle.normalise.phones import to_e164

VALID = [
    ("PH mobile, national", "0917 123 4567", "PH", "+639171234567"),
    ("PH mobile, international", "+63 917 123 4567", "PH", "+639171234567"),
    ("PH mobile, 00 prefix", "0063 917 123 4567", "PH", "+639171234567"),
    ("PH mobile, 00 prefix read in a US file", "0063-917-123-4567", "US", "+639171234567"),
    ("PH mobile, 00 prefix with no region", "00639171234567", None, "+639171234567"),
    ("PH mobile, country code without +", "639171234567", "PH", "+639171234567"),
    ("PH mobile, dots and brackets", "(0917) 123.4567", "PH", "+639171234567"),
    ("PH mobile, full-width digits", "０９１７１２３４５６７", "PH", "+639171234567"),
    ("PH mobile, region in lower case", "09171234567", "ph", "+639171234567"),
    ("PH number in a French file", "+63 917 123 4567", "FR", "+639171234567"),
    ("FR mobile, national", "06 12 34 56 78", "FR", "+33612345678"),
    ("FR mobile, international", "+33 6 12 34 56 78", "FR", "+33612345678"),
    ("GB mobile, national", "07911 123456", "GB", "+447911123456"),
    ("GB landline, international", "+44 20 7946 0000", None, "+442079460000"),
    ("US, national", "(201) 555-0123", "US", "+12015550123"),
    ("US dialling out with 011", "011 63 917 123 4567", "US", "+639171234567"),
    ("AU mobile, national", "0412 345 678", "AU", "+61412345678"),
    ("AU mobile, international", "+61 412 345 678", "AU", "+61412345678"),
    ("number stored by a spreadsheet as int", 639171234567, "PH", "+639171234567"),
    ("number stored by a spreadsheet as float", 639171234567.0, "PH", "+639171234567"),
]


@pytest.mark.parametrize(
    ("raw", "region", "expected"), [c[1:] for c in VALID], ids=[c[0] for c in VALID]
)
def test_valid_numbers(raw: str, region: str | None, expected: str) -> None:
    assert to_e164(raw, region) == (expected, None)


INVALID = [
    ("empty", "", "PH", "empty"),
    ("None", None, "PH", "empty"),
    ("words", "call me", "PH", "not a phone number"),
    ("too short for PH", "12", "PH", "not a valid phone number for PH"),
    ("PH landline too short", "+63 2 123", None, "not a valid phone number for PH"),
    ("UK drama range is not allocated", "07700 900123", "GB", "not a valid phone number for GB"),
    ("too long", "0917123456789012345678", "PH", "too long to be a phone number"),
    ("unknown calling code", "+999 123456", None, "unknown country calling code"),
    ("national form without region", "0917 123 4567", None,
     "national number with no region to read it in"),
    ("unknown region", "0917 123 4567", "XX",
     "unknown region 'XX' (expected a two-letter country code)"),
    ("a fraction is not a number", 6.5, "PH", "not text or a whole number"),
    ("a boolean is not a number", True, "PH", "not text or a whole number"),
]


@pytest.mark.parametrize(
    ("raw", "region", "reason"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_numbers_give_a_reason(raw: object, region: str | None, reason: str) -> None:
    assert to_e164(raw, region) == (None, reason)  # type: ignore[arg-type]


def test_deterministic_and_cached() -> None:
    assert to_e164("0917 123 4567", "PH") == to_e164("0917 123 4567", "PH")
