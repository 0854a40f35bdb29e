"""Referrals as seeds, propagation over the graph, explanations that add up, evidence."""

from __future__ import annotations

import pytest

from tests.conftest import referral
from tests.detect.conftest import payment


def _night(n: int, sender: str, beneficiary: str, day: int, **more: str) -> dict[str, str]:
    return payment(n, sender, beneficiary, f"2024-03-{day:02d}T23:30:00+01:00",
                   txn_id=f"T{n:04d}", **more)


def heavy_buyer(sender: str, beneficiary: str, start: int) -> list[dict[str, str]]:
    """Night payments with cover descriptions, rising: a sender who looks like a buyer."""
    return [_night(start + k, sender, beneficiary, 1 + 2 * k, amount=f"{20 + 5 * k}.00",
                   sender_name=f"Sender{sender} Smith", beneficiary_name="Ana Reyes",
                   description="medical bills") for k in range(10)]


def test_a_referral_matches_on_email_phone_account_or_name_and_birth_date(score) -> None:
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", txn_id="T1",
                    sender_email="one@example.org", sender_phone="+33611111111"),
            payment(2, "S2", "B1", "2024-03-07T12:00:00+01:00", txn_id="T2",
                    sender_email="two@example.org", sender_phone="+33622222222",
                    sender_name="Paul Martin", sender_birth_date="1980-01-02")]
    refs = [referral(1, subject_email="ONE@example.org", subject_phone="",
                     subject_name="", subject_birth_date=""),
            referral(2, subject_email="", subject_phone="", subject_name="MARTIN Paul",
                     subject_birth_date="1980-01-02", source="Interpol")]
    scored = score(rows, refs)
    assert scored("buyer", "S1").value["referred_buyer"] == 1
    assert "NCMEC referral CT-00001 (email)" in scored("buyer", "S1").reasons
    assert "Interpol referral CT-00002 (name and birth date)" in scored("buyer", "S2").reasons
    matched = scored.wh.execute("SELECT referral_id, role, party_id, matched_on "
                                "FROM det_referral_matches ORDER BY 1").fetchall()
    assert matched == [("CT-00001", "buyer", "S1", "email"),
                       ("CT-00002", "buyer", "S2", "name and birth date")]


def test_a_name_without_the_birth_date_does_not_match(score) -> None:
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", sender_name="Paul Martin",
                    sender_birth_date="1980-01-02", sender_email="", sender_phone="")]
    refs = [referral(1, subject_email="", subject_phone="", subject_name="Paul Martin",
                     subject_birth_date="1981-01-02")]
    assert "referred_buyer" not in score(rows, refs)("buyer", "S1").strength


def test_a_facilitator_referral_matches_beneficiaries_and_unknown_role_both(score) -> None:
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", beneficiary_phone="+639170000001",
                    sender_phone="+639170000001")]
    refs = [referral(1, subject_role="facilitator", subject_phone="+639170000001",
                     subject_email="", subject_name="", subject_birth_date=""),
            referral(2, subject_role="unknown", subject_phone="0917 000 0001",
                     subject_country="PH", subject_email="", subject_name="",
                     subject_birth_date="")]
    scored = score(rows, refs)
    assert scored("facilitator", "B1").value["referred_facilitator"] == 2
    assert scored("buyer", "S1").value["referred_buyer"] == 1  # only the unknown-role one


def test_a_referred_buyers_beneficiary_and_its_other_senders_become_leads(score) -> None:
    # S1 is referred; he pays B1. S2 pays B1 once, by day: on his own he looks innocent.
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", txn_id="T1",
                    sender_email="s1@example.org"),
            payment(2, "S2", "B1", "2024-03-08T12:00:00+01:00", txn_id="T2",
                    sender_email="s2@example.org", sender_phone="+33699999999",
                    sender_name="Paul Martin"),
            payment(3, "S3", "B2", "2024-03-08T12:00:00+01:00", txn_id="T3",
                    sender_email="s3@example.org", sender_phone="+33688888888",
                    sender_name="Luc Petit")]
    refs = [referral(1, subject_email="s1@example.org", subject_phone="", subject_name="",
                     subject_birth_date="")]
    scored = score(rows, refs)
    assert "paid_by_suspected_buyers" in scored("facilitator", "B1").strength
    lead = scored("buyer", "S2")
    assert lead.strength["pays_suspected_facilitators"] > 0
    assert "1 of them referred" in lead.reasons
    assert scored("buyer", "S3").score < lead.score  # same behaviour, no link


