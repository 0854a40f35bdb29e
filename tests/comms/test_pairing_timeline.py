"""Handles linked to parties, payments paired with calls, the timeline, term lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.comms.handles import link_handles
from sentinelle.comms.lexicon import Lexicon, count_by_handle, write_party_counts
from sentinelle.comms.pairing import pair_sessions
from sentinelle.comms.timeline import Party, timeline
from sentinelle.errors import SentinelleError
from sentinelle.ingest import ingest_paths
from tests.comms.conftest import FIXTURES, load
from tests.conftest import referral, txn

BUYER, FACILITATOR = "+61 491 570 156", "0917 555 0123"  # as the provider wrote them
PAYMENTS = [
    # (id, UTC time, sender, beneficiary, amount): the call in generic.csv starts 20:30 UTC
    (1, "2024-03-12T20:00:00Z", "S0001", "B0001", "20.00"),  # 30 min before: a session
    (2, "2024-03-12T20:10:00Z", "S0001", "B0001", "15.00"),  # same call: not a 2nd session
    (3, "2024-03-13T06:00:00Z", "S0001", "B0001", "18.00"),  # no call after it
    (4, "2024-03-12T20:00:00Z", "S0002", "B0002", "200.00"),  # other people entirely
]


@pytest.fixture
def world(wh, make_csv):
    rows = [txn(i, timestamp=at, sender_id=s, beneficiary_id=b, amount=amount,
                sender_phone=BUYER if s == "S0001" else "+1 202 555 0143",
                sender_email="alex.sample@example.org" if s == "S0001" else "",
                beneficiary_phone=FACILITATOR if b == "B0001" else "0917 555 0199")
            for i, at, s, b, amount in PAYMENTS]
    refs = [referral(1, subject_phone="+61491570156", subject_email="", received_at="2024-03-20")]
    ingest_paths(wh, "transactions", [make_csv("t.csv", rows)], user="tester")
    ingest_paths(wh, "referrals", [make_csv("r.csv", refs)], user="tester")
    load(wh, "csv", FIXTURES / "generic.csv", tz="Europe/Paris")
    load(wh, "whatsapp", FIXTURES / "WhatsApp Chat with Placeholder Contact.txt",
         tz="Europe/Paris")
    return wh


def test_handles_link_by_exact_phone_and_email(world):
    assert link_handles(world) > 0
    links = set(world.execute("SELECT platform, handle, role, party_id, via, found_in FROM "
                              "comm_handle_parties").fetchall())
    assert ("signal", "+61491570156", "buyer", "S0001", "phone", "the handle itself") in links
    assert ("whatsapp", "+61 491 570 156", "buyer", "S0001", "phone",
            "the handle itself") in links
    assert ("signal", "+639175550123", "facilitator", "B0001", "phone",
            "the handle itself") in links
    # Declared in the CSV's sender_phone and sender_email columns.
    assert ("signal", "alex.handle", "buyer", "S0001", "phone",
            "the CSV's sender_phone column") in links
    assert ("signal", "alex.handle", "buyer", "S0001", "email",
            "the CSV's sender_email column") in links
    assert not {row for row in links if row[3] in ("S0002", "B0002")}


def test_one_session_per_call_with_its_gap_and_duration(world):
    run = pair_sessions(world)
    assert (run.candidates, run.sessions) == (2, 1)  # two payments before one call
    session = world.execute(
        "SELECT txn_id, buyer_id, facilitator_id, call_kind, duration_s, gap_s, amount_eur, "
        "within_hours, min_minutes FROM comm_sessions").fetchall()
    assert session == [("T000001", "S0001", "B0001", "video_call", 2700, 1800, 20.0, 2.0,
                        10.0)]
    parties = world.execute("SELECT role, party_id, sessions, euros, call_seconds FROM "
                            "comm_session_parties ORDER BY role").fetchall()
    assert parties == [("buyer", "S0001", 1, 20.0, 2700), ("facilitator", "B0001", 1, 20.0,
                                                            2700)]


WINDOWS = [
    ("default", {}, 1),
    ("window shorter than the 30-min gap", {"within_hours": 0.25}, 0),
    ("window just long enough for the first payment", {"within_hours": 0.5}, 1),
    ("call shorter than the minimum", {"min_minutes": 46}, 0),
    ("call exactly the minimum", {"min_minutes": 45}, 1),
]


@pytest.mark.parametrize(("params", "sessions"), [w[1:] for w in WINDOWS],
                         ids=[w[0] for w in WINDOWS])
def test_pairing_parameters(world, params, sessions):
    assert pair_sessions(world, **params).sessions == sessions


def test_bad_parameters_are_refused(world):
    with pytest.raises(SentinelleError, match="window"):
        pair_sessions(world, within_hours=0)


def test_timeline_of_a_buyer(world):
    rows = timeline(world, party=Party.parse("buyer:ExampleRemit:S0001"))
    kinds = [r.kind for r in rows]
    assert kinds.count("payment") == 3 and kinds.count("referral") == 1
    assert "video_call" in kinds and "message" in kinds
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    call = next(r for r in rows if r.kind == "video_call")
    assert call.summary.startswith("45 min 00 s") and call.source.startswith("signal:")
    # The messages of both exports: the buyer's handles on signal and on WhatsApp.
    assert {r.source.split(":")[0] for r in rows if r.kind == "message"} == {"signal",
                                                                            "whatsapp"}
    only_calls = timeline(world, party=Party.parse("buyer:ExampleRemit:S0001"),
                          kinds={"video_call", "voice_call"})
    assert {r.kind for r in only_calls} == {"video_call", "voice_call"}


def test_timeline_by_phone_and_by_handle(world):
    by_phone = timeline(world, phone="+63 917 555 0123")
    assert {r.kind for r in by_phone} >= {"payment", "message", "video_call"}
    by_handle = timeline(world, handle="alex.handle")
    # The handle's declared phone is the buyer's: his payments and referral come with it.
    assert [r.kind for r in by_handle] == ["payment", "payment", "voice_call", "payment",
                                           "referral"]


@pytest.mark.parametrize("bad", ["buyer:S0001", "seller:ExampleRemit:S0001", "buyer::S1"])
def test_a_badly_written_party_is_refused(bad):
    with pytest.raises(SentinelleError, match="ROLE:PROVIDER:ID"):
        Party.parse(bad)


def test_a_party_not_in_the_transactions_is_refused(world):
    with pytest.raises(SentinelleError, match="no buyer"):
        timeline(world, party=Party.parse("buyer:ExampleRemit:S9999"))


def test_lexicon_matches_whole_words_ignoring_case_and_accents(tmp_path: Path):
    path = tmp_path / "terms.txt"
    path.write_text("# neutral placeholder terms\nalpha\n\nPlaceholder text\ncafé\n",
                    encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert lexicon.terms == ("alpha", "placeholder text", "cafe")
    assert lexicon.matches("ALPHA, alphabet, placeholder   text, Cafe") == [
        "alpha", "placeholder text", "cafe"]
    assert lexicon.matches(None) == []
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(SentinelleError, match="no terms"):
        Lexicon.load(empty)


def test_lexicon_counts_per_handle_and_party_and_marks_the_timeline(world):
    lexicon = Lexicon.of(("alpha", "placeholder text"), "sha-of-list")
    counts = {(c.platform, c.handle): (c.messages, c.matches)
              for c in count_by_handle(world, lexicon)}
    # "alpha placeholder text, then Alpha again." and "Good evening, placeholder text one."
    assert counts[("whatsapp", "+61 491 570 156")] == (2, 4)
    assert counts[("signal", "+61491570156")] == (1, 1)
    link_handles(world)
    assert write_party_counts(world, lexicon) == 1
    assert world.execute("SELECT role, party_id, messages, matches, lexicon_sha256 FROM "
                         "comm_lexicon_parties").fetchall() == [
        ("buyer", "S0001", 3, 5, "sha-of-list")]
    rows = timeline(world, party=Party.parse("buyer:ExampleRemit:S0001"), lexicon=lexicon)
    marked = [r for r in rows if r.lexicon_hits]
    assert sorted(len(r.lexicon_hits) for r in marked) == [1, 1, 3]
