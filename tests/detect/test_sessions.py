"""Corroborated sessions in detection: payments followed by a call raise the score of the
buyer and the facilitator, with their own reason and evidence; without communications the
scores are exactly those of the catalogue without the sessions indicators."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.pairing import pair_sessions
from sentinelle.detect import detect, load_catalogue
from sentinelle.detect.catalogue import Catalogue
from sentinelle.errors import DetectionError
from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import Warehouse, open_warehouse
from tests.conftest import TXN_COLUMNS, write_csv
from tests.detect.conftest import payment

BUYERS = {"S1": "+33 6 11 11 11 11", "S2": "+33 6 22 22 22 22", "S3": "+33 6 33 33 33 33"}
FACILITATOR_PHONE = "+63 917 111 1111"
PAID = [  # (txn, sender, day): S1 pays three times, S2 once, S3 twice
    (1, "S1", 3), (2, "S1", 10), (3, "S1", 17), (4, "S2", 5), (5, "S3", 7), (6, "S3", 14)]
CALLED = {1, 2, 3, 4}  # the payments a long video call follows


def _payments() -> list[dict[str, str]]:
    return [payment(n, sender, "B1", f"2024-03-{day:02d}T21:00:00+01:00",
                    sender_phone=BUYERS[sender], sender_email=f"{sender.lower()}@example.org",
                    beneficiary_phone=FACILITATOR_PHONE) for n, sender, day in PAID]


def _calls(path: Path) -> Path:
    rows = [{"timestamp": f"2024-03-{day:02d}T20:30:00Z", "sender": BUYERS[sender],
             "kind": "video_call", "platform": "whatsapp", "recipients": FACILITATOR_PHONE,
             "duration_seconds": "2400"}
            for n, sender, day in PAID if n in CALLED]
    # A short call after S3's first payment: under the ten minutes, no session.
    rows.append({"timestamp": "2024-03-07T20:30:00Z", "sender": BUYERS["S3"],
                 "kind": "voice_call", "platform": "whatsapp",
                 "recipients": FACILITATOR_PHONE, "duration_seconds": "120"})
    return write_csv(path, rows)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = open_warehouse(tmp_path / "w.duckdb", memory_limit="1GB", threads=2)
    ingest_paths(wh, "transactions", [write_csv(tmp_path / "t.csv", _payments(), TXN_COLUMNS)],
                 user="test")
    yield wh  # type: ignore[misc]
    wh.close()


def _with_sessions(wh: Warehouse, tmp_path: Path) -> None:
    ingest_file(wh, get("csv"), _calls(tmp_path / "calls.csv"), Options(), user="test")
    assert pair_sessions(wh).sessions == len(CALLED)


def _contributions(wh: Warehouse) -> dict[tuple[str, str, str], tuple[float, float, str]]:
    return {(role, pid, ind): (value, strength, reason)
            for role, pid, ind, value, strength, reason in wh.execute(
                "SELECT role, party_id, indicator, value, strength, reason "
                "FROM det_contributions WHERE indicator LIKE 'sessions_%'").fetchall()}


def _scores(wh: Warehouse) -> dict[tuple[str, str], float]:
    return {(r, p): s for r, p, s in wh.execute(
        "SELECT role, party_id, score FROM det_scores").fetchall()}


def test_sessions_fire_with_a_ramp_a_reason_and_evidence(warehouse: Warehouse,
                                                         tmp_path: Path):
    detect(warehouse, load_catalogue(), user="test")
    before = _scores(warehouse)
    _with_sessions(warehouse, tmp_path)
    detect(warehouse, load_catalogue(params=["alert_threshold=0"]), user="test")
    after = _scores(warehouse)
    fired = _contributions(warehouse)
    # fires from 0.5, full at 3: one session counts for a fifth, three in full
    assert fired[("buyer", "S1", "sessions_paid")][:2] == (3.0, 1.0)
    assert fired[("buyer", "S2", "sessions_paid")][:2] == (1.0, pytest.approx(0.2))
    assert ("buyer", "S3", "sessions_paid") not in fired
    assert fired[("facilitator", "B1", "sessions_received")][:2] == (4.0, 1.0)
    assert fired[("buyer", "S1", "sessions_paid")][2] == (
        "3 payments (EUR 75.00) to 1 beneficiary, each followed within 2 h by a call of at "
        "least 10 min")
    assert fired[("facilitator", "B1", "sessions_received")][2] == (
        "4 payments (EUR 100.00) from 2 senders, each followed within 2 h by a call of at "
        "least 10 min")
    assert after[("buyer", "S1")] > after[("buyer", "S2")] > before[("buyer", "S2")]
    assert after[("facilitator", "B1")] > before[("facilitator", "B1")]
    evidence = warehouse.execute(
        "SELECT party_id, txn_id FROM det_evidence WHERE indicator = 'sessions_paid' "
        "ORDER BY txn_id").fetchall()
    assert evidence == [("S1", "T000001"), ("S1", "T000002"), ("S1", "T000003"),
                        ("S2", "T000004")]
    received = warehouse.execute(
        "SELECT txn_id FROM det_evidence WHERE indicator = 'sessions_received' "
        "AND party_id = 'B1' ORDER BY txn_id").fetchall()
    assert [t for (t,) in received] == ["T000001", "T000002", "T000003", "T000004"]


def test_without_communications_the_scores_are_todays(warehouse: Warehouse):
    full = load_catalogue()
    assert {i.id for i in full.indicators if i.kind == "sessions"} == {
        "sessions_paid", "sessions_received"}
    detect(warehouse, full, user="test")
    with_indicators = _scores(warehouse)
    assert not _contributions(warehouse)
    without = Catalogue(dict(full.parameters),
                        [i for i in full.indicators if i.kind != "sessions"],
                        dict(full.calibration), dict(full.values))
    detect(warehouse, without, user="test")
    assert _scores(warehouse) == pytest.approx(with_indicators, abs=1e-12)


def test_sessions_count_for_the_subject(warehouse: Warehouse, tmp_path: Path):
    """Once entity resolution has merged S1 and S2 into one man, his four sessions are
    his: detection reads each session through its payment, whatever key it scores."""
    _with_sessions(warehouse, tmp_path)
    warehouse.execute("""CREATE TABLE er_records AS SELECT * FROM (VALUES
        ('sender:ExampleRemit:S1', 'sender', 'ExampleRemit', 'S1'),
        ('sender:ExampleRemit:S2', 'sender', 'ExampleRemit', 'S2'))
        t(record_id, kind, source, source_id)""")
    warehouse.execute("""CREATE TABLE er_clusters AS SELECT record_id, 'subj-test' AS subject_id,
        'model' AS decided_by FROM er_records""")
    detect(warehouse, load_catalogue(), user="test", subjects=True)
    fired = _contributions(warehouse)
    assert fired[("buyer", "subj-test", "sessions_paid")][:2] == (4.0, 1.0)


def test_subjects_from_a_resolution_older_than_decided_by_are_refused(
        warehouse: Warehouse) -> None:
    warehouse.execute("""CREATE TABLE er_clusters AS SELECT * FROM (VALUES
        ('sender:ExampleRemit:S1', 'subj-test')) t(record_id, subject_id)""")
    with pytest.raises(DetectionError, match="decided_by") as raised:
        detect(warehouse, load_catalogue(), user="test")
    assert "sentinelle resolve" in str(raised.value.fix)
