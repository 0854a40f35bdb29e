"""IBAN recognition and check digits (ISO 13616), for ``clean_account``.

Why here and not a library: the check is twenty lines and the length table is a public
registry (SWIFT's IBAN Registry); a dependency for that would be one more thing to vet on an
air-gapped network.
"""

from __future__ import annotations

__all__ = ["IBAN_LENGTHS", "check_iban", "looks_like_iban"]

# SWIFT IBAN Registry: country → total IBAN length. Countries that only use IBANs
# experimentally are left out: an account number there that happens to start with two
# letters and two digits is not an IBAN.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def looks_like_iban(text: str) -> bool:
    """Upper-case, no spaces: a registry country, two check digits, then letters/digits."""
    return (
        len(text) >= 15
        and text[:2] in IBAN_LENGTHS
        and text[2:4].isdigit()
        and text.isascii()
        and set(text) <= _ALNUM
    )


def check_iban(text: str) -> str | None:
    """``None`` when ``text`` is a well-formed IBAN, else the reason it is not."""
    expected = IBAN_LENGTHS.get(text[:2])
    if expected is not None and len(text) != expected:
        return f"IBAN is {len(text)} characters long, {text[:2]} IBANs have {expected}"
    # Mod 97-10: move the first four characters to the end, letters to numbers (A=10 … Z=35).
    digits = "".join(str(int(ch, 36)) for ch in text[4:] + text[:4])
    if int(digits) % 97 != 1:
        return "IBAN check digits do not match"
    return None
