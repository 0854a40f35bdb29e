"""Clusters from scored pairs and people's judgements: a human judgement outranks the
model.

The records are joined pair by pair with a union-find: first every pair judged the same
person, then the model's pairs at or above the threshold, most probable first. A pair
judged *not the same* is never joined, and no join is made that would put two records
judged not the same into one cluster through others (a cannot-link constraint). A pair
judged *unsure* is left to the model. Where people's judgements contradict each other
(A = B, B = C, but A ≠ C), the "same" judgements win and the contradiction is reported.

A referral never bridges: the model may put a referral with a sender or a beneficiary, but
not join two clusters that both hold payment records through a referral. A tip carrying a
name and a country matches every namesake; without this rule three men called James Smith,
each paying through his own account, became one subject through one referral about any
of them. Payment records are joined only by their own pairs (or by a person's judgement).

Two referrals are joined directly only where they agree on an identifier (a phone, an
email, an account, a birth date): two tips that share only a name and a country are as
often about two namesakes as about one man (at a million records, 58 in 100 such joins
were wrong), and each is placed with the payment cluster it matches on its own.

A subject id is ``subj-`` and 16 hex digits of the MD5 of the cluster's smallest record id:
the same records give the same id on every run (``DuckDBDialect.subject_id`` computes the
same digest in SQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SAME, NOT_SAME, UNSURE = "same", "not_same", "unsure"


def subject_id(record_id: str) -> str:
    return "subj-" + hashlib.md5(record_id.encode("utf-8")).hexdigest()[:16]


def pair(a: str, b: str) -> tuple[str, str]:
    """A pair of records in its one order (smaller id first)."""
    return (a, b) if a <= b else (b, a)


@dataclass
class Clustering:
    """Each record's subject, and how the clusters were made."""

    subjects: dict[str, str]
    # record -> "model", "judgement", "tip date", "name only" (a referral placed with
    # payment records by no pair agreeing on an identifier) or "alone"
    decided_by: dict[str, str]
    joined_by_judgement: int = 0
    joined_by_model: int = 0
    refused_by_judgement: int = 0  # model pairs over the threshold kept apart by people
    refused_bridges: int = 0  # a referral that would have joined two payment clusters
    ambiguous_referrals: int = 0  # referral clusters left alone between two candidates
    placed_by_date: int = 0  # referral clusters placed by when the tip arrived
    contradictions: list[tuple[str, str]] = field(default_factory=list)


REFERRAL_PREFIX = "referral:"
Span = tuple[datetime, datetime]  # (first, last): payments made, or tips received


class _UnionFind:
    def __init__(self, items: Iterable[str], seen: Mapping[str, Span]) -> None:
        self.parent = {x: x for x in items}
        # root -> the span of the cluster's payments, or of its referrals' arrivals
        self.span = {x: seen[x] for x in self.parent if x in seen}
        self.members: dict[str, set[str]] = {}  # root -> records with a cannot-link
        # root -> whether the cluster holds a payment record (not only referrals)
        self.payments = {x: not x.startswith(REFERRAL_PREFIX) for x in self.parent}
        # root -> how many referral records the cluster holds
        self.referrals = {x: int(x.startswith(REFERRAL_PREFIX)) for x in self.parent}

    def add(self, x: str) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.payments[x] = not x.startswith(REFERRAL_PREFIX)
            self.referrals[x] = int(x.startswith(REFERRAL_PREFIX))

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members.get(ra, ())) < len(self.members.get(rb, ())):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.payments[ra] = self.payments[ra] or self.payments.pop(rb, False)
        self.referrals[ra] += self.referrals.pop(rb, 0)
        if rb in self.span:
            theirs = self.span.pop(rb)
            ours = self.span.get(ra, theirs)
            self.span[ra] = (min(ours[0], theirs[0]), max(ours[1], theirs[1]))
        moved = self.members.pop(rb, set())
        if moved:
            self.members.setdefault(ra, set()).update(moved)


