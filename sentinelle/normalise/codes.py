"""Country and currency codes, e-mail addresses and account numbers, cleaned for matching.

Every function returns ``(clean value, None)`` or ``(None, reason)`` and never raises: the
caller keeps the raw value beside the clean one ("cleaning never destroys"). The one exception
to ``(None, reason)`` is a flagged account number, see ``clean_account``.

Codes come from pycountry (ISO 3166-1, ISO 4217), so a new ISO release is a dependency update,
not an edit here.
"""

from __future__ import annotations

import gettext
import re
import unicodedata

import pycountry

from sentinelle.normalise.iban import check_iban, looks_like_iban

__all__ = [
    "COUNTRIES",
    "CURRENCIES",
    "WITHDRAWN_CURRENCIES",
    "clean_account",
    "clean_country",
    "clean_currency",
    "clean_email",
]

# XK (Kosovo) is not in ISO 3166-1 but the EU, SWIFT and the IBAN registry use it, so
# payment data carry it.
COUNTRIES: frozenset[str] = frozenset({c.alpha_2 for c in pycountry.countries} | {"XK"})

# Withdrawn from ISO 4217 but still in the payment histories this tool reads: the Bulgarian lev
# (euro from 2026-01-01), the Croatian kuna (2023), the old Sierra Leonean leone and
# Zimbabwe dollar (redenominated 2022–2024), the Cuban convertible peso (2021) and the
# Netherlands Antillean guilder (2025).
WITHDRAWN_CURRENCIES: frozenset[str] = frozenset({"BGN", "HRK", "SLL", "ZWL", "CUC", "ANG"})
CURRENCIES: frozenset[str] = (
    frozenset(c.alpha_3 for c in pycountry.currencies) | WITHDRAWN_CURRENCIES
)


