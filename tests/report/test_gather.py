"""Gathering a subject's and a case's data: every payment of the subject's parties, both
ends of each payment with every identity seen, the source files with their hashes."""

from __future__ import annotations

import pytest

from sentinelle.errors import NotFound, ReviewError
from sentinelle.report.export import gather_subject
from sentinelle.report.gather import gather, parse_subject
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, SENDER_NAMES


@pytest.mark.parametrize(("text", "expected"), [
    ("buyer:Example Remit:S0012345", PartyKey("buyer", "Example Remit", "S0012345")),
    ("facilitator:A:B:C:B0001", PartyKey("facilitator", "A:B:C", "B0001")),
])
def test_parse_subject(text, expected):
    assert parse_subject(text) == expected


@pytest.mark.parametrize("text", ["", "buyer", "buyer:S1", "seller:X:S1", "buyer::S1"])
def test_parse_subject_refuses(text):
    with pytest.raises(ReviewError, match="ROLE:PROVIDER:PARTY_ID"):
        parse_subject(text)


def test_subject_payments_parties_and_sources(synth_world):
    key = synth_world.alert("facilitator")
    with synth_world.view() as view:
        data = gather_subject(view, key)
        expected = view.scalar("SELECT count(*) FROM transactions WHERE beneficiary_id = ? "
                               "AND provider = ?", [key.party_id, key.provider])
        sha = view.scalar("SELECT sha256 FROM ingest_files WHERE table_name = 'transactions'")
    assert len(data.transactions) == expected > 0
    assert all(t.beneficiary == key for t in data.transactions)
    assert data.parties[key].subject and data.parties[key].score is not None
    senders = {t.sender for t in data.transactions}
    assert set(data.parties) == senders | {key}
    assert [s.sha256 for s in data.sources] == [sha]
    assert sum(s.transactions for s in data.sources) == len(data.transactions)
    assert data.subjects[0].reasons, "an alert has reasons"
    # Evidence links: some of the subject's payments are evidence for an indicator.
    assert any(t.indicators for t in data.transactions)
    stamps = [t.timestamp for t in data.transactions]
    assert stamps == sorted(stamps)


def test_case_of_two_subjects_counts_each_payment_once(synth_world):
    facilitator = synth_world.alert("facilitator")
    with synth_world.view() as view:
        one = gather_subject(view, facilitator)
        buyer = next(t.sender for t in one.transactions if t.indicators)
        both = gather(view, [facilitator, buyer], scope="case", reference="C-T",
                      title="t", target="case/C-T")
        alone = gather_subject(view, buyer)
    ids = [(t.provider, t.txn_id) for t in both.transactions]
    assert len(ids) == len(set(ids))
    assert set(ids) == {(t.provider, t.txn_id) for t in one.transactions + alone.transactions}
    assert len(both.subjects) == 2


def test_unknown_subject(synth_world):
    with synth_world.view() as view, pytest.raises(NotFound, match="last detection run"):
        gather_subject(view, PartyKey("buyer", "Nobody Remit", "S404"))


def test_names_in_any_script_are_kept_as_recorded(unicode_world):
    with unicode_world.view() as view:
        data = gather_subject(view, PartyKey("facilitator", "ExampleRemit", "B0001"))
    names = {p.name for p in data.parties.values()}
    assert BENEFICIARY_NAMES[1] in names
    assert {SENDER_NAMES[i] for i in range(7)} <= names