# A referral whose one candidate is a single payment cluster joins it from this
# probability, under the threshold (``_place_referrals``).
ONLY_CANDIDATE = 0.8
# A tip is about someone active when it arrives: from a month before their first payment
# to six months after their last (``_place_referrals``, among namesakes only).
TIP_LEAD, TIP_LAG = timedelta(days=30), timedelta(days=183)
# ... among namesakes the tip matches from this probability: what a name and a country
# alone score (0.85-0.90); a tip whose phone or email contradicts a namesake's scores
# under it, and is not placed by its date.
DATED_CANDIDATE = 0.85


def cluster_tables(records: pa.Table, pairs: pa.Table,
                   judgements: dict[tuple[str, str], str], threshold: float) -> Clustering:
    """``cluster`` over Arrow tables: ``records`` (record_id, first_seen, last_seen) and
    the model's ``pairs`` (record_id_l, record_id_r, match_probability, on_identifier)."""
    scored = list(zip(pairs.column("record_id_l").to_pylist(),
                      pairs.column("record_id_r").to_pylist(),
                      pairs.column("match_probability").to_pylist(), strict=True))
    lowest = lowest_probability(threshold)
    dated = {r for a, b, p in scored if p >= lowest for r in (a, b)}
    dated.update(r for judged in judgements for r in judged)
    known = pairs.column("on_identifier").to_pylist()
    named = {pair(a, b) for (a, b, p), on_id in zip(scored, known, strict=True)
             if p >= threshold and not on_id and a.startswith(REFERRAL_PREFIX)
             and b.startswith(REFERRAL_PREFIX)}
    identified = {pair(a, b) for (a, b, p), on_id in zip(scored, known, strict=True)
                  if p >= lowest and on_id
                  and a.startswith(REFERRAL_PREFIX) != b.startswith(REFERRAL_PREFIX)}
    return cluster(records.column("record_id").to_pylist(), scored, judgements, threshold,
                   spans(records, dated), named, identified)


