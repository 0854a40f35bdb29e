"""Write a date or date-time read from another layout as a canonical timestamp.

The canonical layout wants ISO 8601 with an offset, and detection reads the payer's local
hour from it (docs/detection.md: night payments). Exports and ISO 20022 messages often
give a local time without an offset, or only a date. The conventions, said once here:

- a date-time with an offset is kept as it is; one in UTC (``Z`` or ``+00:00``) is
  written with ``Z``, which detection reads as "the payer's offset is unknown";
- a date-time without an offset is the payer's wall-clock time: it is placed in ``zone``
  (the mapping's time zone, else the zone of the sender's country), whose offset, daylight
  saving included, is written; with no zone known it is written with ``+00:00``, which
  still gives detection the hour as written (an offset, unlike ``Z``, is read as the
  payer's own);
- a date alone becomes **12:00** (noon) on that day in the same zone, so a booking date
  never reads as a payment made at midnight, which the night indicators would count.
  The row's ``extra`` says ``"timestamp_precision": "day"``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sentinelle.normalise.codes import clean_country
from sentinelle.normalise.zones import country_zone

NOON = time(12, 0)


def zone_for(name: str | None, country: str | None) -> ZoneInfo | None:
    """The named zone, else the zone of a country (a code or a name, cleaned as the
    warehouse cleans it), else None."""
    code = clean_country(country)[0] if country else None
    for candidate in (name, country_zone(code) if code else None):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return None


def canonical_timestamp(value: date | datetime, zone: ZoneInfo | None) -> tuple[str, bool]:
    """ISO 8601 text with an offset, and whether only the day was known."""
    day_only = not isinstance(value, datetime)
    if day_only:
        value = datetime.combine(value, NOON)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone or UTC).isoformat(), day_only
    if value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None).isoformat() + "Z", day_only
    return value.isoformat(), day_only


def parse_iso(text: str) -> date | datetime | None:
    """An ISO 8601 date or date-time (``Z`` and fractions accepted), else None."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None
