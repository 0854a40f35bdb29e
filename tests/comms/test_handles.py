"""Handles linked to parties through entity resolution: a handle whose phone or e-mail is
on any record of a subject is linked to every party record of that subject, and the
pairing then finds the sessions paid from the man's other records."""

from __future__ import annotations

from pathlib import Path

from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.handles import Attached, link_handles
from sentinelle.comms.pairing import pair_sessions
from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import Warehouse, open_warehouse
from tests.conftest import TXN_COLUMNS, txn, write_csv

PHONE_S1, PHONE_S2, PHONE_B1 = "+33611111111", "+33622222222", "+639171111111"
REFERRAL_PHONE = "+33633333333"  # known from a referral only


def _warehouse(tmp_path: Path) -> Warehouse:
    wh = open_warehouse(tmp_path / "w.duckdb", memory_limit="1GB", threads=2)
    rows = [txn(1, sender_id="S1", sender_phone=PHONE_S1, beneficiary_id="B1",
                beneficiary_phone=PHONE_B1, timestamp="2024-03-03T20:00:00Z"),
            txn(2, sender_id="S2", sender_phone=PHONE_S2, beneficiary_id="B1",
                beneficiary_phone=PHONE_B1, timestamp="2024-03-10T20:00:00Z"),
            txn(3, sender_id="S3", sender_phone="+33644444444", beneficiary_id="B1",
                beneficiary_phone=PHONE_B1, timestamp="2024-03-12T20:00:00Z")]
    ingest_paths(wh, "transactions", [write_csv(tmp_path / "t.csv", rows, TXN_COLUMNS)],
                 user="test")
    # S1's phone calls after S2's payment; the referral's phone after S3's.
    calls = [{"timestamp": "2024-03-10T20:30:00Z", "sender": PHONE_S1, "kind": "video_call",
              "platform": "whatsapp", "recipients": PHONE_B1, "duration_seconds": "2400"},
             {"timestamp": "2024-03-12T20:30:00Z", "sender": REFERRAL_PHONE,
              "kind": "video_call", "platform": "whatsapp", "recipients": PHONE_B1,
              "duration_seconds": "2400"}]
    ingest_file(wh, get("csv"), write_csv(tmp_path / "c.csv", calls), Options(), user="test")
    return wh


def _resolve_by_hand(wh: Warehouse) -> None:
    """What sentinelle resolve would write: S1 and S2 are one man; the referral's subject
    is S3."""
    wh.execute("""CREATE TABLE er_records AS SELECT * FROM (VALUES
        ('sender:ExampleRemit:S1', 'sender', 'ExampleRemit', 'S1', '+33611111111', NULL),
        ('sender:ExampleRemit:S2', 'sender', 'ExampleRemit', 'S2', '+33622222222', NULL),
        ('sender:ExampleRemit:S3', 'sender', 'ExampleRemit', 'S3', '+33644444444', NULL),
        ('referral:NCMEC:CT-1', 'referral', 'NCMEC', 'CT-1', '+33633333333', NULL))
        t(record_id, kind, source, source_id, phone, email)""")
    wh.execute("""CREATE TABLE er_clusters AS SELECT record_id,
        CASE WHEN source_id IN ('S1', 'S2') THEN 'subj-one' ELSE 'subj-two' END AS subject_id
        FROM er_records""")


def _links(wh: Warehouse, handle: str) -> set[tuple[str, str]]:
    return {(p, via) for p, via in wh.execute(
        "SELECT party_id, via FROM comm_handle_parties WHERE handle = ? AND role = 'buyer'",
        [handle]).fetchall()}


def test_exact_links_only_without_resolution(tmp_path: Path) -> None:
    with _warehouse(tmp_path) as wh:
        assert pair_sessions(wh).sessions == 0
        assert _links(wh, PHONE_S1) == {("S1", "phone")}
        assert _links(wh, REFERRAL_PHONE) == set()


def test_resolution_links_a_handle_to_the_subjects_other_records(tmp_path: Path) -> None:
    with _warehouse(tmp_path) as wh:
        _resolve_by_hand(wh)
        run = pair_sessions(wh)
        assert _links(wh, PHONE_S1) == {("S1", "phone"), ("S2", "entity resolution")}
        assert _links(wh, REFERRAL_PHONE) == {("S3", "entity resolution")}
        found_in = wh.execute("SELECT value, found_in FROM comm_handle_parties WHERE "
                              "handle = ? AND party_id = 'S3'", [REFERRAL_PHONE]).fetchall()
        assert found_in == [("subj-two", "phone of referral:NCMEC:CT-1 (the handle itself)")]
        sessions = wh.execute("SELECT buyer_id, txn_id FROM comm_sessions "
                              "ORDER BY txn_id").fetchall()
    assert run.sessions == 2
    assert sessions == [("S2", "T000002"), ("S3", "T000003")]


def test_an_analysts_link_to_a_subject_reaches_its_records(tmp_path: Path) -> None:
    with _warehouse(tmp_path) as wh:
        _resolve_by_hand(wh)
        link_handles(wh, [Attached(7, "whatsapp", PHONE_B1, "buyer", "subject", "subj-one",
                                   "ana")])
        assert {("S1", "analyst"), ("S2", "analyst")} <= _links(wh, PHONE_B1)
        assert wh.execute("SELECT DISTINCT value, found_in FROM comm_handle_parties "
                          "WHERE via = 'analyst'").fetchall() == [
            ("judgement #7", "attached by ana")]
