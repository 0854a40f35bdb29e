"""The TSV reports of the open-source mobile forensic tools iLEAPP (iOS) and ALEAPP
(Android): call logs and messages (``_TSV Exports/Call History.tsv``, ``Call Logs.tsv``,
``SMS messages.tsv``, ...).

Their columns differ between artefacts and versions, so columns are found by name from a
short list of the names those tools write (``HEADERS`` below; case is ignored). A file
with a text column is read as messages, one with a duration or call type as calls; any
other file is refused, listing the names looked for. The tools write times in UTC, or in
the zone the examiner chose: the time zone must be stated (``--tz UTC`` for the default)
unless the times carry an offset. The seized device's own number is not in the report:
``--owner`` gives it (else the handle ``device owner`` stands for it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sentinelle.comms.clock import parse_iso
from sentinelle.comms.sources import (
    Importer,
    Options,
    Record,
    delimited_rows,
    register,
)
from sentinelle.comms.table import Communication, Problem
from sentinelle.errors import InputRefused

OWNER = "device owner"
HEADERS: dict[str, tuple[str, ...]] = {
    "time": ("timestamp", "call date", "starting timestamp", "start timestamp", "start time",
             "message timestamp", "message date", "date", "date sent", "timestamp (utc)"),
    "number": ("phone number", "partner", "address", "other party", "contact", "handle",
               "number"),
    "name": ("name", "contact name", "partner name", "display name"),
    "duration": ("call duration", "duration in secs", "duration"),
    "direction": ("call direction", "direction", "type", "is from me", "from me", "message type"),
    "call_type": ("call type",),
    "answered": ("answered",),
    "text": ("message", "body", "text", "message text"),
    "attachment": ("attachment", "attachment name", "attachment path", "attachments"),
    "service": ("service",),
}
_OUTGOING = {"outgoing", "sent", "yes", "1", "true", "from me", "outbox"}
_MISSED = {"missed", "rejected", "blocked", "declined", "voicemail"}


def read(path: Path, options: Options) -> Iterator[Record]:
    clock = IMPORTER.clock(options)
    owner = options.owner or OWNER
    columns: dict[str, str] | None = None
    for line, row, raw in delimited_rows(path, "\t"):
        if columns is None:
            columns = _columns(path, [h for h in row if not h.startswith("\x00")])
        if "\x00width" in row:
            yield Problem(row["\x00width"], None, None, raw, line)
            continue
        get = {k: (row.get(h) or "").strip() for k, h in columns.items()}
        utc, zone, note = parse_iso(get["time"], clock)
        if utc is None:
            if note and "no --tz" in note:
                raise InputRefused(f"{IMPORTER.name} times here carry no offset ({get['time']!r})"
                                   "; the zone the tool wrote them in must be stated",
                                   file=str(path), line=line,
                                   fix="--tz UTC for the tools' default, or the zone the "
                                       "examiner chose")
            yield Problem(note or "not a date", columns["time"], get["time"], raw, line)
            continue
        partner = get.get("number", "") or get.get("name", "") or "unknown"
        outgoing = get.get("direction", "").lower() in _OUTGOING
        sender, recipient = (owner, partner) if outgoing else (partner, owner)
        record = Communication(utc, get["time"], zone, "phone", partner, sender, "message",
                               raw, sender_name=None if outgoing else get.get("name") or None,
                               recipients=[recipient], source_line=line, time_note=note)
        if "text" in columns:
            record.platform = (get.get("service") or "sms").lower()
            record.text = get["text"] or None
            record.attachments = [get["attachment"]] if get.get("attachment") else []
        else:
            _call(record, get)
        yield record


def _columns(path: Path, header: list[str]) -> dict[str, str]:
    lowered = {h.lower(): h for h in header}
    found = {}
    for key, names in HEADERS.items():
        for name in names:
            if name in lowered:
                found[key] = lowered[name]
                break
    if "time" not in found or not ({"text", "duration", "call_type"} & found.keys()):
        raise InputRefused(
            "this TSV is not an iLEAPP or ALEAPP call log or message report: it lacks a time "
            "column, or a message, duration or call-type column", file=str(path), line=1,
            details=[f"{k}: one of {', '.join(v)}" for k, v in HEADERS.items()
                     if k in ("time", "text", "duration", "call_type")],
            fix="check --format; for other layouts use the generic CSV (docs/comms.md)")
    return found


def _call(record: Communication, get: dict[str, str]) -> None:
    kind = get.get("call_type", "").lower()
    record.kind = "video_call" if "video" in kind else "voice_call"
    record.platform = "phone" if kind in ("", "phone") else kind
    direction = get.get("direction", "").lower()
    record.call_outcome = direction or None
    record.duration_s = _seconds(get.get("duration", ""))
    if direction in _MISSED or get.get("answered", "").lower() == "no":
        record.duration_s = 0
        record.call_outcome = direction if direction in _MISSED else "not answered"


def _seconds(text: str) -> int | None:
    """``754``, ``754.0`` or ``00:12:34`` as seconds."""
    text = text.strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        if all(p.isdigit() for p in parts) and len(parts) <= 3:
            total = 0
            for p in parts:
                total = total * 60 + int(p)
            return total
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


IMPORTER = register(Importer(
    "leapp", "iLEAPP / ALEAPP TSV call logs and messages", (".tsv",),
    "when the file has no offset", read))
