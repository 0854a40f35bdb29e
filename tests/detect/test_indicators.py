"""Each indicator on small hand-made cases: fires, does not fire, boundaries, time zones."""

from __future__ import annotations

import pytest

from tests.detect.conftest import payment


def night_cases() -> list[tuple[str, str, str, bool]]:
    # (description, timestamp, sender country, night in the sender's own time?)
    return [
        ("23:30 in Paris", "2024-03-07T23:30:00+01:00", "FR", True),
        ("14:00 in Paris", "2024-03-07T14:00:00+01:00", "FR", False),
        ("22:00 sharp is night", "2024-03-07T22:00:00+01:00", "FR", True),
        ("21:59 is evening", "2024-03-07T21:59:00+01:00", "FR", False),
        ("05:59 is still night", "2024-03-07T05:59:00+01:00", "FR", True),
        ("06:00 is morning", "2024-03-07T06:00:00+01:00", "FR", False),
        ("04:30 in New York is 09:30 UTC: night by the offset", "2024-03-07T04:30:00-05:00",
         "US", True),
        ("UTC with Z: the country's zone decides (01:30 EST)", "2024-03-10T06:30:00Z", "US",
         True),
        ("Z after the spring change: 06:30 EDT, not 05:30", "2024-03-10T10:30:00Z", "US",
         False),
        ("Z the day before the change: 05:30 EST", "2024-03-09T10:30:00Z", "US", True),
        ("Z in Paris after the autumn change: 22:30 CET", "2024-10-27T21:30:00Z", "FR", True),
        ("Z in Paris the day before the autumn change: 21:30 CEST", "2024-10-26T19:30:00Z",
         "FR", False),
    ]


@pytest.mark.parametrize("label,when,country,night", night_cases(),
                         ids=[c[0] for c in night_cases()])
def test_night_share_uses_the_senders_local_time(score, label, when, country, night) -> None:
    rows = [payment(i, "S1", "B1", when, sender_country=country) for i in range(3)]
    got = score(rows)("buyer", "S1")
    assert ("night_share" in got.strength) is night, label
    if night:
        assert got.value["night_share"] == pytest.approx(1.0)


def test_night_share_is_scaled_down_on_one_payment(score) -> None:
    one = score([payment(1, "S1", "B1", "2024-03-07T23:30:00+01:00")])("buyer", "S1")
    assert one.value["night_share"] == 1.0
    assert one.strength["night_share"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("amount,country,counted", [
    ("150.00", "PH", True),
    ("200.00", "PH", True),     # at most small_eur
    ("200.01", "PH", False),
    ("150.00", "FR", False),    # not a high-risk corridor
    ("50.00", "TH", True),
])
def test_small_corridor_payments(score, amount, country, counted) -> None:
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", amount=amount,
                    beneficiary_country=country)]
    got = score(rows)("buyer", "S1")
    assert ("small_corridor_payments" in got.strength) is counted
    if counted:
        assert got.value["small_corridor_payments"] == 1


def test_corridors_are_a_parameter(score) -> None:
    rows = [payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", beneficiary_country="FR",
                    sender_country="DE")]
    got = score(rows, params=["high_risk_corridors=FR,PH"])("buyer", "S1")
    assert got.value["small_corridor_payments"] == 1


@pytest.mark.parametrize("sender,beneficiary,tie", [
    ("Juan DELA CRUZ", "Maria Dela Cruz", True),
    ("Juan DELA CRUZ", "Maria delacruz", True),
    ("Ana GARCIA LOPEZ", "Pedro Lopez", True),     # compound surname shares a word
    ("Martin Dubois", "Maria Santos", False),
    ("Martin Dubois", "Dubois-Martin Lea", False),  # a hyphenated double name stays one word
])
def test_unrelated_beneficiaries_cope_with_particles(score, sender, beneficiary, tie) -> None:
    # Two payees of that name: "several" starts above one.
    rows = [payment(i, "S1", f"B{i}", "2024-03-07T12:00:00+01:00", sender_name=sender,
                    beneficiary_name=beneficiary) for i in range(2)]
    got = score(rows)("buyer", "S1")
    assert ("unrelated_beneficiaries" in got.strength) is (not tie)


def test_family_tie_does_not_count_a_domestic_payee(score) -> None:
    rows = [payment(i, "S1", f"B{i}", "2024-03-07T12:00:00+01:00", beneficiary_country="FR",
                    beneficiary_name="Maria Santos") for i in range(2)]
    assert "unrelated_beneficiaries" not in score(rows)("buyer", "S1").strength


@pytest.mark.parametrize("description,cover,handle", [
    ("family support", True, False),
    ("  Family Support ", True, False),
    ("medical bills", True, False),
    ("@jen_22", False, True),
    ("gift", False, False),
    ("", False, False),
])
def test_cover_descriptions_and_handles(score, description, cover, handle) -> None:
    rows = [payment(i, "S1", "B1", f"2024-03-0{i + 1}T12:00:00+01:00", description=description,
                    txn_id=f"T{i}") for i in range(2)]
    got = score(rows)("buyer", "S1")
    assert ("cover_descriptions" in got.strength) is cover
    assert ("handle_descriptions" in got.strength) is handle


@pytest.mark.parametrize("amount,currency,is_round", [
    ("25.00", "EUR", True), ("25.50", "EUR", False), ("3000.00", "PHP", True),
    ("27.00", "USD", False)])
def test_round_amounts_in_their_own_currency(score, amount, currency, is_round) -> None:
    rows = [payment(i, "S1", "B1", f"2024-03-0{i + 1}T12:00:00+01:00", amount=amount,
                    currency=currency, txn_id=f"T{i}") for i in range(3)]
    got = score(rows)("buyer", "S1")
    assert ("round_amounts" in got.strength) is is_round


