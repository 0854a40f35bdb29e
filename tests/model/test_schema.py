from __future__ import annotations

import pytest

from sentinelle.errors import ModelError
from sentinelle.model import load_table
from sentinelle.model.schema import _parse


def test_shipped_declarations_load():
    t = load_table("transactions")
    assert t.required == ["txn_id", "timestamp", "amount", "currency", "sender_id",
                          "sender_country", "beneficiary_id", "beneficiary_country"]
    assert load_table("referrals").key == ("source", "referral_id")


def test_a_broken_declaration_lists_every_problem():
    data = {"name": "x", "title": "X", "description": "d", "key": ["nope"], "fields": [
        {"name": "a", "type": "wat", "description": "d", "example": "e"},
        {"name": "b", "type": "enum", "description": "d", "example": "e"},
        {"name": "c"},
    ]}
    with pytest.raises(ModelError) as info:
        _parse("x", data)
    text = str(info.value)
    for fragment in ("unknown type 'wat'", "lists no values", "lacks type", "'nope'"):
        assert fragment in text


def test_unknown_table():
    with pytest.raises(ModelError):
        load_table("payments")
