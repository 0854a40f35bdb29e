"""WhatsApp chat exports (``.txt``), as Android and iOS write them in the common locales.

A record starts with a line holding the date and time, then ``Sender: text``; lines that
do not start that way continue the message above (multi-line messages). Styles read:

- Android ``31/12/2023, 21:05 - Name: text``, ``12/31/23, 9:05 PM - Name: text``,
  ``31.12.23, 21:05 - ``, ``2023-12-31 21:05 - `` (day-first, month-first, year-first;
  12- and 24-hour; with or without seconds; ``/``, ``.`` or ``-`` between the parts);
- iOS ``[31/12/2023, 21:05:09] Name: text`` and ``[12/31/23, 9:05:09 PM] Name: text``.

Times are the phone's wall clock: ``--tz`` is required. Whether ``03/04`` is the 3rd of
April or March the 4th is decided from the whole file (a first part above 12 means
day-first); when every date in the file could be read both ways the file is refused until
the user says ``--day-first`` or ``--month-first``: never a silent guess.

Lines without ``Sender:`` are system messages (group changes, the encryption notice).
``<Media omitted>``, ``<attached: NAME>``, ``NAME (file attached)`` and ``image omitted``
become attachments; ``Missed voice call``, ``Voice call, 12 min`` and the like become
calls (the wording of English-language exports; other languages stay messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sentinelle.comms.clock import LocalClock
from sentinelle.comms.sources import Importer, Options, Record, register, text_lines
from sentinelle.comms.table import Communication, Problem
from sentinelle.errors import InputRefused

# Invisible marks iOS puts before system text and attachments.
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069\ufeff"
_UNMARK = str.maketrans("", "", _MARKS)
HEADER = re.compile(
    r"^(?P<open>\[)?(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4}),?[ \u202f]"
    r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:[ \u202f\u00a0]?(?P<ampm>[AaPp]\.?[ \u202f\u00a0]?[Mm]\.?))?"
    r"(?(open)\][ \u202f]|[ \u202f\u00a0][-\u2013][ \u202f\u00a0])(?P<rest>.*)$")
_SENDER = re.compile(r"^(?P<who>[^:]{1,80}?): (?P<text>.*)$", re.S)
_NOTICES = ("end-to-end encrypted", "security code changed", "secured with end-to-end")
_OMITTED = re.compile(r"^<[^<>]{2,40}>$")  # <Media omitted>, <Médias omis>, ...
_IOS_OMITTED = re.compile(r"^(image|video|audio|sticker|GIF|document|Contact card) omitted$",
                          re.I)
_ATTACHED = re.compile(r"<attached: (?P<name>[^>]+)>")
_FILE_ATTACHED = re.compile(r"^(?P<name>\S.*?) \(file attached\)$", re.S)
_CALL = re.compile(r"^(?P<missed>Missed |Silenced )?(?P<kind>voice|video) call"
                   r"(?:[,.] ?(?P<rest>.*))?$", re.I)
_DURATION = re.compile(r"(\d+)\s*(h|hr|hrs|hour|hours|min|mins|minutes|s|sec|secs|seconds)\b",
                       re.I)


@dataclass
class _Style:
    year_first: bool
    day_first: bool


def read(path: Path, options: Options) -> Iterator[Record]:
    clock = IMPORTER.clock(options)
    assert clock is not None
    style, senders = _survey(path, options)
    pending: tuple[int, re.Match[str], list[str]] | None = None
    for number, line in text_lines(path):
        match = HEADER.match(line.lstrip(_MARKS))
        if match:
            if pending:
                yield _record(path, *pending, style, clock, senders)
            pending = (number, match, [line])
        elif pending:
            pending[2].append(line)
    if pending:
        yield _record(path, *pending, style, clock, senders)


def _survey(path: Path, options: Options) -> tuple[_Style, list[str]]:
    """One pass over the headers: is it a WhatsApp export, which order are its dates in,
    who speaks in it (the recipients of each message are the others)."""
    first_over_12 = second_over_12 = None
    year_first = None
    senders: dict[str, None] = {}
    seen_header = False
    for number, line in text_lines(path):
        match = HEADER.match(line.lstrip(_MARKS))
        if not match:
            if not seen_header and line.strip():
                raise InputRefused(
                    "this is not a WhatsApp chat export: the first line does not start with "
                    "a date and time", file=str(path), line=number, value=line[:80],
                    fix="check --format; a WhatsApp export starts like "
                        "'31/12/2023, 21:05 - Name: text' or '[31/12/2023, 21:05:09] Name: text'")
            continue
        seen_header = True
        a, b = int(match["a"]), int(match["b"])
        if year_first is None:
            year_first = len(match["a"]) == 4
        if not year_first:
            if a > 12 and first_over_12 is None:
                first_over_12 = number
            if b > 12 and second_over_12 is None:
                second_over_12 = number
        sent = _SENDER.match(match["rest"])
        if sent and not _is_notice(sent["text"]):
            senders.setdefault(_clean_sender(sent["who"]), None)
    if not seen_header:
        raise InputRefused("the file holds no WhatsApp messages", file=str(path),
                           fix="check --format and that the export is complete")
    return _Style(bool(year_first), _order(path, options, first_over_12, second_over_12,
                                           bool(year_first))), list(senders)


def _order(path: Path, options: Options, first: int | None, second: int | None,
           year_first: bool) -> bool:
    if year_first:
        return False
    if first and second:
        raise InputRefused(
            "the dates are in no single order: line "
            f"{first} has a first part above 12 (day-first) and line {second} a second part "
            "above 12 (month-first)", file=str(path), line=second,
            fix="the file mixes two exports or was edited; split it and import each part")
    implied = True if first else False if second else None
    if options.day_first is not None:
        if implied is not None and implied != options.day_first:
            said = "--day-first" if options.day_first else "--month-first"
            raise InputRefused(
                f"{said} contradicts the file: line {first or second} can only be read "
                f"{'day-first' if implied else 'month-first'}", file=str(path),
                line=first or second, fix="drop the option, or give the other one")
        return options.day_first
    if implied is None:
        raise InputRefused(
            "the dates are ambiguous: every day and month in the file is 12 or less, so "
            "03/04 could be the 3rd of April or March the 4th", file=str(path),
            fix="say how the phone wrote dates: --day-first (most of the world) or "
                "--month-first (United States, Philippines)")
    return implied


def _record(path: Path, number: int, match: re.Match[str], lines: list[str], style: _Style,
            clock: LocalClock, senders: list[str]) -> Record:
    raw = "\n".join(lines)
    stamp = lines[0].lstrip(_MARKS)[: match.start("rest")].strip(" -\u2013\u202f\u00a0")
    rest = "\n".join([match["rest"], *lines[1:]])
    local, problem = _local_time(match, style)
    if local is None:
        return Problem(problem or "not a date", "timestamp", stamp, raw, number)
    utc, note = clock.to_utc(local)
    if utc is None:
        return Problem(note or "time does not exist", "timestamp", stamp, raw, number)
    sent = _SENDER.match(rest)
    conversation = path.stem
    if not sent or _is_notice(sent["text"]):
        return Communication(utc, stamp, clock.name, "whatsapp", conversation, "", "system",
                             raw, text=_unmarked(rest), source_line=number, time_note=note)
    who = _clean_sender(sent["who"])
    text = _unmarked(sent["text"])
    record = Communication(utc, stamp, clock.name, "whatsapp", conversation, who, "message",
                           raw, sender_name=who, recipients=[s for s in senders if s != who],
                           text=text, source_line=number, time_note=note)
    _classify(record, text)
    return record


def _local_time(match: re.Match[str], style: _Style) -> tuple[datetime | None, str | None]:
    a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
    if style.year_first:
        year, month, day = a, b, c
    else:
        day, month = (a, b) if style.day_first else (b, a)
        year = c + 2000 if len(match["c"]) == 2 else c
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if match["ampm"]:
        pm = match["ampm"][0] in "Pp"
        if not 1 <= hour <= 12:
            return None, f"hour {hour} with AM/PM"
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(year, month, day, hour, minute, second), None
    except ValueError as exc:
        return None, f"not a valid date or time ({exc})"


def _classify(record: Communication, text: str) -> None:
    if _OMITTED.match(text) or _IOS_OMITTED.match(text):
        record.attachments = [text]
        record.text = None
        return
    attached = _ATTACHED.findall(text)
    if attached:
        record.attachments = attached
        record.text = _ATTACHED.sub("", text).strip(_MARKS + " ") or None
        return
    as_file = _FILE_ATTACHED.match(text)
    if as_file:
        record.attachments = [as_file["name"]]
        record.text = None
        return
    call = _CALL.match(text.strip(_MARKS))
    if call:
        record.kind = "video_call" if call["kind"].lower() == "video" else "voice_call"
        rest = (call["rest"] or "").strip(_MARKS + " ")
        if call["missed"] or "no answer" in rest.lower():
            record.duration_s = 0
            record.call_outcome = "missed" if call["missed"] else "no answer"
        else:
            record.duration_s = _seconds(rest)
            record.call_outcome = "answered" if record.duration_s else None


def _seconds(text: str) -> int | None:
    total, found = 0, False
    for number, unit in _DURATION.findall(text.replace(_MARKS[0], "")):
        found = True
        unit = unit.lower()
        total += int(number) * (3600 if unit.startswith("h") else
                                60 if unit.startswith("min") else 1)
    return total if found else None


def _unmarked(text: str) -> str:
    """The text without the invisible direction marks iOS scatters in it (kept in raw)."""
    return text.translate(_UNMARK).strip()


def _is_notice(text: str) -> bool:
    lowered = text.lower()
    return any(n in lowered for n in _NOTICES)


def _clean_sender(who: str) -> str:
    return who.strip(_MARKS + " ~\u202f\u00a0")


IMPORTER = register(Importer(
    "whatsapp", "WhatsApp chat export (.txt), Android and iOS, the common locales' date styles",
    (".txt",), "always", read))
