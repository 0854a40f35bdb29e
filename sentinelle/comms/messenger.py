"""Facebook Messenger, from Meta's "Download your information" (JSON): one
``message_N.json`` per thread part, with ``participants``, ``messages`` (newest first),
``title`` and ``thread_path``.

Meta writes text as UTF-8 bytes escaped one by one as Latin-1 code points (``Ã©`` for
``é``): every string is repaired with ``s.encode('latin-1').decode('utf-8')``, and kept as
it was when that fails (text that was never mis-encoded). The raw record keeps the file's
own spelling. ``timestamp_ms`` is UTC. Calls are messages with ``call_duration`` (seconds;
0 for a missed call); their text says whether it was a video call. Handles are the
display names: the export gives no other identifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentinelle.comms.clock import from_epoch
from sentinelle.comms.sources import Importer, Options, Record, json_items, register
from sentinelle.comms.table import Communication, Problem

_MEDIA_KEYS = ("photos", "videos", "audio_files", "files", "gifs")


def repair(text: str) -> str:
    """Undo Meta's Latin-1 mojibake; text that was never mis-encoded comes back as it was."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def read(path: Path, options: Options) -> Iterator[Record]:
    thread: dict[str, Any] = {}
    # The title and thread path follow the messages in the file: a first pass reads them
    # (streamed too), so every message knows its thread without holding the messages.
    for prefix, _, value in json_items(path, {"participants"}, {"title", "thread_path"}):
        thread[prefix] = value
    people = [repair(str(p.get("name", ""))) for p in thread.get("participants") or []
              if isinstance(p, dict)]
    title = repair(str(thread.get("thread_path") or thread.get("title") or path.parent.name))
    for _, pointer, msg in json_items(path, {"messages.item"}):
        yield _message(msg, pointer, title, people)


def _message(msg: Any, pointer: str, conversation: str, people: list[str]) -> Record:
    raw = json.dumps(msg, ensure_ascii=False)
    if not isinstance(msg, dict):
        return Problem("a message is not a JSON object", None, None, raw,
                       source_pointer=pointer)
    stamp = msg.get("timestamp_ms")
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        return Problem("timestamp_ms is missing or not a number", "timestamp_ms",
                       None if stamp is None else str(stamp), raw, source_pointer=pointer)
    sender = repair(str(msg.get("sender_name") or ""))
    text = repair(msg["content"]) if isinstance(msg.get("content"), str) else None
    record = Communication(
        from_epoch(stamp / 1000), str(stamp), "UTC", "messenger", conversation, sender,
        "message", raw, sender_name=sender or None,
        recipients=[p for p in people if p != sender], text=text, source_pointer=pointer)
    for key in _MEDIA_KEYS:
        for item in msg.get(key) or []:
            if isinstance(item, dict) and item.get("uri"):
                record.attachments.append(str(item["uri"]).rsplit("/", 1)[-1])
    if isinstance(msg.get("sticker"), dict):
        record.attachments.append("sticker")
    if "call_duration" in msg or msg.get("type") == "Call":
        lowered = (text or "").lower()
        record.kind = "video_call" if "video" in lowered else "voice_call"
        duration = msg.get("call_duration")
        record.duration_s = int(duration) if isinstance(duration, (int, float)) else None
        record.call_outcome = "missed" if "missed" in lowered or duration == 0 else None
    elif msg.get("type") in ("Subscribe", "Unsubscribe"):
        record.kind = "system"
    return record


IMPORTER = register(Importer(
    "messenger", "Facebook Messenger JSON from \"Download your information\" (message_N.json)",
    (".json",), "never", read))
