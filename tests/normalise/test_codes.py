"""Country, currency, e-mail and account cleaning (fictitious addresses and accounts)."""

from __future__ import annotations

import pytest

from sentinelle.normalise.codes import (
    COUNTRIES,
    CURRENCIES,
    clean_account,
    clean_country,
    clean_currency,
    clean_email,
)
from sentinelle.normalise.iban import IBAN_LENGTHS

COUNTRY_CASES = [
    ("alpha-2", "PH", ("PH", None)),
    ("alpha-2, lower case and spaces", " ph ", ("PH", None)),
    ("alpha-3", "PHL", ("PH", None)),
    ("ISO numeric", "608", ("PH", None)),
    ("English name", "Philippines", ("PH", None)),
    ("English common name", "Vietnam", ("VN", None)),
    ("official name", "Republic of the Philippines", ("PH", None)),
    ("leading 'the'", "the Netherlands", ("NL", None)),
    ("French name", "Royaume-Uni", ("GB", None)),
    ("French name with accent", "Thaïlande", ("TH", None)),
    ("Spanish name", "Estados Unidos", ("US", None)),
    ("German name", "Deutschland", ("DE", None)),
    ("common alias UK", "UK", ("GB", None)),
    ("alias with dots", "U.S.A.", ("US", None)),
    ("old name", "Turkey", ("TR", None)),
    ("curly apostrophe", "Côte d’Ivoire", ("CI", None)),
    ("Kosovo, used by payment systems", "XK", ("XK", None)),
    ("unknown code", "ZZ", (None, "not a known country code or name: 'ZZ'")),
    ("ambiguous name", "Korea", (None, "not a known country code or name: 'Korea'")),
    ("empty", "  ", (None, "empty")),
    ("None", None, (None, "empty")),
    ("not text", 608, (None, "not text")),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in COUNTRY_CASES], ids=[c[0] for c in COUNTRY_CASES]
)
def test_clean_country(raw: object, expected: tuple[str | None, str | None]) -> None:
    assert clean_country(raw) == expected  # type: ignore[arg-type]


CURRENCY_CASES = [
    ("code", "PHP", ("PHP", None)),
    ("lower case and spaces", " eur ", ("EUR", None)),
    ("symbol", "€", ("EUR", None)),
    ("peso sign", "₱", ("PHP", None)),
    ("prefixed dollar", "A$", ("AUD", None)),
    ("local abbreviation", "zł", ("PLN", None)),
    ("ISO name", "Philippine Peso", ("PHP", None)),
    ("renminbi", "RMB", ("CNY", None)),
    ("withdrawn but in histories", "BGN", ("BGN", None)),
    ("ambiguous dollar", "$",
     (None, "ambiguous currency symbol '$' (several currencies use it)")),
    ("ambiguous yen/yuan", "¥",
     (None, "ambiguous currency symbol '¥' (several currencies use it)")),
    ("unknown", "XYZ", (None, "not an ISO 4217 currency: 'XYZ'")),
    ("empty", "", (None, "empty")),
    ("None", None, (None, "empty")),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in CURRENCY_CASES], ids=[c[0] for c in CURRENCY_CASES]
)
def test_clean_currency(raw: str | None, expected: tuple[str | None, str | None]) -> None:
    assert clean_currency(raw) == expected


EMAIL_CASES = [
    ("lower-cased", "Maria.Santos@Example.COM", ("maria.santos@example.com", None)),
    ("display name", "Maria Santos <maria@example.ph>", ("maria@example.ph", None)),
    ("mailto with query", "mailto:maria@example.ph?subject=hi", ("maria@example.ph", None)),
    ("trailing dot", "maria@example.ph.", ("maria@example.ph", None)),
    ("plus tag kept", "maria+remit@example.com", ("maria+remit@example.com", None)),
    ("international domain kept", "maria@exämple.de", ("maria@exämple.de", None)),
    ("no domain dot", "maria@example", (None, "not an e-mail address")),
    ("one-letter TLD", "maria@example.c", (None, "not an e-mail address")),
    ("bad domain label", "maria@-example.com", (None, "not an e-mail address")),
    ("two addresses", "a@example.com; b@example.com",
     (None, "more than one address, or spaces, in one field")),
    ("empty", " ", (None, "empty")),
    ("None", None, (None, "empty")),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in EMAIL_CASES], ids=[c[0] for c in EMAIL_CASES]
)
def test_clean_email(raw: str | None, expected: tuple[str | None, str | None]) -> None:
    assert clean_email(raw) == expected


ACCOUNT_CASES = [
    ("valid IBAN with spaces", "FR76 3000 6000 0112 3456 7890 189",
     ("FR7630006000011234567890189", None)),
    ("valid IBAN, lower case with dashes", "gb82-west-1234-5698-7654-32",
     ("GB82WEST12345698765432", None)),
    ("IBAN prefix removed", "IBAN DE89 3704 0044 0532 0130 00", ("DE89370400440532013000", None)),
    ("bad check digits: kept and flagged", "FR76 3000 6000 0112 3456 7890 188",
     ("FR7630006000011234567890188", "IBAN check digits do not match")),
    ("wrong length: kept and flagged", "DE89 3704 0044 0532 0130 0",
     ("DE8937040044053201300", "IBAN is 21 characters long, DE IBANs have 22")),
    ("plain account number", "1234-5678.90", ("1234567890", None)),
    ("not an IBAN country", "PH12 3456 7890 1234", ("PH12345678901234", None)),
    ("whole number from a spreadsheet", 1234567890, ("1234567890", None)),
    ("scientific notation: digits lost", "1.23457E+11",
     (None, "a spreadsheet turned this number into scientific notation; digits are lost")),
    ("empty", " - ", (None, "empty")),
    ("None", None, (None, "empty")),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in ACCOUNT_CASES], ids=[c[0] for c in ACCOUNT_CASES]
)
def test_clean_account(raw: str | int | None, expected: tuple[str | None, str | None]) -> None:
    assert clean_account(raw) == expected


def test_code_sets() -> None:
    assert {"PH", "FR", "GB", "US", "AU", "TH", "CO", "RO"} <= COUNTRIES
    assert all(len(c) == 2 and c.isupper() for c in COUNTRIES)
    assert {"EUR", "PHP", "USD", "XOF", "BGN"} <= CURRENCIES
    assert all(len(c) == 3 and c.isupper() for c in CURRENCIES)
    assert set(IBAN_LENGTHS) <= COUNTRIES
