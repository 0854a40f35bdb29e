"""The canonical communications table, declared once: every importer fills these columns.

One row is one message, call or event as the export recorded it. The UTC time is the
axis every later step uses (the timeline, pairing with payments); the time as the export
wrote it and the zone used to read it are kept beside it, with the raw text of the record,
so an analyst or a court can check every conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sentinelle.warehouse import Warehouse

KINDS = ("message", "voice_call", "video_call", "payment_message", "system")
CALL_KINDS = ("voice_call", "video_call")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("comm_id", "VARCHAR", "Row id: the file's number, a dash, the record's rank in the "
           "file (`12-345`)."),
    Column("timestamp", "TIMESTAMP", "When it happened, in UTC (a call: when it started)."),
    Column("timestamp_raw", "VARCHAR", "The time exactly as the export wrote it."),
    Column("time_zone", "VARCHAR", "How `timestamp_raw` was read: the zone stated with `--tz` "
           "for local times, `UTC` for epoch or UTC times, the offset when the export wrote one."),
    Column("time_note", "VARCHAR", "Why a time needed a judgement (a local time that occurred "
           "twice when clocks went back), else empty."),
    Column("platform", "VARCHAR", "whatsapp, telegram, messenger, skype, the device's call log "
           "or message store, or what a generic CSV names."),
    Column("conversation", "VARCHAR", "The chat, thread or conversation (its name or id in the "
           "export); for a call log, the other party."),
    Column("sender", "VARCHAR", "Handle of who sent the message or placed the call: the "
           "platform's id where the export gives one, else the number or name shown."),
    Column("sender_name", "VARCHAR", "Display name of the sender, where the export gives one."),
    Column("recipients", "VARCHAR[]", "Handles of the other participants the record was "
           "addressed to."),
    Column("kind", "VARCHAR", "message, voice_call, video_call, payment_message or system."),
    Column("duration_s", "INTEGER", "A call's duration in seconds (0 for a missed call); empty "
           "when the export does not say."),
    Column("call_outcome", "VARCHAR", "What the export says of a call: missed, hangup, busy, "
           "incoming, outgoing ..."),
    Column("text", "VARCHAR", "The message text (entities joined for Telegram, mojibake "
           "repaired for Messenger)."),
    Column("attachments", "VARCHAR[]", "Names of attached files, or the export's placeholder "
           "for omitted media."),
    Column("source_file_id", "INTEGER", "The ingest_files row of the export (its SHA-256, "
           "size, path, time and user)."),
    Column("source_line", "BIGINT", "Line of the file where the record starts (text, TSV and "
           "CSV exports)."),
    Column("source_pointer", "VARCHAR", "JSON Pointer (RFC 6901) to the record in a JSON "
           "export, e.g. `/chats/list/0/messages/17`."),
    Column("raw", "VARCHAR", "The record exactly as the file held it (the lines of a text "
           "export; the JSON object; the TSV or CSV row)."),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)

# Phones and e-mail addresses the export itself ties to a handle (a Telegram contact list,
# the account's own number, a call log's number column, a generic CSV's sender_phone).
# Kept apart from the messages: they are declarations, not communications, and are not
# counted in the file's rows read.
IDENTIFIER_DDL = """CREATE TABLE IF NOT EXISTS comm_identifiers (
    source_file_id INTEGER NOT NULL, platform VARCHAR NOT NULL, handle VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, value_raw VARCHAR NOT NULL, found_in VARCHAR NOT NULL)"""


@dataclass
class Communication:
    """One record as an importer read it, before it gets its file id and rank."""

    timestamp: datetime  # naive UTC
    timestamp_raw: str
    time_zone: str
    platform: str
    conversation: str
    sender: str
    kind: str
    raw: str
    sender_name: str | None = None
    recipients: list[str] = field(default_factory=list)
    duration_s: int | None = None
    call_outcome: str | None = None
    text: str | None = None
    attachments: list[str] = field(default_factory=list)
    source_line: int | None = None
    source_pointer: str | None = None
    time_note: str | None = None


@dataclass(frozen=True)
class Problem:
    """A record that cannot be accepted: it goes to quarantine with the reason and its raw
    text, and counts as read."""

    reason: str
    column: str | None
    value: str | None
    raw: str
    source_line: int | None = None
    source_pointer: str | None = None


@dataclass(frozen=True)
class Identifier:
    """A phone or e-mail the export ties to a handle."""

    platform: str
    handle: str
    kind: str  # phone | email
    value_raw: str
    found_in: str


def ddl() -> list[str]:
    cols = ",\n  ".join(f'"{c.name}" {c.sql_type}' for c in COLUMNS)
    return [f"CREATE TABLE IF NOT EXISTS communications (\n  {cols}\n)", IDENTIFIER_DDL]


def ensure_tables(wh: Warehouse) -> None:
    for stmt in ddl():
        wh.execute(stmt)


def has_table(wh: Warehouse, name: str) -> bool:
    return bool(wh.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                          "AND NOT temporary", [name]))
