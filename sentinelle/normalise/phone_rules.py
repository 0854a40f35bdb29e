"""libphonenumber's numbering plans as data, for cleaning phones in SQL over many rows.

``to_e164`` parses one number at a time in Python (about 25,000 a second a core); a file with
a million distinct numbers would spend most of its ingest there. Most numbers are plain:
``+63 917 123 4567``, ``0917 123 4567`` with the party's country. For those, validity is a
full match of the national number against the plan's patterns, which SQL can do for millions
of rows at once. These rules are taken from the installed ``phonenumbers`` metadata — the
same plans ``to_e164`` uses — and they say *when not to decide*: anything that depends on
libphonenumber's finer logic (prefix transform rules, a number that is valid both with and
without its national prefix) is left to ``to_e164``. A test checks that wherever the SQL
decides, it agrees with ``to_e164``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata

# Every number type libphonenumber knows; a number is valid when it matches one of them.
_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
          "personal_number", "voip", "pager", "uan", "voicemail")


@dataclass(frozen=True)
class RegionRule:
    region: str
    calling_code: str
    valid: str  # pattern a national significant number must fully match
    prefix_parse: str | None  # national_prefix_for_parsing, matched at the start
    national_prefix: str | None
    transforms: bool  # has a prefix transform rule: leave to to_e164


def _valid_pattern(md: PhoneMetadata) -> str | None:
    parts = []
    for name in _TYPES:
        desc = getattr(md, name, None)
        pattern = getattr(desc, "national_number_pattern", None) if desc else None
        if pattern:
            parts.append(f"(?:{pattern})")
    return "|".join(parts) or None


@cache
def region_rules() -> dict[str, RegionRule]:
    """Rules for every region libphonenumber supports, by ISO 3166-1 alpha-2 code."""
    rules = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        md = PhoneMetadata.metadata_for_region(region)
        valid = _valid_pattern(md) if md else None
        if md is None or valid is None:
            continue
        rules[region] = RegionRule(
            region=region,
            calling_code=str(md.country_code),
            valid=valid,
            prefix_parse=md.national_prefix_for_parsing or md.national_prefix,
            national_prefix=md.national_prefix,
            transforms=md.national_prefix_transform_rule is not None,
        )
    return rules


@cache
def main_region(calling_code: str) -> str | None:
    """The region libphonenumber reads a calling code's numbers with (``1`` → ``US``)."""
    region = phonenumbers.region_code_for_country_code(int(calling_code))
    return region if region in region_rules() else None


@cache
def calling_codes() -> dict[str, list[str]]:
    """Calling code → the regions that share it."""
    codes: dict[str, list[str]] = {}
    for rule in region_rules().values():
        codes.setdefault(rule.calling_code, []).append(rule.region)
    return codes
