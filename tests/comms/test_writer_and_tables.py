"""Accounting, provenance, re-sent files; iLEAPP/ALEAPP TSV and the generic CSV."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sentinelle.comms.generic_csv import COLUMNS as CSV_COLUMNS
from sentinelle.comms.pairing import PARAMETERS
from sentinelle.comms.sources import FORMATS, get
from sentinelle.comms.table import COLUMNS
from sentinelle.errors import InputRefused
from tests.comms.conftest import FIXTURES, load, records

DOC = (Path(__file__).parents[2] / "docs" / "comms.md").read_text(encoding="utf-8")


def test_provenance_accounting_and_a_resent_file(wh):
    path = FIXTURES / "generic.csv"
    report = load(wh, "csv", path, tz="Europe/Paris")
    assert (report.read, report.accepted, report.quarantined) == (5, 4, 1)
    sha, size, fmt, read, acc, qua, mapping = wh.execute(
        "SELECT sha256, size_bytes, format, rows_read, rows_accepted, rows_quarantined, "
        "line_mapping FROM ingest_files WHERE table_name = 'communications'").fetchone()
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest() and size == path.stat().st_size
    assert (fmt, read, acc, qua, mapping) == ("csv", 5, 4, 1, "lines")
    line, column, value, raw = wh.execute(
        'SELECT line, "column", value, raw_row FROM quarantine').fetchone()
    assert (line, column, value) == (6, "kind", "chat")
    assert json.loads(raw)["record"].startswith("2024-03-13T09:00:00Z,signal")
    # Every accepted record keeps its raw line and its line number.
    assert wh.execute("SELECT source_line, raw FROM communications ORDER BY source_line "
                      "LIMIT 1").fetchone() == (2, path.read_text().splitlines()[1])
    again = load(wh, "csv", path, tz="Europe/Paris")
    assert again.status == "already ingested"
    assert wh.scalar("SELECT count(*) FROM communications") == 4


def test_json_records_point_into_the_file(wh):
    load(wh, "telegram", FIXTURES / "telegram_chat.json")
    assert wh.scalar("SELECT line_mapping FROM ingest_files") == "json pointer"
    assert wh.execute("SELECT comm_id, source_pointer FROM communications ORDER BY comm_id "
                      "LIMIT 1").fetchone() == ("1-1", "/messages/0")


def test_ileapp_call_history():
    got = records("leapp", FIXTURES / "iLEAPP Call History.tsv", tz="UTC",
                  owner="+61491570156")
    assert [(r.kind, r.sender, r.recipients, r.duration_s) for r in got] == [
        ("video_call", "+61491570156", ["+639175550123"], 2700),
        ("voice_call", "+639175550123", ["+61491570156"], 0),
        ("voice_call", "+12025550143", ["+61491570156"], 125)]


def test_aleapp_call_logs_and_messages():
    calls = records("leapp", FIXTURES / "ALEAPP Call Logs.tsv", tz="UTC")
    assert [(r.duration_s, r.call_outcome, r.recipients) for r in calls] == [
        (2700, "incoming", ["device owner"]), (0, "missed", ["device owner"])]
    sms = records("leapp", FIXTURES / "ALEAPP SMS messages.tsv", tz="UTC")
    assert [(r.kind, r.sender, r.source_line) for r in sms] == [
        ("message", "+61491570156", 2), ("message", "device owner", 3)]
    assert sms[1].text == "Placeholder reply\nover two lines"  # a quoted field over lines


def test_leapp_times_need_a_zone_and_other_tsvs_are_refused(tmp_path: Path):
    with pytest.raises(InputRefused, match="carry no offset"):
        records("leapp", FIXTURES / "ALEAPP Call Logs.tsv")
    other = tmp_path / "other.tsv"
    other.write_text("Foo\tBar\n1\t2\n", encoding="utf-8")
    with pytest.raises(InputRefused, match="not an iLEAPP or ALEAPP"):
        records("leapp", other, tz="UTC")


def test_generic_csv_header_is_checked(tmp_path: Path):
    path = tmp_path / "c.csv"
    path.write_text("timestamp,sender\n2024-01-01T00:00:00Z,a\n", encoding="utf-8")
    with pytest.raises(InputRefused, match="generic communications CSV") as caught:
        records("csv", path)
    assert "missing required column: kind" in caught.value.details


def test_unknown_format_is_refused():
    with pytest.raises(InputRefused, match="unknown communications format"):
        get("fax")


def test_the_documentation_names_every_format_column_and_parameter():
    get("csv")  # registers the built-in importers
    for name in FORMATS:
        assert f"`{name}`" in DOC, f"docs/comms.md does not describe the format {name}"
    for column in COLUMNS:
        assert f"| `{column.name}` |" in DOC, f"docs/comms.md lacks the column {column.name}"
    for column, _, _ in CSV_COLUMNS:
        assert f"| `{column}` |" in DOC, f"docs/comms.md lacks the CSV column {column}"
    for p in PARAMETERS:
        assert f"--{p.name.replace('_', '-')}" in DOC, f"docs/comms.md lacks --{p.name}"