def spans(records: pa.Table, among: Iterable[str] | None = None) -> dict[str, Span]:
    """Each record's (first_seen, last_seen) in a table of records, where known: payments
    made, a referral's arrival; only for the records ``among``, if given (a million
    records' dates as Python objects cost seconds; only those in a pair are read)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if among is not None:
        records = records.filter(pc.is_in(records.column("record_id"),
                                          value_set=pa.array(sorted(set(among)), pa.string())))
    return {r: (first, last) for r, first, last in zip(
        records.column("record_id").to_pylist(), records.column("first_seen").to_pylist(),
        records.column("last_seen").to_pylist(), strict=True)
        if first is not None and last is not None}


def lowest_probability(threshold: float) -> float:
    """The least probability of a pair that clustering reads (a referral's only
    candidate may join under the threshold)."""
    return min(threshold, ONLY_CANDIDATE)


def cluster(records: Iterable[str], pairs: Iterable[tuple[str, str, float]],
            judgements: dict[tuple[str, str], str], threshold: float,
            seen: Mapping[str, Span] | None = None,
            named: Collection[tuple[str, str]] = (),
            identified: Collection[tuple[str, str]] | None = None) -> Clustering:
    """Cluster ``records`` from the model's ``pairs`` (record, record, probability) and
    people's ``judgements`` (pair → same / not_same / unsure). ``seen``: each payment
    record's first and last payment, each referral's arrival (twice), where known.
    ``named``: pairs of referrals that agree on no identifier (``pair`` order), never
    joined directly. ``identified``: the pairs of a referral and a payment record that
    agree on one; a referral the model placed with payment records through none of them
    (nor through a person's judgement) is decided by "name only" — detection does not
    take it as a seed (``detect/linkage.py``). None: every placement is "model"."""
    uf = _UnionFind(records, seen or {})
    for a, b in judgements:
        uf.add(a)
        uf.add(b)
    apart: dict[str, set[str]] = {}
    for (a, b), verdict in judgements.items():
        if verdict == NOT_SAME:
            apart.setdefault(a, set()).add(b)
            apart.setdefault(b, set()).add(a)
    for x in apart:
        uf.members.setdefault(x, set()).add(x)
    out = Clustering({}, {})
    by_people: set[str] = set()
    for (a, b), verdict in sorted(judgements.items()):
        if verdict == SAME and uf.find(a) != uf.find(b):
            uf.union(a, b)
            out.joined_by_judgement += 1
            by_people.update((a, b))

    def kept_apart(a: str, b: str) -> bool:
        ra, rb = uf.find(a), uf.find(b)
        small, other = sorted((ra, rb), key=lambda r: len(uf.members.get(r, ())))
        return any(uf.find(y) == other for x in uf.members.get(small, ()) for y in apart[x])

    for (a, b), verdict in sorted(judgements.items()):
        if verdict == NOT_SAME and uf.find(a) == uf.find(b):
            out.contradictions.append((a, b))
    by_model: set[str] = set()

    def join(a: str, b: str) -> bool:
        judged = judgements.get((a, b))
        if judged == NOT_SAME or (judged != SAME and kept_apart(a, b)):
            out.refused_by_judgement += 1
            return False
        uf.union(a, b)
        out.joined_by_model += 1
        by_model.update((a, b))
        return True

    lowest = lowest_probability(threshold)
    ranked = sorted(((p, *pair(a, b)) for a, b, p in pairs if p >= lowest),
                    key=lambda t: (-t[0], t[1], t[2]))
    # Payment records with payment records, referrals with referrals: most probable first.
    placing: list[tuple[float, str, str]] = []
    for p, a, b in ranked:
        if a.startswith(REFERRAL_PREFIX) != b.startswith(REFERRAL_PREFIX):
            placing.append((p, a, b))
        elif p >= threshold and uf.find(a) != uf.find(b) and (a, b) not in named:
            join(a, b)
    by_date = _place_referrals(uf, placing, join, out, threshold)
    groups: dict[str, list[str]] = {}
    for x in uf.parent:
        groups.setdefault(uf.find(x), []).append(x)
    tied = None if identified is None else _tied(identified, judgements)
    for members in groups.values():
        sid = subject_id(min(members))
        by_name = tied is not None and _placed_by_name(members, tied)
        for x in members:
            out.subjects[x] = sid
            out.decided_by[x] = ("judgement" if x in by_people else
                                 "tip date" if x in by_date else
                                 "name only" if by_name and x.startswith(REFERRAL_PREFIX)
                                 and x in by_model else
                                 "model" if x in by_model else "alone")
    return out


def _tied(identified: Collection[tuple[str, str]],
          judgements: dict[tuple[str, str], str]) -> dict[str, set[str]]:
    """Referral → the payment records it agrees with on an identifier, or that a person
    judged the same."""
    out: dict[str, set[str]] = {}
    same = (p for p, verdict in judgements.items() if verdict == SAME)
    for a, b in (*identified, *same):
        if a.startswith(REFERRAL_PREFIX) != b.startswith(REFERRAL_PREFIX):
            ref, payment = (a, b) if a.startswith(REFERRAL_PREFIX) else (b, a)
            out.setdefault(ref, set()).add(payment)
    return out


def _placed_by_name(members: list[str], tied: dict[str, set[str]]) -> bool:
    """Whether a cluster holds referrals and payment records, and no referral of it is
    tied to one of its payment records by an identifier or a judgement."""
    refs = [x for x in members if x.startswith(REFERRAL_PREFIX)]
    if not refs or len(refs) == len(members):
        return False
    payments = set(members).difference(refs)
    return not any(tied.get(r, set()) & payments for r in refs)


def _place_referrals(uf: _UnionFind, placing: list[tuple[float, str, str]],
                     join: Callable[[str, str], bool], out: Clustering,
                     threshold: float) -> set[str]:
    """Put each cluster of referrals with the one payment cluster it matches, if one.

    A referral's candidates are the payment clusters its pairs reach from
    ``ONLY_CANDIDATE`` up. Where there is one, the referral joins it: a tip is about
    someone, most often someone who paid or was paid (three in four on the synthetic
    worlds), and a single namesake on the tip's side in the tip's country is then the
    likely one, though a name and a country alone score under the threshold. Where there
    are several (namesakes, for a tip carrying a name and a country), only those over the
    threshold count, and the referral joins the one that other agencies' referrals
    already point to, as the likelier subject of one more tip; otherwise the one it
    matches most probably. Where the fields cannot decide (the namesakes tie, or none is
    over the threshold), the tips' dates can: it joins the one namesake (matched from
    ``DATED_CANDIDATE``) who was paying or being paid when each of them arrived
    (``TIP_LEAD`` before the first payment to ``TIP_LAG`` after the last), counted in
    ``placed_by_date``. Otherwise it stays alone, left to a person (the review page),
    and counted in ``ambiguous_referrals``. Referral clusters are
    placed in the order of their best pair, so a tip placed by a phone or an email is
    counted before a tip with a name only. Returns the referral records placed by date."""
    best: dict[str, dict[str, tuple[float, str, str]]] = {}
    order: list[str] = []
    for p, a, b in placing:  # most probable first
        ref, payment = (a, b) if a.startswith(REFERRAL_PREFIX) else (b, a)
        rr = uf.find(ref)
        if uf.payments[rr]:
            continue  # placed by a person's judgement: never a bridge
        if rr not in best:
            best[rr] = {}
            order.append(rr)
        best[rr].setdefault(uf.find(payment), (p, ref, payment))
    by_date: set[str] = set()
    for rr in order:
        candidates: dict[str, tuple[float, str, str]] = {}
        for root, found in best[rr].items():
            now = uf.find(root)
            if now not in candidates or found[0] > candidates[now][0]:
                candidates[now] = found
        over = sum(1 for found in candidates.values() if found[0] >= threshold)
        if len(candidates) > 1 and over > 1:
            out.refused_bridges += over - 1
        ranked = _by_fields(uf, candidates, threshold)
        dated = ranked is None
        if ranked is None:
            tip = uf.span.get(uf.find(rr))
            active = [] if tip is None else [
                (root, found) for root, found in candidates.items()
                if found[0] >= DATED_CANDIDATE and _active(uf.span.get(root), tip)]
            if len(active) != 1:
                out.ambiguous_referrals += 1
                continue
            ranked = active
        for _root, (_p, ref, payment) in ranked:
            if join(ref, payment):
                if dated:
                    out.placed_by_date += 1
                    by_date.add(ref)
                break
    return by_date


def _by_fields(uf: _UnionFind, candidates: dict[str, tuple[float, str, str]],
               threshold: float) -> list[tuple[str, tuple[float, str, str]]] | None:
    """The candidates in the order a referral tries them, or None when the fields cannot
    choose among several: none over the threshold, or the first two tie."""
    if len(candidates) > 1:
        candidates = {r: f for r, f in candidates.items() if f[0] >= threshold}
        if not candidates:
            return None
    ranked = sorted(candidates.items(), key=lambda kv: (-uf.referrals[kv[0]], -kv[1][0]))
    if (len(ranked) > 1 and uf.referrals[ranked[0][0]] == uf.referrals[ranked[1][0]]
            and ranked[0][1][0] == ranked[1][1][0]):
        return None
    return ranked


def _active(payments: Span | None, tips: Span) -> bool:
    """Whether every tip of a referral cluster (from its first to its last) arrived while
    the payment cluster was active, or soon after."""
    return payments is not None and (payments[0] - TIP_LEAD <= tips[0]
                                     and tips[1] <= payments[1] + TIP_LAG)


__all__ = ["NOT_SAME", "SAME", "UNSURE", "Clustering", "Span", "cluster", "cluster_tables",
           "lowest_probability", "pair", "spans", "subject_id"]
