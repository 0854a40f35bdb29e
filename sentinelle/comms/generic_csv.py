"""A documented CSV for anything else: a platform's call-detail records, a provider's
disclosure, a table typed from a report. UTF-8, comma-separated, a header row, RFC 4180
quoting; column names are matched without regard to case; other columns are kept in the
raw record only.

A time with an offset (``2024-03-01T21:05:00+01:00``) or ``Z`` stands alone; a time
without one is read in the zone given with ``--tz``, and refused without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sentinelle.comms.clock import parse_iso
from sentinelle.comms.sources import Importer, Options, Record, delimited_rows, register
from sentinelle.comms.table import KINDS, Communication, Identifier, Problem
from sentinelle.errors import InputRefused

# (column, required, meaning): docs/comms.md lists them, and a test keeps it so.
COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("timestamp", True, "ISO 8601 date-time; with an offset or Z, or local with --tz."),
    ("sender", True, "Handle of who sent the message or placed the call (a phone number in "
                     "E.164 links it to payments)."),
    ("kind", True, "message, voice_call, video_call, payment_message or system."),
    ("platform", False, "The service (whatsapp, signal, operator ...); else --platform."),
    ("conversation", False, "The chat or thread; empty: the sender and recipients."),
    ("recipients", False, "Handles of the other participants, separated by semicolons."),
    ("duration_seconds", False, "A call's duration in whole seconds."),
    ("call_outcome", False, "What the source says of a call (answered, missed ...)."),
    ("text", False, "The message text."),
    ("attachments", False, "Names of attached files, separated by semicolons."),
    ("sender_name", False, "The sender's display name."),
    ("sender_phone", False, "A phone number the source ties to the sender's handle."),
    ("sender_email", False, "An e-mail address the source ties to the sender's handle."),
)
_REQUIRED = [c for c, required, _ in COLUMNS if required]


def read(path: Path, options: Options) -> Iterator[Record]:
    clock = IMPORTER.clock(options)
    checked = False
    declared: set[tuple[str, str, str]] = set()
    for line, row, raw in delimited_rows(path, ","):
        lowered = {k.lower(): (v or "").strip() for k, v in row.items()
                   if not k.startswith("\x00")}
        if not checked:
            _check_header(path, list(lowered), options)
            checked = True
        if "\x00width" in row:
            yield Problem(row["\x00width"], None, None, raw, line)
            continue
        missing = [c for c in _REQUIRED if not lowered.get(c)]
        if missing:
            yield Problem("required value missing", missing[0], None, raw, line)
            continue
        kind = lowered["kind"].lower()
        if kind not in KINDS:
            yield Problem("not a kind (" + ", ".join(KINDS) + ")", "kind", lowered["kind"],
                          raw, line)
            continue
        utc, zone, note = parse_iso(lowered["timestamp"], clock)
        if utc is None:
            yield Problem(note or "not a date", "timestamp", lowered["timestamp"], raw, line)
            continue
        duration = lowered.get("duration_seconds", "")
        if duration and not duration.isdigit():
            yield Problem("not a whole number of seconds", "duration_seconds", duration, raw,
                          line)
            continue
        platform = (lowered.get("platform") or options.platform or "").lower()
        sender = lowered["sender"]
        recipients = _split(lowered.get("recipients", ""))
        for key in ("phone", "email"):
            value = lowered.get(f"sender_{key}")
            if value and (sender, key, value) not in declared:
                declared.add((sender, key, value))
                yield Identifier(platform, sender, key, value, f"the CSV's sender_{key} column")
        yield Communication(
            utc, lowered["timestamp"], zone, platform,
            lowered.get("conversation") or "; ".join(sorted({sender, *recipients})),
            sender, kind, raw, sender_name=lowered.get("sender_name") or None,
            recipients=recipients, duration_s=int(duration) if duration else None,
            call_outcome=lowered.get("call_outcome") or None,
            text=lowered.get("text") or None, attachments=_split(lowered.get("attachments", "")),
            source_line=line, time_note=note)


def _check_header(path: Path, header: list[str], options: Options) -> None:
    problems = [f"missing required column: {c}" for c in _REQUIRED if c not in header]
    if "platform" not in header and not options.platform:
        problems.append("no platform column and no --platform")
    if problems:
        raise InputRefused("the header does not fit the generic communications CSV",
                           file=str(path), line=1, details=problems,
                           fix="see docs/comms.md for the columns; required: "
                               + ", ".join(_REQUIRED))


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


IMPORTER = register(Importer(
    "csv", "generic communications CSV (documented columns)", (".csv",),
    "when the file has no offset", read))
