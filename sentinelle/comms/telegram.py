"""Telegram Desktop JSON exports (``result.json``): one chat, or the whole account.

- A single-chat export is one object: ``name``, ``type``, ``id``, ``messages``.
- A full-account export holds ``personal_information`` (the account's own number),
  ``contacts.list`` (numbers of contacts, by user id) and ``chats.list`` (and
  ``left_chats.list``), each chat with its ``messages``.

``date_unixtime`` (seconds since 1970, UTC) is the truth; ``date`` is the exporting
computer's wall clock and is read, with ``--tz``, only when ``date_unixtime`` is absent
(older exports). ``text`` is a string or a list of strings and entities; their texts are
joined. Calls are ``service`` messages whose ``action`` is ``phone_call``, with
``duration_seconds`` and ``discard_reason`` (missed, busy, hangup, disconnect); they are
voice calls unless the message says it was a video call (recent exports: ``is_video``).
``send_payment`` actions are payment messages. Handles are Telegram's ``from_id``
(``user123456``), stable across renames; display names are kept beside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentinelle.comms.clock import LocalClock, from_epoch, parse_iso
from sentinelle.comms.sources import Importer, Options, Record, json_items, register
from sentinelle.comms.table import Communication, Identifier, Problem

_CHATS = ("", "chats.list.item.", "left_chats.list.item.")
_ITEMS = {p + "messages.item" for p in _CHATS} | {"personal_information",
                                                     "contacts.list.item"}
_SCALARS = {p + k for p in _CHATS for k in ("name", "type", "id")}
_ATTACHMENT_KEYS = ("photo", "file", "sticker_emoji")


def read(path: Path, options: Options) -> Iterator[Record]:
    clock = IMPORTER.clock(options)
    owner = options.owner
    chat: dict[str, Any] = {}
    speakers: list[str] = []
    for prefix, pointer, value in json_items(path, _ITEMS, _SCALARS):
        if prefix == "personal_information":
            if isinstance(value, dict) and value.get("user_id"):
                owner = f"user{value['user_id']}"
                if value.get("phone_number"):
                    yield Identifier("telegram", owner, "phone", str(value["phone_number"]),
                                     "the account's own number")
        elif prefix == "contacts.list.item":
            if isinstance(value, dict) and value.get("user_id") and value.get("phone_number"):
                yield Identifier("telegram", f"user{value['user_id']}", "phone",
                                 str(value["phone_number"]), "the account's contact list")
        elif prefix.endswith("messages.item"):
            if not isinstance(value, dict):
                yield Problem("a message is not a JSON object", None, None, json.dumps(value),
                              source_pointer=pointer)
                continue
            yield _message(value, pointer, chat, owner, speakers, clock)
        else:
            key = prefix.rsplit(".", 1)[-1]
            if key in chat:  # a key seen twice: the next chat has started
                chat, speakers = {}, []
            chat[key] = value


def _message(msg: dict[str, Any], pointer: str, chat: dict[str, Any], owner: str | None,
             speakers: list[str], clock: LocalClock | None) -> Record:
    raw = json.dumps(msg, ensure_ascii=False)
    if "date_unixtime" in msg:
        try:
            utc, zone, note, shown = (from_epoch(float(msg["date_unixtime"])), "UTC", None,
                                      str(msg["date_unixtime"]))
        except (TypeError, ValueError):
            return Problem("date_unixtime is not a number of seconds", "date_unixtime",
                           str(msg["date_unixtime"]), raw, source_pointer=pointer)
    elif isinstance(msg.get("date"), str):
        shown = msg["date"]
        parsed, zone, note = parse_iso(shown, clock)
        if parsed is None:
            return Problem(note or "not a date", "date", shown, raw, source_pointer=pointer)
        utc = parsed
    else:
        return Problem("the message has neither date_unixtime nor date", "date_unixtime",
                       None, raw, source_pointer=pointer)
    is_service = msg.get("type") == "service"
    sender = str(msg.get("actor_id") if is_service else msg.get("from_id") or "")
    name = msg.get("actor") if is_service else msg.get("from")
    if sender and sender not in speakers:
        speakers.append(sender)
    record = Communication(
        utc, shown, zone, "telegram", _conversation(chat), sender, "message", raw,
        sender_name=name if isinstance(name, str) else None,
        recipients=_recipients(sender, chat, owner, speakers), text=_text(msg.get("text")),
        source_pointer=pointer, time_note=note)
    record.attachments = [str(msg[k]) for k in _ATTACHMENT_KEYS if isinstance(msg.get(k), str)]
    if is_service:
        _service(record, msg)
    return record


def _service(record: Communication, msg: dict[str, Any]) -> None:
    action = str(msg.get("action") or "")
    if action == "phone_call":
        record.kind = "video_call" if msg.get("is_video") or msg.get("video") else "voice_call"
        duration = msg.get("duration_seconds")
        reason = msg.get("discard_reason")
        record.call_outcome = str(reason) if reason else None
        if isinstance(duration, (int, float)):
            record.duration_s = int(duration)
        elif reason in ("missed", "busy"):
            record.duration_s = 0
    elif action == "send_payment":
        record.kind = "payment_message"
        record.text = " ".join(str(msg[k]) for k in ("amount", "currency") if k in msg) or None
    else:
        record.kind = "system"
        record.text = " ".join(x for x in (action, record.text) if x) or None


def _conversation(chat: dict[str, Any]) -> str:
    name, ident = chat.get("name"), chat.get("id")
    if name and ident is not None:
        return f"{name} [{ident}]"
    return str(name or (f"chat {ident}" if ident is not None else "chat"))


def _recipients(sender: str, chat: dict[str, Any], owner: str | None,
                speakers: list[str]) -> list[str]:
    """In a personal chat, the other person: the chat's id is the peer's user id; the
    other end is the account's owner (known in a full export, or from --owner) or, failing
    that, whoever else has spoken in the chat so far. Group members are not listed."""
    if chat.get("type") != "personal_chat" or chat.get("id") is None:
        return []
    peer = f"user{chat['id']}"
    if sender != peer:
        return [peer]
    if owner:
        return [owner]
    return [s for s in speakers if s != peer][:1]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, list):
        parts = [p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict)
                 else "" for p in value]
        return "".join(parts) or None
    return None


IMPORTER = register(Importer(
    "telegram", "Telegram Desktop JSON export (result.json), one chat or the whole account",
    (".json",), "when the file has no offset", read))
