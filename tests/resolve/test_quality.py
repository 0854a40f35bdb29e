"""The cluster metrics on cases small enough to count by hand."""

from __future__ import annotations

import pytest

from sentinelle.resolve import cluster_quality

CASES = [
    ("perfect", {"a": "1", "b": "1", "c": "2"}, {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1.0, pairwise_recall=1.0, bcubed_precision=1.0,
          bcubed_recall=1.0, adjusted_rand=1.0)),
    ("one person split in two", {"a": "1", "b": "2", "c": "3"},
     {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1.0, pairwise_recall=0.0, bcubed_precision=1.0,
          bcubed_recall=2 / 3)),
    ("two people merged", {"a": "1", "b": "1", "c": "1"}, {"a": "P", "b": "P", "c": "Q"},
     dict(pairwise_precision=1 / 3, pairwise_recall=1.0, bcubed_recall=1.0,
          bcubed_precision=(2 / 3 + 2 / 3 + 1 / 3) / 3)),
]


@pytest.mark.parametrize(("description", "predicted", "truth", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_cluster_quality(description: str, predicted: dict[str, str], truth: dict[str, str],
                         expected: dict[str, float]) -> None:
    quality = cluster_quality(predicted, truth)
    for metric, value in expected.items():
        assert getattr(quality, metric) == pytest.approx(value), (description, metric)


def test_records_the_truth_does_not_know_are_left_out() -> None:
    quality = cluster_quality({"a": "1", "b": "1", "x": "1"}, {"a": "P", "b": "P"})
    assert quality.records == 2 and quality.pairwise_precision == 1.0


def _record(record_id: str, kind: str, surname: str | None = "valdez",
            given: str | None = "jun", **fields: str | None) -> dict[str, str | None]:
    out = {"record_id": record_id, "kind": kind, "surname": surname, "given": given,
           "birth_date": None, "phone": None, "email": None, "account": None,
           "country": "PH", "side": "beneficiary" if kind != "sender" else "sender",
           "near": None}
    return out | fields


# Two payees named "jun valdez" in the Philippines, P's and Q's, and tips about P.
RECORDS = [
    _record("beneficiary:K:1", "beneficiary", phone="+639180000001"),
    _record("beneficiary:K:2", "beneficiary", phone="+639180000002"),
    _record("referral:A:name", "referral"),
    _record("referral:A:initial", "referral", given="j"),
    _record("referral:A:phone", "referral", phone="+639180000001"),
    _record("referral:A:birth", "referral", birth_date="1980-01-01"),
    _record("referral:A:typo", "referral", surname="valdes"),
    _record("referral:A:buyer", "referral", side="sender"),
]
TRUTH = {r["record_id"]: "Q" if r["record_id"] == "beneficiary:K:2" else "P"
         for r in RECORDS}


def test_a_tip_with_only_a_name_among_namesakes_is_one_no_field_can_place() -> None:
    from sentinelle.resolve.quality import name_only_tips

    # A name, or an initial, that Q's record carries too; a birth date on neither payee
    # (payees have none) does not tell them apart. A phone does; a misspelt surname and a
    # tip about a buyer have no namesake among payees.
    assert name_only_tips(RECORDS, TRUTH) == {
        "referral:A:name", "referral:A:initial", "referral:A:birth"}
    # A birth date on P's own payment record places the tip that carries it.
    born = [*RECORDS, _record("sender:K:3", "sender", birth_date="1980-01-01")]
    assert "referral:A:birth" not in name_only_tips(born, {**TRUTH, "sender:K:3": "P"})
    # Without Q, no namesake: every tip can be placed.
    alone = [r for r in RECORDS if r["record_id"] != "beneficiary:K:2"]
    assert name_only_tips(alone, TRUTH) == set()
    # A mistyped name nobody carries, one slip from both payees' ("near"): no field
    # says which; one slip from P's alone, it can be placed.
    typo = _record("referral:A:slip", "referral", surname="valdes",
                   near=["beneficiary:K:1", "beneficiary:K:2", "referral:A:slip"])
    assert "referral:A:slip" in name_only_tips([*RECORDS, typo], {**TRUTH, typo["record_id"]: "P"})
    typo["near"] = ["beneficiary:K:1", "referral:A:slip"]
    assert "referral:A:slip" not in name_only_tips([*RECORDS, typo],
                                                   {**TRUTH, typo["record_id"]: "P"})


def test_recall_over_the_pairs_without_the_records_left_out() -> None:
    from sentinelle.resolve.quality import recall_without

    truth = {"a": "P", "b": "P", "t": "P", "c": "Q", "d": "Q"}
    predicted = {"a": "1", "b": "1", "t": "2", "c": "3", "d": "4"}
    # P's pairs a-b (found), a-t, b-t (hold t); Q's c-d (missed).
    assert recall_without(predicted, truth, {"t"}) == (2, 0.5)
    assert recall_without(predicted, truth, set()) == (0, pytest.approx(1 / 4))
