"""Phone numbers to E.164 (``+639171234567``), the one form that matches across sources.

Why: a remittance export writes the receiver's mobile ``0917 123 4567``, a referral
``+63 917 123 4567``, a seized phone's contact list ``0063917…`` or ``639171234567``. The
numbering plans are Google's libphonenumber metadata (the ``phonenumbers`` package), which the
field already trusts; nothing here re-implements them.

Rules:

- ``region`` (ISO 3166-1 alpha-2, e.g. the sender's or the provider's country) is the default
  for numbers written in national form; numbers written internationally ignore it.
- ``00`` before a country code means international whatever the region (the ITU prefix most of
  the world uses; North American ``011`` is understood when the region is US or CA).
- A number is accepted only when libphonenumber says it is *valid* (right length and an
  allocated range), not merely possible: a wrong number linking two people is worse than none.
- Spreadsheets often turn numbers into floats (``639171234567.0``): whole floats and ints are
  accepted; anything else that is not text gets a reason.

Never raises: ``(None, reason)`` says why a value could not be cleaned; the caller keeps the raw
value beside it.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException

__all__ = ["to_e164"]

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}
# Characters people put in phone fields that carry no digits. Full-width digits and "+" are
# folded by phonenumbers itself.
_FILLER = str.maketrans("", "", " \t\u00a0-./()[]")


def _as_text(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer() and raw > 0:
        return str(int(raw))
    return None


def to_e164(raw: str | int | float | None, region: str | None) -> tuple[str | None, str | None]:
    """``(E.164 number, None)`` or ``(None, reason)``. Never raises.

    >>> to_e164("0917 123 4567", "PH")
    ('+639171234567', None)
    """
    if raw is None:
        return None, "empty"
    text = _as_text(raw)
    if text is None:
        return None, "not text or a whole number"
    if isinstance(region, str):
        region = region.strip().upper() or None
    elif region is not None:
        region = None
    return _to_e164(text.strip(), region)


@lru_cache(maxsize=65536)
def _to_e164(text: str, region: str | None) -> tuple[str | None, str | None]:
    # Cached because a file repeats the same few numbers many times; the key is small.
    if not text:
        return None, "empty"
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        return None, f"unknown region {region!r} (expected a two-letter country code)"
    compact = text.translate(_FILLER)
    if compact.startswith("00") and not compact.startswith("000"):
        text = "+" + compact[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        international = text.lstrip().startswith(("+", "\uff0b"))  # "＋" full-width plus
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE and not international:
            return None, "national number with no region to read it in"
        return None, _PARSE_REASONS.get(error.error_type, "not a phone number")
    if not phonenumbers.is_valid_number(number):
        code = number.country_code or 0
        where = phonenumbers.region_code_for_country_code(code)
        if where in ("ZZ", "001"):
            return None, f"not a valid phone number for country code +{code}"
        return None, f"not a valid phone number for {where}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
