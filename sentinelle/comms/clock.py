"""Device-local times to UTC, with the time zone the user states (never a guess).

A phone writes chat exports and call logs in its own wall-clock time, with no offset. The
user says which zone that was (``--tz Europe/Paris``); the IANA rules (zoneinfo) give the
offset on each date, daylight saving included. Two wall-clock readings need a judgement:

- **a gap** (clocks go forward: 02:30 on the last Sunday of March does not exist in Paris).
  No correctly set phone shows such a time, so the record is quarantined with the reason:
  the stated zone is probably wrong;
- **a fold** (clocks go back: 02:30 happens twice in late October). Exports list records
  in the order they happened, so the earlier reading is taken unless that would put the
  record before the one above it; either way ``time_note`` says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sentinelle.errors import InputRefused

TZ_FIX = ("state the zone the device was set to, as an IANA name: --tz Europe/Paris, "
          "--tz Asia/Manila, --tz UTC")


def zone(name: str | None, fmt: str) -> ZoneInfo:
    """The zone named, or a refusal saying why one is needed."""
    if not name:
        raise InputRefused(f"the {fmt} format holds device-local times; Sentinelle needs the "
                           "device's time zone to put them in UTC, and will not guess it",
                           fix=TZ_FIX)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputRefused("unknown time zone", value=name, fix=TZ_FIX) from exc


class LocalClock:
    """Reads one file's wall-clock times in one zone, in the order of the file."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.name = str(tz.key)
        self._last: datetime | None = None

    def to_utc(self, local: datetime) -> tuple[datetime | None, str | None]:
        """``(naive UTC, note)``, or ``(None, reason)`` for a time that does not exist."""
        early = local.replace(tzinfo=self.tz, fold=0)
        late = local.replace(tzinfo=self.tz, fold=1)
        utc_early = early.astimezone(UTC).replace(tzinfo=None)
        back = early.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None)
        if back != local:
            return None, (f"{local:%Y-%m-%d %H:%M:%S} does not exist in {self.name} (clocks "
                          "went forward); the device was probably set to another zone")
        note = None
        chosen = utc_early
        if early.utcoffset() != late.utcoffset():
            utc_late = late.astimezone(UTC).replace(tzinfo=None)
            if self._last is not None and utc_early < self._last <= utc_late:
                chosen = utc_late
                note = (f"{local:%Y-%m-%d %H:%M:%S} occurred twice in {self.name} (clocks went "
                        "back); took the second occurrence, as the record above is later than "
                        "the first")
            else:
                note = (f"{local:%Y-%m-%d %H:%M:%S} occurred twice in {self.name} (clocks went "
                        "back); took the first occurrence, from the order of the file")
        self._last = chosen
        return chosen, note


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def parse_iso(text: str, clock: LocalClock | None) -> tuple[datetime | None, str, str | None]:
    """An ISO 8601 time: with an offset (or ``Z``) it stands alone; without one it is read
    in the stated zone. Returns ``(naive UTC, zone used, note or reason)``; the UTC time is
    None when the text is not a time or the local time does not exist."""
    cleaned = text.strip()
    try:
        parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00")
                                        if cleaned.endswith("Z") else cleaned)
    except ValueError:
        return None, "", "not an ISO 8601 date-time (YYYY-MM-DD HH:MM:SS, with an offset or not)"
    if parsed.tzinfo is not None:
        offset = parsed.strftime("%z")
        name = "UTC" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
        return parsed.astimezone(UTC).replace(tzinfo=None), name, None
    if clock is None:
        return None, "", ("a time without an offset and no --tz to read it in: the zone "
                          "cannot be guessed")
    utc, note = clock.to_utc(parsed)
    return utc, clock.name, note
