"""Telegram, Messenger and Skype JSON exports, streamed; cut and malformed files refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sentinelle.comms.messenger import repair
from sentinelle.comms.table import Communication, Identifier, Problem
from sentinelle.errors import InputRefused
from tests.comms.conftest import FIXTURES, load, records


def test_telegram_single_chat():
    got = records("telegram", FIXTURES / "telegram_chat.json")
    assert all(isinstance(r, Communication) for r in got)
    assert [r.source_pointer for r in got] == [f"/messages/{i}" for i in range(6)]
    assert [r.kind for r in got] == ["message", "message", "voice_call", "voice_call",
                                     "message", "payment_message"]
    assert got[0].timestamp == datetime(2024, 3, 12, 20, 6, 10)  # date_unixtime is the truth
    assert got[0].time_zone == "UTC" and got[0].timestamp_raw == "1710273970"
    assert got[1].text == "Placeholder with bold part."  # a list of entities, joined
    assert (got[2].duration_s, got[2].call_outcome) == (2700, "hangup")
    assert (got[3].duration_s, got[3].call_outcome) == (0, "missed")
    assert got[4].attachments == ["photos/photo_1@13-03-2024_08-00-00.jpg"]
    # The chat's id is the peer; the other end is whoever else spoke.
    assert got[0].recipients == ["user5550123"] and got[1].recipients == ["user4915701"]


def test_telegram_full_account_with_contacts_and_a_message_without_unixtime():
    got = records("telegram", FIXTURES / "telegram_account.json")
    ids = [r for r in got if isinstance(r, Identifier)]
    assert [(i.handle, i.value_raw) for i in ids] == [
        ("user4915701", "+61 491 570 156"), ("user5550123", "+63 917 555 0123")]
    comms = [r for r in got if isinstance(r, Communication)]
    assert [c.source_pointer for c in comms] == [
        "/chats/list/0/messages/0", "/chats/list/0/messages/1", "/chats/list/1/messages/0",
        "/chats/list/1/messages/1"]
    assert comms[2].conversation == "Placeholder Group [777]" and comms[2].kind == "system"
    [problem] = [r for r in got if isinstance(r, Problem)]
    assert problem.source_pointer == "/chats/list/1/messages/2" and "no --tz" in problem.reason
    # With the zone stated, the wall-clock date is read instead.
    told = records("telegram", FIXTURES / "telegram_account.json", tz="Europe/Paris")
    last = [r for r in told if isinstance(r, Communication)][-1]
    assert last.timestamp == datetime(2024, 1, 1, 9, 2) and last.time_zone == "Europe/Paris"


MOJIBAKE = [
    ("accented", "Caf\u00c3\u00a9", "Café"),
    ("plain ascii", "placeholder", "placeholder"),
    ("already right (cannot be Latin-1)", "Zoë — ok", "Zoë — ok"),
    ("emoji", "\u00f0\u009f\u0098\u0080", "\U0001f600"),
]


@pytest.mark.parametrize(("given", "expected"), [m[1:] for m in MOJIBAKE],
                         ids=[m[0] for m in MOJIBAKE])
def test_messenger_mojibake_repair(given: str, expected: str):
    assert repair(given) == expected


def test_messenger_thread():
    got = records("messenger", FIXTURES / "messenger_message_1.json")
    comms = [r for r in got if isinstance(r, Communication)]
    assert comms[0].conversation == "inbox/zoeplaceholder_1234567890"
    assert (comms[0].kind, comms[0].duration_s) == ("video_call", 2820)
    assert (comms[1].kind, comms[1].call_outcome) == ("voice_call", "missed")
    assert comms[1].sender == "Zoë Placeholder" and comms[0].recipients == ["Zoë Placeholder"]
    assert comms[2].attachments == ["456.jpg"]
    assert comms[3].text == "Café placeholder, à bientôt"
    assert "CafÃ©" in comms[3].raw  # the raw record keeps the file's own spelling
    [problem] = [r for r in got if isinstance(r, Problem)]
    assert problem.column == "timestamp_ms" and problem.source_pointer == "/messages/4"


def test_skype_call_from_its_ended_event():
    got = records("skype", FIXTURES / "skype_messages.json")
    call = got[0]
    assert (call.kind, call.duration_s) == ("voice_call", 2760)
    # Ended at 21:16 UTC after 46 minutes: it started at 20:30.
    assert call.timestamp == datetime(2024, 3, 12, 20, 30) and "minus its duration" in \
        call.time_note
    assert call.sender == "live:.cid.alexsample" and call.recipients == ["live:mariaexample"]
    assert got[1].kind == "system" and got[1].text == "call started"
    assert got[3].attachments == ["placeholder.pdf"]
    assert got[3].recipients == ["live:.cid.alexsample"]


@pytest.mark.parametrize("fmt", ["telegram", "messenger", "skype"])
def test_a_cut_json_export_is_refused_whole_with_the_position(tmp_path: Path, wh, fmt: str):
    name = {"telegram": "telegram_chat.json", "messenger": "messenger_message_1.json",
            "skype": "skype_messages.json"}[fmt]
    data = (FIXTURES / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputRefused, match="cut short") as caught:
        load(wh, fmt, cut)
    assert caught.value.line is not None and caught.value.line > 1
    assert "after the record at /" in caught.value.message
    # Nothing from the file was written: the transaction was rolled back.
    assert wh.scalar("SELECT count(*) FROM communications") == 0
    assert wh.scalar("SELECT count(*) FROM ingest_files") == 0


def test_a_malformed_json_export_is_refused_at_the_fault(tmp_path: Path):
    path = tmp_path / "result.json"
    text = (FIXTURES / "telegram_chat.json").read_text(encoding="utf-8")
    broken = text.replace('"from": "Maria Example"', '"from" "Maria Example"', 1)
    path.write_text(broken, encoding="utf-8")
    expected_line = broken[: broken.index('"from" "Maria')].count("\n") + 1
    with pytest.raises(InputRefused, match="not well-formed JSON") as caught:
        records("telegram", path)
    assert caught.value.line == expected_line
    assert "/messages/0" in caught.value.message  # the last record read whole