def _fold(text: str) -> str:
    """Case, accents and punctuation off, for looking up names people type."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch if ch.isalnum() else " " for ch in text if not unicodedata.combining(ch))
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


# Names and unofficial short forms found in bank and police data. English first, then the
# languages of the FIUs that use this tool most (French, Spanish, German); English wins a clash.
_COUNTRY_ALIASES = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "usa": "US", "u s": "US", "u s a": "US",
    "united states of america": "US",
    "russia": "RU", "turkey": "TR", "holland": "NL", "ivory coast": "CI", "brunei": "BN",
    "macedonia": "MK", "swaziland": "SZ", "cape verde": "CV", "vatican": "VA", "palestine": "PS",
    "burma": "MM", "east timor": "TL", "dr congo": "CD", "drc": "CD", "uae": "AE", "kosovo": "XK",
    "czech republic": "CZ", "south korea": "KR", "vietnam": "VN", "laos": "LA",
}  # fmt: skip


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    translations = []
    for language in ("fr", "es", "de"):
        try:
            translations.append(
                gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
            )
        except OSError:  # a trimmed pycountry install without locales: English only
            continue
    for country in pycountry.countries:
        english = [getattr(country, f, None) for f in ("name", "common_name", "official_name")]
        for name in english:
            if name:
                names.setdefault(_fold(name), country.alpha_2)
        for translation in translations:
            for name in english:
                if name:
                    names.setdefault(_fold(translation.gettext(name)), country.alpha_2)
        names.setdefault(country.alpha_3.casefold(), country.alpha_2)
        names.setdefault(country.numeric, country.alpha_2)
    names.update(_COUNTRY_ALIASES)
    return names


_COUNTRY_NAMES = _country_names()


def _stripped(raw: object) -> tuple[str | None, str | None]:
    """The trimmed text, or why there is none."""
    if raw is None:
        return None, "empty"
    if not isinstance(raw, str):
        return None, "not text"
    text = raw.strip()
    return (text, None) if text else (None, "empty")


def clean_country(raw: str | None) -> tuple[str | None, str | None]:
    """ISO 3166-1 alpha-2 from alpha-2, alpha-3, numeric or a country name (en, fr, es, de)."""
    text, why = _stripped(raw)
    if text is None:
        return None, why
    upper = text.upper()
    if upper in COUNTRIES:
        return upper, None
    found = _COUNTRY_NAMES.get(_fold(text))
    if found:
        return found, None
    return None, f"not a known country code or name: {text!r}"


# Unambiguous symbols and local abbreviations. "$", "¥", "kr", "Rs" and "CFA" each belong to
# several currencies, so they get a reason instead of a guess.
_CURRENCY_ALIASES = {
    "€": "EUR", "euros": "EUR", "£": "GBP", "us$": "USD", "usd$": "USD", "a$": "AUD", "au$": "AUD",
    "c$": "CAD", "ca$": "CAD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "sg$": "SGD",
    "r$": "BRL", "mx$": "MXN", "rd$": "DOP", "j$": "JMD", "₱": "PHP", "₹": "INR", "฿": "THB",
    "₫": "VND", "₦": "NGN", "₴": "UAH", "₽": "RUB", "₺": "TRY", "₩": "KRW", "₵": "GHS",
    "zł": "PLN", "zl": "PLN", "kč": "CZK", "ft": "HUF", "lei": "RON", "rm": "MYR", "rp": "IDR",
    "rmb": "CNY", "yuan": "CNY", "renminbi": "CNY", "lv": "BGN", "лв": "BGN",
}  # fmt: skip
_AMBIGUOUS_CURRENCY = frozenset({"$", "¥", "kr", "rs", "cfa", "dollar", "peso", "pesos", "franc"})
_CURRENCY_NAMES = {c.name.casefold(): c.alpha_3 for c in pycountry.currencies} | _CURRENCY_ALIASES


def clean_currency(raw: str | None) -> tuple[str | None, str | None]:
    """ISO 4217 alphabetic code from a code, an unambiguous symbol or an ISO currency name."""
    text, why = _stripped(raw)
    if text is None:
        return None, why
    if text.upper() in CURRENCIES:
        return text.upper(), None
    key = " ".join(text.casefold().split())
    if key in _AMBIGUOUS_CURRENCY:
        return None, f"ambiguous currency symbol {text!r} (several currencies use it)"
    found = _CURRENCY_NAMES.get(key)
    if found:
        return found, None
    return None, f"not an ISO 4217 currency: {text!r}"


_EMAIL = re.compile(r"[^\s@<>(),;:\"\[\]]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+")


def clean_email(raw: str | None) -> tuple[str | None, str | None]:
    """A lower-case address from a bare address, ``mailto:`` or ``Name <address>``.

    The whole address is lower-cased: providers treat the local part case-insensitively and
    matching across agencies needs one form. ``+tags`` and Gmail dots are kept — removing them
    changes the address, and that is the resolver's judgement, not cleaning's.
    """
    text, why = _stripped(raw)
    if text is None:
        return None, why
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1].strip()
    if text.casefold().startswith("mailto:"):
        text = text[7:].split("?", 1)[0]
    text = text.strip().rstrip(".").casefold()
    if text.count("@") > 1 or any(sep in text for sep in (",", ";", " ")):
        return None, "more than one address, or spaces, in one field"
    if not _EMAIL.fullmatch(text) or len(text.rsplit(".", 1)[1]) < 2:  # no one-letter TLD
        return None, "not an e-mail address"
    return text, None


_ACCOUNT_FILLER = str.maketrans("", "", " \t\u00a0-./")
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?[eE]\+?\d+")


def clean_account(raw: str | int | None) -> tuple[str | None, str | None]:
    """Account number or IBAN, upper-case, without spaces, dashes, dots or slashes.

    A value that looks like an IBAN but fails its length or check digits is **kept** (cleaned)
    with a reason: the same mistyped IBAN may appear in another agency's records and still link
    the two, and the analyst must see that it is doubtful. So this is the one function whose
    reason can come with a value.
    """
    if raw is None:
        return None, "empty"
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None, "not text or a whole number"
    text = raw.strip()
    if _SCIENTIFIC.fullmatch(text):
        return None, "a spreadsheet turned this number into scientific notation; digits are lost"
    cleaned = text.translate(_ACCOUNT_FILLER).upper()
    if cleaned.startswith("IBAN") and looks_like_iban(cleaned[4:]):
        cleaned = cleaned[4:]
    if not cleaned:
        return None, "empty"
    if looks_like_iban(cleaned):
        return cleaned, check_iban(cleaned)
    return cleaned, None
