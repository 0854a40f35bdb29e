"""Clustering from the model's pairs and people's judgements (resolve/clusters.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import duckdb
import pytest

from sentinelle.resolve.clusters import NOT_SAME, SAME, UNSURE, cluster, pair, subject_id
from sentinelle.warehouse.dialect import DUCKDB

RECORDS = ["a", "b", "c", "d", "e"]


def groups(result) -> set[frozenset[str]]:
    found: dict[str, set[str]] = {}
    for record, subject in result.subjects.items():
        found.setdefault(subject, set()).add(record)
    return {frozenset(g) for g in found.values()}


CASES = [
    ("the model's pairs over the threshold, joined transitively",
     [("a", "b", 0.95), ("b", "c", 0.91), ("d", "e", 0.5)], {},
     {frozenset("abc"), frozenset("d"), frozenset("e")}),
    ("a pair judged the same is joined whatever the model says",
     [("d", "e", 0.1)], {("d", "e"): SAME},
     {frozenset("a"), frozenset("b"), frozenset("c"), frozenset("de")}),
    ("a pair judged not the same is kept apart whatever the model says",
     [("a", "b", 0.999)], {("a", "b"): NOT_SAME},
     {frozenset("a"), frozenset("b"), frozenset("c"), frozenset("d"), frozenset("e")}),
    ("records judged apart are not joined through a third record",
     [("a", "c", 0.99), ("b", "c", 0.95)], {("a", "b"): NOT_SAME},
     {frozenset("ac"), frozenset("b"), frozenset("d"), frozenset("e")}),
    ("the more probable pair wins the third record",
     [("a", "c", 0.92), ("b", "c", 0.97)], {("a", "b"): NOT_SAME},
     {frozenset("bc"), frozenset("a"), frozenset("d"), frozenset("e")}),
    ("unsure leaves the pair to the model",
     [("a", "b", 0.95), ("c", "d", 0.5)], {("a", "b"): UNSURE, ("c", "d"): UNSURE},
     {frozenset("ab"), frozenset("c"), frozenset("d"), frozenset("e")}),
]


@pytest.mark.parametrize(("why", "pairs", "judged", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_clusters(why: str, pairs, judged, expected) -> None:
    assert groups(cluster(RECORDS, pairs, judged, 0.9)) == expected, why


def test_contradicting_judgements_are_reported_and_same_wins() -> None:
    judged = {("a", "b"): SAME, ("b", "c"): SAME, ("a", "c"): NOT_SAME}
    result = cluster(RECORDS, [], judged, 0.9)
    assert frozenset("abc") in groups(result)
    assert result.contradictions == [("a", "c")]


def test_counts_say_who_decided() -> None:
    result = cluster(RECORDS, [("a", "b", 0.99), ("c", "d", 0.95), ("d", "e", 0.2)],
                     {("c", "d"): NOT_SAME, ("d", "e"): SAME}, 0.9)
    assert (result.joined_by_model, result.joined_by_judgement,
            result.refused_by_judgement) == (1, 1, 1)
    assert result.decided_by == {"a": "model", "b": "model", "c": "alone",
                                 "d": "judgement", "e": "judgement"}


def test_subject_ids_are_stable_and_match_sql() -> None:
    first = cluster(RECORDS, [("b", "a", 0.95)], {}, 0.9)
    again = cluster(list(reversed(RECORDS)), [("a", "b", 0.97)], {}, 0.9)
    assert first.subjects == again.subjects
    assert first.subjects["a"] == first.subjects["b"] == subject_id("a")
    record = "sender:Prov é:1"
    with duckdb.connect() as con:
        sql = con.execute(f"SELECT {DUCKDB.subject_id('?')}", [record]).fetchone()
    assert sql == (subject_id(record),)
    assert subject_id(record)[5:] == hashlib.md5(record.encode()).hexdigest()[:16]


def test_pair_order() -> None:
    assert pair("b", "a") == pair("a", "b") == ("a", "b")


def test_a_referral_never_bridges_two_payment_clusters() -> None:
    """A tip with a name and a country matches every namesake: it joins the most probable
    one, and does not make the others the same man."""
    records = ["referral:Interpol:1", "sender:A:1", "sender:B:2", "referral:FBI:9"]
    pairs = [("referral:Interpol:1", "sender:A:1", 0.97),
             ("referral:Interpol:1", "sender:B:2", 0.95),
             ("referral:FBI:9", "referral:Interpol:1", 0.99)]
    result = cluster(records, pairs, {}, 0.9)
    assert groups(result) == {frozenset({"referral:Interpol:1", "sender:A:1", "referral:FBI:9"}),
                              frozenset({"sender:B:2"})}
    assert result.refused_bridges == 1
    # Payment records joined by their own pair, and a person's judgement, still join.
    direct = cluster(records, [*pairs, ("sender:A:1", "sender:B:2", 0.93)], {}, 0.9)
    assert len(groups(direct)) == 1
    judged = cluster(records, pairs, {("referral:Interpol:1", "sender:B:2"): SAME}, 0.9)
    assert frozenset({"referral:Interpol:1", "sender:B:2"}) <= max(groups(judged), key=len)


R1, R2, R3 = "referral:NCMEC:1", "referral:HSI:2", "referral:Interpol:3"
S1, S2, S3 = "sender:A:1", "sender:A:2", "sender:A:3"


@pytest.mark.parametrize(("why", "pairs", "expected", "ambiguous"), [
    ("a tip's one candidate, under the threshold but not under ONLY_CANDIDATE, takes it",
     [(R1, S1, 0.85)], {frozenset({R1, S1})}, 0),
    ("one candidate under ONLY_CANDIDATE stays apart",
     [(R1, S1, 0.7)], set(), 0),
    ("two namesakes under the threshold: neither, left to a person",
     [(R1, S1, 0.85), (R1, S2, 0.85)], set(), 1),
    ("of two namesakes, the one over the threshold",
     [(R1, S1, 0.85), (R1, S2, 0.92)], {frozenset({R1, S2})}, 0),
    ("of two namesakes over the threshold, the one another agency's tip points to",
     [(R1, S1, 0.92), (R1, S2, 0.95), (R2, S1, 0.99)], {frozenset({R1, R2, S1})}, 0),
    ("of two namesakes neither referred, the more probable",
     [(R1, S1, 0.92), (R1, S2, 0.95)], {frozenset({R1, S2})}, 0),
    ("two namesakes alike in every way: left to a person",
     [(R1, S1, 0.92), (R1, S2, 0.92)], set(), 1),
    ("a cluster of tips (a phone and a name) with its payer's cluster",
     [(R1, R3, 0.99), (R3, S3, 0.83), (S3, S2, 0.97)], {frozenset({R1, R3, S2, S3})}, 0),
])
def test_where_a_referral_goes(why: str, pairs, expected: set[frozenset[str]],
                               ambiguous: int) -> None:
    result = cluster([R1, R2, R3, S1, S2, S3], pairs, {}, 0.9)
    assert {g for g in groups(result) if len(g) > 1} == expected, why
    assert result.ambiguous_referrals == ambiguous, why


def _day(n: int) -> datetime:
    return datetime(2024, 1, 1) + timedelta(days=n)


# S1 paid from day 0 to day 100; S2 from day 400 to day 500; S3 from day 380 to day 700.
SEEN = {S1: (_day(0), _day(100)), S2: (_day(400), _day(500)), S3: (_day(380), _day(700))}


@pytest.mark.parametrize(("why", "received", "pairs", "expected"), [
    ("two namesakes under the threshold: the one paying when the tip arrived",
     {R1: 450}, [(R1, S1, 0.85), (R1, S2, 0.85)], {frozenset({R1, S2})}),
    ("within six months of the last payment still counts",
     {R1: 100 + 150}, [(R1, S1, 0.85), (R1, S2, 0.85)], {frozenset({R1, S1})}),
    ("a month before the first payment counts; the other namesake's long gone",
     {R1: 400 - 20}, [(R1, S1, 0.85), (R1, S2, 0.85)], {frozenset({R1, S2})}),
    ("two namesakes alike in every way over the threshold: the date decides",
     {R1: 50}, [(R1, S1, 0.92), (R1, S2, 0.92)], {frozenset({R1, S1})}),
    ("both namesakes active when the tip arrived: left to a person",
     {R1: 450}, [(R1, S2, 0.85), (R1, S3, 0.85)], set()),
    ("neither active (the tip came long after both): left to a person",
     {R1: 820 + 200}, [(R1, S1, 0.85), (R1, S2, 0.85)], set()),
    ("no date known for the tip: left to a person",
     {}, [(R1, S1, 0.85), (R1, S2, 0.85)], set()),
    ("a tip whose phone contradicts the active namesake's (under DATED_CANDIDATE): alone",
     {R1: 450}, [(R1, S1, 0.85), (R1, S2, 0.81)], set()),
    ("the fields decide before the date: the namesake over the threshold",
     {R1: 450}, [(R1, S1, 0.92), (R1, S2, 0.85)], {frozenset({R1, S1})}),
])
def test_a_tips_date_chooses_among_namesakes_the_fields_cannot_tell_apart(
        why: str, received: dict[str, int], pairs, expected: set[frozenset[str]]) -> None:
    seen = {**SEEN, **{r: (_day(d), _day(d)) for r, d in received.items()}}
    result = cluster([R1, R2, R3, S1, S2, S3], pairs, {}, 0.9, seen)
    assert {g for g in groups(result) if len(g) > 1} == expected, why
    by_date = int(bool(expected) and received and pairs[0][2] == pairs[1][2])
    assert result.placed_by_date == by_date, why
    assert result.ambiguous_referrals == int(not expected), why
    assert result.decided_by[R1] == ("tip date" if by_date else "model" if expected
                                     else "alone"), why


def test_every_tip_of_a_referral_cluster_must_fall_in_the_namesakes_activity() -> None:
    """Two tips about one woman (one phone), at days 20 and 690: S3 (days 380-700) was
    active at the second only, S1 (0-100) at the first only; S2's span (0-700, two
    records of hers) holds both."""
    seen = {S1: (_day(0), _day(100)), S2: (_day(0), _day(700)), S3: (_day(380), _day(700)),
            R1: (_day(20), _day(20)), R2: (_day(690), _day(690))}
    pairs = [(R1, R2, 0.99), (R1, S1, 0.85), (R1, S2, 0.85), (R1, S3, 0.85)]
    result = cluster([R1, R2, S1, S2, S3], pairs, {}, 0.9, seen)
    assert {g for g in groups(result) if len(g) > 1} == {frozenset({R1, R2, S2})}
    assert result.placed_by_date == 1


def test_a_payment_clusters_span_is_its_records_together() -> None:
    """S1 and S2 are one man (their own pair): his span runs from S1's first payment to
    S2's last, so a tip at day 300 is within it; S3's namesake is not (his span starts
    later and the tip is more than a month before it)."""
    seen = {S1: (_day(0), _day(100)), S2: (_day(250), _day(280)), S3: (_day(600), _day(700)),
            R1: (_day(300), _day(300))}
    pairs = [(S1, S2, 0.97), (R1, S1, 0.85), (R1, S3, 0.85)]
    result = cluster([R1, S1, S2, S3], pairs, {}, 0.9, seen)
    assert {g for g in groups(result) if len(g) > 1} == {frozenset({R1, S1, S2})}


def test_two_tips_sharing_only_a_name_are_not_joined_directly() -> None:
    """R1 and R2 name "james smith" in one country, nothing else in common (``named``):
    each goes with the namesake it matches on its own, here S1 by its phone and S2 by its
    birth date, not both with the first. With an identifier in common they are joined."""
    pairs = [(R1, R2, 0.99), (R1, S1, 0.999), (R2, S2, 0.97)]
    apart = cluster([R1, R2, S1, S2], pairs, {}, 0.9, named={pair(R1, R2)})
    assert {g for g in groups(apart) if len(g) > 1} == {frozenset({R1, S1}),
                                                         frozenset({R2, S2})}
    together = cluster([R1, R2, S1, S2], pairs, {}, 0.9)
    assert {g for g in groups(together) if len(g) > 1} == {frozenset({R1, R2, S1})}
    # A person's judgement still joins them.
    judged = cluster([R1, R2, S1, S2], pairs, {pair(R1, R2): SAME}, 0.9, named={pair(R1, R2)})
    assert frozenset({R1, R2, S1}) <= max(groups(judged), key=len)


def test_cluster_tables_reads_which_referral_pairs_agree_on_an_identifier() -> None:
    import pyarrow as pa

    from sentinelle.resolve.clusters import cluster_tables

    records = pa.table({"record_id": [R1, R2, S1, S2], "first_seen": [None] * 4,
                        "last_seen": [None] * 4}, schema=pa.schema([
                            ("record_id", pa.string()), ("first_seen", pa.timestamp("us")),
                            ("last_seen", pa.timestamp("us"))]))
    rows = [(R2, R1, 0.99), (R1, S1, 0.999), (R2, S2, 0.97)]

    def grouped(on_identifier: list[bool]) -> set[frozenset[str]]:
        pairs = pa.table({"record_id_l": [a for a, _, _ in rows],
                          "record_id_r": [b for _, b, _ in rows],
                          "match_probability": [p for _, _, p in rows],
                          "on_identifier": on_identifier})
        result = cluster_tables(records, pairs, {}, 0.9)
        return {g for g in groups(result) if len(g) > 1}

    assert grouped([False, True, True]) == {frozenset({R1, S1}), frozenset({R2, S2})}
    assert grouped([True, True, True]) == {frozenset({R1, R2, S1})}


def test_a_tip_placed_by_its_name_alone_is_decided_by_name_only() -> None:
    """R1 and R2 share a phone (joined); R2 names S1 and nothing else agrees: the two tips
    are placed by a name. Where R1 agrees with S1 on an identifier (its birth date), or a
    person judged R2 and S1 the same, they are not."""
    pairs = [(R1, R2, 0.99), (R2, S1, 0.95), (R1, S1, 0.85)]
    records = [R1, R2, S1, S2]
    by_name = cluster(records, pairs, {}, 0.9, identified=set())
    assert frozenset({R1, R2, S1}) in groups(by_name)
    assert (by_name.decided_by[R1], by_name.decided_by[R2]) == ("name only", "name only")
    assert (by_name.decided_by[S1], by_name.decided_by[S2]) == ("model", "alone")
    tied = cluster(records, pairs, {}, 0.9, identified={pair(R1, S1)})
    assert (tied.decided_by[R1], tied.decided_by[R2]) == ("model", "model")
    judged = cluster(records, pairs, {pair(R2, S1): SAME}, 0.9, identified=set())
    assert (judged.decided_by[R1], judged.decided_by[R2]) == ("model", "judgement")
    # Not told which pairs agree on an identifier: every placement is the model's.
    assert cluster(records, pairs, {}, 0.9).decided_by[R2] == "model"


def test_cluster_tables_reads_which_tips_agree_with_a_payment_record() -> None:
    import pyarrow as pa

    from sentinelle.resolve.clusters import cluster_tables

    records = pa.table({"record_id": [R1, S1], "first_seen": [None] * 2,
                        "last_seen": [None] * 2}, schema=pa.schema([
                            ("record_id", pa.string()), ("first_seen", pa.timestamp("us")),
                            ("last_seen", pa.timestamp("us"))]))

    def decided(on_identifier: bool) -> str:
        pairs = pa.table({"record_id_l": [R1], "record_id_r": [S1],
                          "match_probability": [0.93], "on_identifier": [on_identifier]})
        return cluster_tables(records, pairs, {}, 0.9).decided_by[R1]

    assert (decided(False), decided(True)) == ("name only", "model")