def test_a_lone_sender_does_not_raise_himself_through_his_own_payee(score) -> None:
    # S1 alone pays B1: B1's suspicion from "other senders" must not include S1.
    scored = score(heavy_buyer("S1", "B1", 0))
    assert "pays_suspected_facilitators" not in scored("buyer", "S1").strength
    assert "paid_by_suspected_buyers" in scored("facilitator", "B1").strength


def test_shared_beneficiary_of_a_suspicious_sender(score) -> None:
    rows = heavy_buyer("S1", "B1", 0) + heavy_buyer("S2", "B1", 100) + [
        payment(500, "S3", "B1", "2024-03-07T12:00:00+01:00", txn_id="T0500",
                sender_name="Luc Petit", sender_email="luc@example.org",
                sender_phone="+33677777777", beneficiary_name="Ana Reyes")]
    scored = score(rows)
    s3 = scored("buyer", "S3")
    assert s3.strength["pays_suspected_facilitators"] > 0.5
    assert "ana reyes (B1, PH)" in s3.reasons


@pytest.mark.parametrize("params", [[], ["network_rounds=1"], ["propagation_floor=0"]])
def test_contributions_add_up_to_the_score(score, params) -> None:
    rows = heavy_buyer("S1", "B1", 0) + heavy_buyer("S2", "B2", 100) + [
        payment(500 + i, f"S{3 + i % 3}", f"B{1 + i % 2}", f"2024-04-{1 + i:02d}T12:00:00+02:00",
                txn_id=f"T{500 + i}") for i in range(12)]
    scored = score(rows, [referral(1, subject_email="", subject_phone="", subject_name="",
                                   subject_birth_date="", subject_role="facilitator",
                                   subject_account="PH-GC-09175550142")], params=params)
    assert scored.parties
    for (_role, _pid), party in scored.parties.items():
        assert 0 <= party.score <= 1
        assert party.base + sum(party.contribution.values()) == pytest.approx(party.score,
                                                                              abs=1e-9)
        assert all(c >= 0 for c in party.contribution.values())  # weights are not negative


def test_every_alert_links_to_the_payments_behind_each_reason(score) -> None:
    rows = heavy_buyer("S1", "B1", 0) + heavy_buyer("S2", "B1", 100) + [
        payment(500, "S1", "B9", "2024-03-30T12:00:00+01:00", txn_id="T0500",
                description="rent")]
    scored = score(rows)
    wh = scored.wh
    alerts = wh.execute("SELECT role, party_id FROM det_alerts").fetchall()
    assert ("buyer", "S1") in alerts
    fired = {i for i, s in scored("buyer", "S1").strength.items() if s > 0}
    linked = {r[0] for r in wh.execute(
        "SELECT DISTINCT indicator FROM det_evidence WHERE role = 'buyer' AND party_id = 'S1'"
    ).fetchall()}
    assert {"night_share", "cover_descriptions"} <= linked <= fired
    # The daytime rent payment is evidence of nothing at night.
    night = {r[0] for r in wh.execute(
        "SELECT txn_id FROM det_evidence WHERE party_id = 'S1' AND indicator = 'night_share'"
    ).fetchall()}
    assert len(night) == 10 and "T0500" not in night


def test_a_new_run_replaces_the_last_and_is_logged(score) -> None:
    scored = score(heavy_buyer("S1", "B1", 0))
    from sentinelle.detect import detect, load_catalogue

    detect(scored.wh, load_catalogue(params=["alert_threshold=0.99"]), user="second")
    runs = scored.wh.execute("SELECT run_by, scorer FROM det_runs ORDER BY started_at").fetchall()
    digests = [load_catalogue().digest(),
               load_catalogue(params=["alert_threshold=0.99"]).digest()]
    assert runs == [(who, f"buyer: scorecard {d}; facilitator: scorecard {d}")
                    for who, d in zip(["test", "second"], digests, strict=True)]
    latest = scored.wh.scalar("SELECT run_id FROM det_runs ORDER BY started_at DESC LIMIT 1")
    assert {r[0] for r in scored.wh.execute("SELECT run_id FROM det_scores").fetchall()} == {
        latest}
