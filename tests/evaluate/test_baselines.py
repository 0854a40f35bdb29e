"""The baselines on a hand-made warehouse: the rule counts exactly, the forest is stable."""

from __future__ import annotations

import math

import pytest

from sentinelle.evaluate.baselines import FEATURES, features, forest_scores, rule_scores
from sentinelle.ingest import ingest_paths
from tests.conftest import txn

P = "ExampleRemit"

# (sender, beneficiary, beneficiary country, EUR, timestamp or "" for the default)
PAYMENTS = [
    ("S1", "B1", "PH", "50.00", ""),
    ("S1", "B1", "PH", "50.00", ""),
    ("S1", "B2", "PH", "99.99", ""),
    ("S1", "B1", "PH", "150.00", ""),  # too large for the rule
    ("S1", "B3", "FR", "50.00", ""),  # not one of the four countries
    ("S2", "B4", "TH", "100.00", "2024-03-01T12:00:00+00:00"),  # EUR 100 itself counts
    ("S2", "B4", "TH", "100", "2024-03-03T12:00:00+00:00"),
    ("S2", "B5", "CO", "100.01", "2024-03-05T12:00:00+00:00"),
    ("S3", "B6", "RO", "20.00", "2024-03-07T07:30:00+08:00"),  # 23:30 UTC, 07:30 local: day
    ("S4", "B7", "GH", "20.00", "2024-03-07T05:30:00+08:00"),  # 21:30 UTC, 05:30 local: night
]
RULE = {
    "buyer": {"S1": 3, "S2": 2, "S3": 1, "S4": 0},
    "facilitator": {"B1": 2, "B2": 1, "B3": 0, "B4": 2, "B5": 0, "B6": 1, "B7": 0},
}


@pytest.fixture
def payments(wh, make_csv):
    rows = [txn(i, sender_id=s, beneficiary_id=b, beneficiary_country=c, amount=eur,
                **({"timestamp": ts} if ts else {}))
            for i, (s, b, c, eur, ts) in enumerate(PAYMENTS, start=1)]
    [report] = ingest_paths(wh, "transactions", [make_csv("t.csv", rows)], user="tester")
    assert report.accepted == len(PAYMENTS)
    return wh


@pytest.mark.parametrize("role", ["buyer", "facilitator"])
def test_rule_counts_small_payments_to_the_four_countries(payments, role):
    assert rule_scores(payments, role) == {(P, k): float(v) for k, v in RULE[role].items()}


def test_features_of_a_sender(payments):
    parties, matrix = features(payments, "buyer")
    assert parties == [(P, s) for s in ("S1", "S2", "S3", "S4")]
    row = {s: dict(zip(FEATURES, matrix[i], strict=True)) for i, (_, s) in enumerate(parties)}
    assert row["S1"]["payments"] == 5 and row["S1"]["counterparts"] == 3
    assert row["S1"]["countries"] == 2 and row["S1"]["corridor_share"] == pytest.approx(0.8)
    assert row["S2"]["total_eur"] == pytest.approx(300.01)
    assert row["S2"]["median_eur"] == pytest.approx(100.0)
    assert row["S2"]["mean_gap_days"] == pytest.approx(2.0)
    assert row["S2"]["active_days"] == 3 and row["S2"]["night_share"] == 0
    assert row["S3"]["night_share"] == 0 and row["S4"]["night_share"] == 1  # local hour
    assert row["S3"]["mean_gap_days"] == 0  # one payment: no gap


def test_features_of_a_beneficiary(payments):
    parties, matrix = features(payments, "facilitator")
    row = dict(zip((b for _, b in parties), matrix, strict=True))
    b4 = dict(zip(FEATURES, row["B4"], strict=True))
    assert b4["payments"] == 2 and b4["counterparts"] == 1 and b4["corridor_share"] == 1


@pytest.mark.parametrize("role", ["buyer", "facilitator"])
def test_forest_scores_every_party_once_and_the_same_each_time(payments, role):
    first, second = forest_scores(payments, role), forest_scores(payments, role)
    assert set(first) == {(P, k) for k in RULE[role]}
    assert first == second
    assert all(math.isfinite(v) for v in first.values())


def test_baselines_of_an_empty_warehouse(wh):
    assert rule_scores(wh, "buyer") == {} and forest_scores(wh, "buyer") == {}