def test_bursts_count_payments_within_seven_days(score) -> None:
    days = ["2024-03-01", "2024-03-03", "2024-03-07", "2024-03-20"]
    rows = [payment(i, "S1", "B1", f"{d}T12:00:00+01:00", txn_id=f"T{i}")
            for i, d in enumerate(days)]
    got = score(rows)("buyer", "S1")
    assert got.value["bursts"] == 3  # 1st, 3rd and 7th of March (6 days apart)


def test_no_burst_when_payments_are_a_month_apart(score) -> None:
    rows = [payment(i, "S1", "B1", f"2024-{i + 1:02d}-01T12:00:00+01:00", txn_id=f"T{i}")
            for i in range(6)]
    got = score(rows)("buyer", "S1")
    assert "bursts" not in got.strength
    assert "irregular_rhythm" not in got.strength  # a monthly rhythm is not irregular


def test_irregular_rhythm_fires_on_scattered_gaps(score) -> None:
    days = ["2024-01-01", "2024-01-02", "2024-01-25", "2024-01-27", "2024-03-20",
            "2024-03-21"]
    rows = [payment(i, "S1", "B1", f"{d}T12:00:00+01:00", txn_id=f"T{i}")
            for i, d in enumerate(days)]
    got = score(rows)("buyer", "S1")
    assert got.strength["irregular_rhythm"] > 0.5


def test_new_beneficiaries_after_thirty_days(score) -> None:
    rows = [payment(1, "S1", "B1", "2024-01-01T12:00:00+01:00", txn_id="T1"),
            payment(2, "S1", "B2", "2024-01-10T12:00:00+01:00", txn_id="T2"),  # 9 days: not new
            payment(3, "S1", "B3", "2024-02-15T12:00:00+01:00", txn_id="T3")]  # 45 days: new
    got = score(rows)("buyer", "S1")
    assert got.value["new_beneficiaries"] == 1


def test_escalation_fires_on_rising_amounts_and_frequency(score) -> None:
    days = ["2024-01-01", "2024-02-20", "2024-03-20", "2024-04-05", "2024-04-15",
            "2024-04-20", "2024-04-24"]
    rows = [payment(i, "S1", "B1", f"{d}T12:00:00+01:00", amount=f"{20 + 10 * i}.00",
                    txn_id=f"T{i}") for i, d in enumerate(days)]
    got = score(rows)("buyer", "S1")
    assert got.strength["escalation"] == pytest.approx(1.0)


def test_escalation_stays_quiet_on_level_payments(score) -> None:
    rows = [payment(i, "S1", "B1", f"2024-{i + 1:02d}-15T12:00:00+01:00", amount="30.00",
                    txn_id=f"T{i}") for i in range(8)]
    got = score(rows)("buyer", "S1")
    assert "escalation" not in got.strength


def test_escalation_needs_three_payments(score) -> None:
    rows = [payment(i, "S1", "B1", f"2024-0{i + 1}-15T12:00:00+01:00", amount=f"{10 + 40 * i}",
                    txn_id=f"T{i}") for i in range(2)]
    assert "escalation" not in score(rows)("buyer", "S1").strength


def test_foreign_unrelated_senders_of_a_beneficiary(score) -> None:
    names = ["Martin Dubois", "John Smith", "Hans Muller", "Jan Jansen", "Maria Santos"]
    countries = ["FR", "GB", "DE", "NL", "PH"]  # the last one is family, at home
    rows = [payment(i, f"S{i}", "B1", "2024-03-07T12:00:00+01:00", sender_name=n,
                    sender_country=c, beneficiary_name="Ana Santos", txn_id=f"T{i}")
            for i, (n, c) in enumerate(zip(names, countries, strict=True))]
    got = score(rows)("facilitator", "B1")
    assert got.value["foreign_unrelated_senders"] == 4


def test_senders_night_and_small_amounts_received(score) -> None:
    rows = [payment(i, f"S{i}", "B1", f"2024-03-0{i + 1}T23:30:00+01:00", amount="20.00",
                    txn_id=f"T{i}") for i in range(4)]
    got = score(rows)("facilitator", "B1")
    assert got.value["senders_night_share"] == 1.0
    assert got.value["small_received_share"] == 1.0


def test_several_names_behind_one_phone(score) -> None:
    rows = [
        payment(1, "S1", "B1", "2024-03-07T12:00:00+01:00", beneficiary_name="Ana Santos",
                beneficiary_phone="+639171234567", beneficiary_account="A1"),
        payment(2, "S2", "B2", "2024-03-07T12:00:00+01:00", beneficiary_name="Rosa Santos",
                beneficiary_phone="0917 123 4567", beneficiary_account="A2"),
        payment(3, "S3", "B3", "2024-03-07T12:00:00+01:00", beneficiary_name="Lea Cruz",
                beneficiary_phone="+639179999999", beneficiary_account="A2"),
        # Same name, same phone, another record: a re-registration, not another name.
        payment(4, "S4", "B4", "2024-03-07T12:00:00+01:00", beneficiary_name="Lea Cruz",
                beneficiary_phone="+639179999999", beneficiary_account="A4"),
    ]
    scored = score(rows)
    assert scored("facilitator", "B1").value["shared_identifiers"] == 1
    assert scored("facilitator", "B2").value["shared_identifiers"] == 2  # phone and account
    assert "phone +639171234567 with ana santos" in scored("facilitator", "B2").reasons
    assert scored("facilitator", "B3").value["shared_identifiers"] == 1  # rosa, by account
    assert "shared_identifiers" not in scored("facilitator", "B4").strength
