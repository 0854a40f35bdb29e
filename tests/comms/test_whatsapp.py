"""WhatsApp .txt exports: date styles, multi-line messages, media, calls, time zones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sentinelle.comms.table import Communication, Problem
from sentinelle.errors import InputRefused
from tests.comms.conftest import FIXTURES, REFERENCE, load, records

ANDROID = FIXTURES / "WhatsApp Chat with Placeholder Contact.txt"
IOS = FIXTURES / "_chat.txt"


def test_android_day_first_24_hour_export():
    got = records("whatsapp", ANDROID, tz="Europe/Paris")
    assert all(isinstance(r, Communication) for r in got)
    assert [r.source_line for r in got] == [1, 2, 3, 6, 7, 8, 9]
    assert [r.kind for r in got] == ["system", "message", "message", "message", "message",
                                     "message", "system"]
    # 21:06 in Paris in March (UTC+1) is 20:06 UTC.
    assert got[1].timestamp == datetime(2024, 3, 12, 20, 6)
    assert got[1].timestamp_raw == "12/03/2024, 21:06" and got[1].time_zone == "Europe/Paris"
    assert got[2].text == "Placeholder reply\nwith a second line\nand a third line."
    assert got[2].raw.count("\n") == 2  # the raw record holds its three lines
    assert got[1].recipients == ["+63 917 555 0123"]
    assert got[3].attachments == ["<Media omitted>"] and got[3].text is None
    assert got[4].attachments == ["IMG-20240313-WA0001.jpg"]


def test_ios_bracketed_month_first_12_hour_with_calls():
    got = records("whatsapp", IOS, tz="America/New_York")
    assert [r.kind for r in got] == ["system", "message", "message", "message", "video_call",
                                     "voice_call", "message"]
    # 9:05:09 PM (narrow no-break space before PM) on 12 March, New York on daylight time.
    assert got[0].timestamp == datetime(2024, 3, 13, 1, 5, 9)
    assert got[2].attachments == ["image omitted"]
    assert got[3].attachments == ["00000003-PHOTO-2024-03-12-21-08-02.jpg"]
    assert (got[4].duration_s, got[4].call_outcome) == (45 * 60, "answered")
    assert (got[5].duration_s, got[5].call_outcome) == (0, "missed")
    assert got[6].sender == "Alex Sample"  # "~ " of newer group exports removed
    assert got[6].timestamp == datetime(2024, 3, 14, 4, 1)  # 12:01 AM is just after midnight


STYLES = [
    # (description, header as the phone writes it, day_first option, local time expected)
    ("Android day-first 24 h", "25/12/2023, 21:05 - ", None, datetime(2023, 12, 25, 21, 5)),
    ("Android month-first 12 h", "12/25/23, 9:05 PM - ", None, datetime(2023, 12, 25, 21, 5)),
    ("German dots, 2-digit year", "25.12.23, 21:05 - ", None, datetime(2023, 12, 25, 21, 5)),
    ("year-first", "2023-12-25 21:05 - ", None, datetime(2023, 12, 25, 21, 5)),
    ("iOS day-first seconds", "[25/12/2023, 21:05:09] ", None,
     datetime(2023, 12, 25, 21, 5, 9)),
    ("iOS month-first 12 h", "[12/25/23, 9:05:09 PM] ", None, datetime(2023, 12, 25, 21, 5, 9)),
    ("dashes, seconds, no comma", "[25-12-23 21:05:09] ", None,
     datetime(2023, 12, 25, 21, 5, 9)),
    ("12 AM is midnight", "12/25/23, 12:05 AM - ", None, datetime(2023, 12, 25, 0, 5)),
    ("ambiguous, told day-first", "03/04/2024, 10:00 - ", True, datetime(2024, 4, 3, 10, 0)),
    ("ambiguous, told month-first", "03/04/2024, 10:00 - ", False,
     datetime(2024, 3, 4, 10, 0)),
]


@pytest.mark.parametrize(("header", "day_first", "expected"), [s[1:] for s in STYLES],
                         ids=[s[0] for s in STYLES])
def test_date_styles(tmp_path: Path, header: str, day_first: bool | None, expected: datetime):
    path = tmp_path / "chat.txt"
    path.write_text(f"{header}Alex Sample: placeholder\n", encoding="utf-8")
    [got] = records("whatsapp", path, tz="UTC", day_first=day_first)
    assert got.timestamp == expected and got.sender == "Alex Sample"


def test_ambiguous_dates_are_refused_until_the_user_says(fixtures: Path):
    with pytest.raises(InputRefused, match="ambiguous") as caught:
        records("whatsapp", fixtures / "whatsapp_ambiguous.txt", tz="UTC")
    assert "--day-first" in (caught.value.fix or "")
    told = records("whatsapp", fixtures / "whatsapp_ambiguous.txt", tz="UTC", day_first=False)
    assert told[1].timestamp == datetime(2024, 3, 4, 11, 0)


def test_an_option_that_contradicts_the_file_is_refused():
    with pytest.raises(InputRefused, match="contradicts the file: line 7"):
        records("whatsapp", ANDROID, tz="UTC", day_first=False)


def test_mixed_orders_are_refused(tmp_path: Path):
    path = tmp_path / "mixed.txt"
    path.write_text("25/01/2024, 10:00 - A: x\n01/25/2024, 10:00 - B: y\n", encoding="utf-8")
    with pytest.raises(InputRefused, match="no single order"):
        records("whatsapp", path, tz="UTC")


def test_the_time_zone_is_required():
    with pytest.raises(InputRefused, match="will not guess"):
        records("whatsapp", ANDROID)
    with pytest.raises(InputRefused, match="unknown time zone"):
        records("whatsapp", ANDROID, tz="Europe/Atlantis")


def test_daylight_saving_gap_is_quarantined_and_fold_is_noted(tmp_path: Path):
    path = tmp_path / "dst.txt"
    path.write_text(
        "31/03/2024, 01:59 - A: before the change\n"
        "31/03/2024, 02:30 - A: a time Paris skipped\n"
        "27/10/2024, 02:10 - A: first pass through 02:10\n"
        "27/10/2024, 02:50 - A: still the first pass\n"
        "27/10/2024, 02:20 - A: clocks went back: the second pass\n", encoding="utf-8")
    got = records("whatsapp", path, tz="Europe/Paris")
    assert isinstance(got[1], Problem) and "does not exist in Europe/Paris" in got[1].reason
    assert got[1].source_line == 2
    first, still, second = got[2:]
    assert first.timestamp == datetime(2024, 10, 27, 0, 10)  # 02:10 CEST (UTC+2)
    assert still.timestamp == datetime(2024, 10, 27, 0, 50)
    assert second.timestamp == datetime(2024, 10, 27, 1, 20)  # 02:20 CET (UTC+1)
    assert "first occurrence" in first.time_note and "second occurrence" in second.time_note


def test_not_a_whatsapp_export_is_refused(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("Some notes\n25/01/2024, 10:00 - A: x\n", encoding="utf-8")
    with pytest.raises(InputRefused, match="not a WhatsApp chat export") as caught:
        records("whatsapp", path, tz="UTC")
    assert caught.value.line == 1


def test_a_file_cut_inside_a_character_is_refused_with_its_line(tmp_path: Path):
    path = tmp_path / "cut.txt"
    path.write_bytes("25/01/2024, 10:00 - A: café\n".encode() +
                     b"25/01/2024, 10:01 - A: caf" + "é".encode()[:1])
    with pytest.raises(InputRefused, match="not UTF-8") as caught:
        records("whatsapp", path, tz="UTC")
    assert caught.value.line == 2


def test_an_invalid_date_is_quarantined_not_dropped(tmp_path: Path, wh):
    path = tmp_path / "bad.txt"
    path.write_text("25/01/2024, 10:00 - A: x\n31/02/2024, 10:00 - A: y\n", encoding="utf-8")
    report = load(wh, "whatsapp", path, tz="UTC")
    assert (report.read, report.accepted, report.quarantined) == (2, 1, 1)
    line, column, value, reason = wh.execute(
        'SELECT line, "column", value, reason FROM quarantine').fetchone()
    assert (line, column, value) == (2, "timestamp", "31/02/2024, 10:00")
    assert "not a valid date" in reason


@pytest.mark.parametrize("name", ["lorem.txt", "pokemon.txt"])
def test_the_public_reference_exports_import(wh, name: str):
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"reference export {path} absent (../shared/reference/whatsapp)")
    report = load(wh, "whatsapp", path, tz="UTC")
    assert report.status == "ingested" and report.quarantined == 0
    lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    # Every line starts a record here (neither export has multi-line messages).
    assert report.read == report.accepted == lines
    if name == "lorem.txt":  # [15-01-20 02:22:56]: day-first, two-digit year
        first = wh.execute("SELECT timestamp, sender, recipients FROM communications "
                           "ORDER BY source_line LIMIT 1").fetchone()
        assert first[0] == datetime(2020, 1, 15, 2, 22, 56) and first[1] == "Mary"
        assert "+1 123 456 789" in first[2]
    else:  # 15.04.2016, 15:04: the first line is the encryption notice, a system record
        kinds = dict(wh.execute("SELECT kind, count(*) FROM communications GROUP BY 1")
                     .fetchall())
        assert kinds == {"system": 2, "message": lines - 2}
