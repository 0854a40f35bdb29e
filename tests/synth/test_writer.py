"""Every transaction row is valid canonical input, written as RFC 4180 CSV."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import pycountry

from sentinelle.synth.writer import PROVIDER
from tests.synth.conftest import Loaded

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
AMOUNT = re.compile(r"^\d+\.\d{2}$")


def test_every_row_is_canonical(world: Loaded) -> None:
    from sentinelle.model import load_table

    table = load_table("transactions")
    channels = set(table.field("channel").values)
    countries = {c.alpha_2 for c in pycountry.countries}
    currencies = {c.alpha_3 for c in pycountry.currencies}
    path = world.summary.paths["transactions.csv"]
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for name in table.required:
                assert row[name], (name, row)
            assert TIMESTAMP.match(row["timestamp"]), row["timestamp"]
            when = datetime.fromisoformat(row["timestamp"])
            assert "2024-01-01" <= row["timestamp"][:10] <= "2025-12-31"
            assert when.utcoffset() is not None
            assert AMOUNT.match(row["amount"]) and float(row["amount"]) > 0
            assert row["currency"] in currencies
            assert row["channel"] in channels
            assert row["sender_country"] in countries
            assert row["beneficiary_country"] in countries
            assert row["provider"] == PROVIDER
            for key in ("sender_email",):
                assert not row[key] or re.match(r"^[a-z0-9._]+@example\.(org|com|net)$",
                                                row[key]), row[key]


def test_timestamps_are_ordered_and_ids_unique(world: Loaded) -> None:
    assert world.one("SELECT count(DISTINCT txn_id) = count(*) FROM transactions")
    out_of_order = world.one("""
        SELECT count(*) FROM (
            SELECT CAST(timestamp AS TIMESTAMPTZ) AS ts,
                   lag(CAST(timestamp AS TIMESTAMPTZ)) OVER (ORDER BY txn_id) AS prev
            FROM transactions) WHERE ts < prev""")
    assert out_of_order == 0


def test_currency_follows_the_sender_country(world: Loaded) -> None:
    pairs = dict(world.rows("SELECT DISTINCT sender_country, currency FROM transactions"))
    assert pairs.get("FR") == "EUR" and pairs.get("GB") == "GBP" and pairs.get("AU") == "AUD"
    assert world.one("SELECT count(DISTINCT currency) FROM transactions "
                     "GROUP BY sender_country ORDER BY 1 DESC LIMIT 1") == 1


def test_quoting_only_where_needed(world: Loaded) -> None:
    text = world.summary.paths["transactions.csv"].read_text(encoding="utf-8")
    # Descriptions with a comma ("rent, bills") are quoted; plain fields are not.
    assert '"rent, bills"' in text or '"school fees, uniform"' in text
    assert ',"remittance",' not in text
