"""Skype's data export (``messages.json``): ``userId``, ``exportDate`` and
``conversations``, each with ``id``, ``displayName`` and its ``MessageList``.

``originalarrivaltime`` is UTC (``2023-05-04T18:10:00.123Z``). Calls are ``Event/Call``
messages whose ``content`` is a small XML part list: ``<partlist type="started">`` when a
call begins, ``<partlist type="ended">`` with each participant's ``<duration>`` (seconds)
when it ends. The ended event becomes the call (start = its time minus the duration, said
in ``time_note``); the started event is kept as a system record. Skype does not say whether
video was on: its calls are recorded as voice calls. Handles are Skype ids without their
type prefix (``8:live:alex`` → ``live:alex``; ``4:+33…``, a phone number, → ``+33…``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sentinelle.comms.clock import parse_iso
from sentinelle.comms.sources import Importer, Options, Record, json_items, register
from sentinelle.comms.table import Communication, Problem

_TYPE_PREFIX = re.compile(r"^\d+:")
_TAGS = re.compile(r"<[^>]+>")


def handle(skype_id: str) -> str:
    return _TYPE_PREFIX.sub("", skype_id.strip())


def read(path: Path, options: Options) -> Iterator[Record]:
    owner = handle(options.owner) if options.owner else None
    conversation: dict[str, Any] = {}
    for prefix, pointer, value in json_items(
            path, {"conversations.item.MessageList.item"},
            {"userId", "conversations.item.id", "conversations.item.displayName"}):
        if prefix == "userId":
            owner = owner or handle(str(value))
        elif prefix == "conversations.item.id":
            conversation = {"id": str(value)}
        elif prefix == "conversations.item.displayName":
            conversation["name"] = value
        else:
            yield _message(value, pointer, conversation, owner)


def _message(msg: Any, pointer: str, conv: dict[str, Any], owner: str | None) -> Record:
    raw = json.dumps(msg, ensure_ascii=False)
    if not isinstance(msg, dict):
        return Problem("a message is not a JSON object", None, None, raw,
                       source_pointer=pointer)
    shown = str(msg.get("originalarrivaltime") or "")
    utc, zone, note = parse_iso(shown, None)
    if utc is None:
        return Problem(note or "not a date", "originalarrivaltime", shown or None, raw,
                       source_pointer=pointer)
    sender = handle(str(msg.get("from") or ""))
    conv_id = conv.get("id", "")
    peer = handle(conv_id) if conv_id.startswith(("8:", "4:")) else None
    recipients = [h for h in (peer, owner) if h and h != sender][:1] if peer else []
    name = conv.get("name") or conv_id
    content = msg.get("content") if isinstance(msg.get("content"), str) else None
    record = Communication(utc, shown, zone, "skype", str(name), sender, "message", raw,
                           sender_name=msg.get("displayName") or None, recipients=recipients,
                           text=content, source_pointer=pointer)
    kind = str(msg.get("messagetype") or "")
    if kind == "Event/Call":
        return _call(record, content or "", raw, pointer)
    if kind.startswith("RichText/") and content:
        names = re.findall(r'(?:originalName|OriginalName)\s+v="([^"]+)"', content)
        record.attachments = names or [kind.split("/", 1)[1]]
        record.text = _TAGS.sub("", content).strip() or None
    elif kind.startswith(("ThreadActivity/", "Event/")):
        record.kind = "system"
    return record


def _call(record: Communication, content: str, raw: str, pointer: str) -> Record:
    if "<!" in content:  # no DTDs or entities: the part list never needs them
        return Problem("the call event holds a DTD or an entity", "content", content[:80],
                       raw, source_pointer=pointer)
    try:
        parts = ET.fromstring(content)
    except ET.ParseError as exc:
        return Problem(f"the call event is not a part list ({exc})", "content",
                       content[:80], raw, source_pointer=pointer)
    state = parts.get("type") or ""
    durations = [int(d.text or 0) for d in parts.iter("duration") if (d.text or "").isdigit()]
    record.text = None
    if state != "ended":
        record.kind = "system"
        record.text = f"call {state}".strip()
        return record
    record.kind = "voice_call"
    record.duration_s = max(durations) if durations else 0
    record.call_outcome = "ended" if durations else "missed"
    if record.duration_s:
        record.timestamp -= timedelta(seconds=record.duration_s)
        record.time_note = ("start of the call: the time of its 'ended' event minus its "
                            f"duration ({record.duration_s} s)")
    return record


IMPORTER = register(Importer(
    "skype", "Skype data export (messages.json)", (".json",), "never", read))
