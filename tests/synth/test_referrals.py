"""Referrals: partial, misspelt, re-ordered, some about absent people, some repeated."""

from __future__ import annotations

import numpy as np
import pytest

from sentinelle.synth.identities import typo
from sentinelle.synth.names import pools, strip_accents
from tests.synth.conftest import Loaded


def test_coverage_of_real_offenders(world: Loaded) -> None:
    # Brief: 20-40% of the true buyers and facilitators get at least one referral.
    referred, total = world.rows("""
        WITH offenders AS (
            SELECT DISTINCT person_id FROM truth
            WHERE side <> 'referral' AND role IN ('buyer', 'facilitator'))
        SELECT count(*) FILTER (person_id IN (SELECT person_id FROM truth
                                              WHERE side = 'referral')), count(*)
        FROM offenders""")[0]
    assert 0.2 <= referred / total <= 0.4


def test_some_people_are_referred_by_several_agencies(world: Loaded) -> None:
    rows = world.rows("""
        SELECT person_id, count(*), count(DISTINCT source) FROM referrals r
        JOIN truth t ON t.party_id = r.referral_id AND t.side = 'referral'
        GROUP BY 1 HAVING count(*) > 1""")
    assert rows
    assert all(n == sources for _, n, sources in rows)


def test_some_referrals_name_people_absent_from_the_data(world: Loaded) -> None:
    absent = world.rows("""
        SELECT role, cohort FROM truth WHERE side = 'referral' AND person_id NOT IN (
            SELECT person_id FROM truth WHERE side <> 'referral')""")
    assert absent
    assert {c for _, c in absent} <= {"absent_buyer", "absent_facilitator"}
    assert {r for r, _ in absent} <= {"buyer", "facilitator"}


def test_identifiers_are_partial_and_varied(world: Loaded) -> None:
    rows = world.rows("SELECT subject_name, subject_email, subject_phone, subject_account "
                      "FROM referrals")
    names = [r[0] for r in rows if r[0]]
    surnames = {strip_accents(s).upper() for s in pools().surnames}
    assert any(n.split()[0] in surnames or n.split()[0].isupper() for n in names)  # SURNAME Given
    assert any(r[0] is None and r[1] for r in rows)  # only an email
    assert any(r[0] is None and r[2] for r in rows)  # only a phone
    plain = {strip_accents(w).lower() for s in (*pools().first, *pools().surnames)
             for w in s.split()}
    assert any(any(strip_accents(w).lower().rstrip(".") not in plain and len(w) > 2
                   for w in n.split()) for n in names)  # a typo


def test_referral_phones_are_written_differently_from_the_export(world: Loaded) -> None:
    rows = world.rows("""
        SELECT r.referral_id, r.subject_phone, list(DISTINCT x.sender_phone)
        FROM referrals r
        JOIN truth t ON t.party_id = r.referral_id AND t.side = 'referral'
        JOIN truth s ON s.person_id = t.person_id AND s.side = 'sender'
        JOIN transactions x ON x.sender_id = s.party_id
        WHERE r.subject_phone IS NOT NULL
        GROUP BY ALL""")
    digits = lambda p: "".join(ch for ch in p if ch.isdigit())[-8:]  # noqa: E731
    same_number = [(tip, [p for p in export if digits(p) == digits(tip)])
                   for _, tip, export in rows]
    same_number = [(tip, export) for tip, export in same_number if export]
    assert same_number
    # The tip quotes one of the person's records in another style than that record's; a
    # twice-registered sender may write the number the tip's way on the other record.
    for tip, export in same_number:
        assert any(p != tip for p in export), (tip, export)


def test_roles_and_sources(world: Loaded) -> None:
    roles = {r for (r,) in world.rows("SELECT DISTINCT subject_role FROM referrals")}
    assert roles <= {"buyer", "facilitator", "unknown"}
    sources = {s for (s,) in world.rows("SELECT DISTINCT source FROM referrals")}
    assert "NCMEC" in sources or "FBI" in sources
    assert world.one("SELECT min(received_at) FROM referrals") >= "2024-01-01"
    assert world.one("SELECT max(received_at) FROM referrals") <= "2026-03-31"
    assert world.one("SELECT count(DISTINCT referral_id) = count(*) FROM referrals")


@pytest.mark.parametrize("seed", range(5))
def test_a_typo_changes_one_word_a_little(seed: int) -> None:
    rng = np.random.default_rng(seed)
    name = "Maricel Villanueva"
    slipped = typo(name, rng)
    assert slipped != name
    changed = [(a, b) for a, b in zip(name.split(), slipped.split(), strict=True) if a != b]
    assert len(changed) == 1
    assert abs(len(changed[0][0]) - len(changed[0][1])) <= 1
