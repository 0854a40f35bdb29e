"""``sentinelle mapping suggest``: the draft guesses columns by name and content."""

from __future__ import annotations

from pathlib import Path

import yaml

from sentinelle.ingest.mapfile import parse_mapping
from sentinelle.ingest.suggest import suggest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mappings"


def test_remittance_export_draft_is_a_valid_mapping():
    draft = yaml.safe_load(suggest(FIXTURES / "remit-export.csv"))
    f = draft["fields"]
    assert (f["txn_id"], f["amount"], f["currency"], f["timestamp"]) == (
        "Transaction No", "Send Amount", "Send Currency", "Created (local time)")
    assert (f["sender_phone"], f["beneficiary_country"]) == ("Sender Mobile", "Receiver Country")
    assert draft["dates"]["formats"] == ["%m/%d/%Y %I:%M %p"]  # 4 of 5 sampled dates parse
    assert parse_mapping(draft, "draft").customer == "sender"


def test_statement_draft_finds_cp1252_semicolons_decimal_comma_and_debit_credit():
    text = suggest(FIXTURES / "bank-statement.csv", skip_lines=2)
    draft = yaml.safe_load(text)
    assert draft["read"]["encoding"] == "cp1252" and draft["read"]["delimiter"] == ";"
    assert draft["numbers"]["decimal"] == ","
    assert draft["dates"]["formats"] == ["%d/%m/%Y"]  # day-first: 13 and above as the day
    assert draft["customer"] == "by_direction"
    assert draft["direction"] == {"debit": "Débit", "credit": "Crédit"}
    assert draft["fields"]["counterparty_account"] == "IBAN contrepartie"
    assert "not found, fill in" in text and "currency" in text  # said, not invented
