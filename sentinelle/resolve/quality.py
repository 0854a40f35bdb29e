"""How good the clusters are, against a truth that says which person is behind each record.

Pairwise precision and recall count pairs of records put together; B-cubed averages, over
records, how much of a record's cluster is the same person (precision) and how much of its
person its cluster holds (recall); the adjusted Rand index sums it up, 0 for chance and 1
for perfect. Records the truth does not know are left out.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# truth.csv's side → the record kind.
_KIND = {"sender": "sender", "beneficiary": "beneficiary", "referral": "referral"}


@dataclass(frozen=True)
class ClusterQuality:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    bcubed_precision: float
    bcubed_recall: float
    adjusted_rand: float

    @property
    def pairwise_f1(self) -> float:
        p, r = self.pairwise_precision, self.pairwise_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def cluster_quality(predicted: dict[str, str], truth: dict[str, str]) -> ClusterQuality:
    """Compare ``predicted`` (record → cluster) with ``truth`` (record → person)."""
    records = sorted(set(predicted) & set(truth))
    both = Counter((predicted[r], truth[r]) for r in records)
    clusters = Counter(predicted[r] for r in records)
    people = Counter(truth[r] for r in records)
    correct = sum(_pairs(n) for n in both.values())
    pred = sum(_pairs(n) for n in clusters.values())
    true = sum(_pairs(n) for n in people.values())
    n = len(records)
    b_precision = sum(k * k / clusters[c] for (c, _), k in both.items()) / n if n else 1.0
    b_recall = sum(k * k / people[p] for (_, p), k in both.items()) / n if n else 1.0
    total = _pairs(n)
    expected = pred * true / total if total else 0.0
    top = (pred + true) / 2 - expected
    ari = (correct - expected) / top if top else 1.0
    return ClusterQuality(
        records=n, true_pairs=true, predicted_pairs=pred, correct_pairs=correct,
        pairwise_precision=correct / pred if pred else 1.0,
        pairwise_recall=correct / true if true else 1.0,
        bcubed_precision=b_precision, bcubed_recall=b_recall, adjusted_rand=ari,
    )


def world_truth(world: Path, records: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The person behind each record of a synthetic world: ``records`` maps record id to
    (kind, source id), which truth.csv keys by side and party id."""
    with (world / "truth.csv").open(encoding="utf-8", newline="") as fh:
        person = {(_KIND[row["side"]], row["party_id"]): row["person_id"]
                  for row in csv.DictReader(fh) if row["side"] in _KIND}
    return {rid: person[key] for rid, key in records.items() if key in person}


# The fields of a record ``name_only_tips`` reads (er_records' columns).
TIP_FIELDS = ("record_id", "kind", "surname", "given", "birth_date", "phone", "email",
              "account", "country", "side", "near")


def name_only_tips(records: Iterable[Mapping[str, Any]], truth: dict[str, str]) -> set[str]:
    """The referrals no field can place: a tip whose only clue is a name that another
    person's payment record in its country also carries, or one slip from it.

    Such a tip carries no phone, email or account; its birth date, if any, is on none of
    its person's payment records (a payee's record has none); and a payment record of
    another person in the tip's country, on the tip's side where it names one, has its
    surname and its given name (or that name's initial, or none) -- or, for a name
    nobody carries, is one slip from it (``near``) -- with no birth date that
    contradicts the tip's. Which of the namesakes it is about, nothing in the records
    says: an upper bound on recall for any resolver that does not guess. ``records``:
    er_records rows (at least TIP_FIELDS); ``truth``: record → person, as
    ``world_truth`` gives."""
    rows = [r for r in records if r["record_id"] in truth]
    by_id = {r["record_id"]: r for r in rows}
    paid: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    dates: dict[str, set[str]] = {}
    for r in rows:
        if r["kind"] != "referral":
            paid.setdefault((r["country"], r["surname"]), []).append(r)
            if r["birth_date"]:
                dates.setdefault(truth[r["record_id"]], set()).add(r["birth_date"])
    out = set()
    for tip in rows:
        if (tip["kind"] != "referral" or tip["surname"] is None or tip["phone"]
                or tip["email"] or tip["account"]):
            continue
        person, born, given = truth[tip["record_id"]], tip["birth_date"], tip["given"] or ""
        if born and born in dates.get(person, ()):
            continue
        namesakes = [o for o in paid.get((tip["country"], tip["surname"]), ())
                     if not given or o["given"] == given
                     or (len(given) == 1 and (o["given"] or "").startswith(given))]
        namesakes += [by_id[r] for r in tip.get("near") or () if r in by_id
                      and by_id[r]["kind"] != "referral"]
        if any(truth[o["record_id"]] != person and tip["side"] in (None, o["kind"])
               and not (born and o["birth_date"] and o["birth_date"] != born)
               for o in namesakes):
            out.add(tip["record_id"])
    return out


def with_name_only_tips(predicted: dict[str, str], truth: dict[str, str],
                        records: Iterable[Mapping[str, Any]]
                        ) -> tuple[ClusterQuality, int, float]:
    """The clusters' quality, how many true pairs hold a name-only tip
    (``name_only_tips`` over ``records``), and the recall over the other true pairs."""
    held, recall = recall_without(predicted, truth, name_only_tips(records, truth))
    return cluster_quality(predicted, truth), held, recall


def recall_without(predicted: dict[str, str], truth: dict[str, str],
                   left_out: set[str]) -> tuple[int, float]:
    """How many true pairs hold one of the records ``left_out``, and the pairwise recall
    over the other true pairs."""
    people: dict[str, list[str]] = {}
    for r in sorted(set(predicted) & set(truth)):
        people.setdefault(truth[r], []).append(r)
    held = found = total = 0
    for members in people.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if a in left_out or b in left_out:
                    held += 1
                    continue
                total += 1
                found += predicted[a] == predicted[b]
    return held, found / total if total else 1.0
