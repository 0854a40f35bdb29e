"""Which referrals detection takes as seeds: exact identifiers, and on subjects the
referrals resolution placed by more than a name."""

from __future__ import annotations

import duckdb

from sentinelle.detect.linkage import referral_matches_sql
from sentinelle.warehouse.dialect import DUCKDB


def _matches(decided_by: dict[str, str]) -> set[tuple[str, str, str]]:
    con = duckdb.connect()
    con.execute("""CREATE TABLE det_txn AS SELECT * FROM (VALUES
        ('subject', 'subj-s', 'john doe', DATE '1970-01-01', '+33600000001', NULL, NULL,
         'subj-a', 'maria reyes', '+639170000001', NULL),
        ('subject', 'subj-s', 'john doe', DATE '1970-01-01', '+33600000001', NULL, NULL,
         'subj-b', 'ana cruz', '+639170000002', NULL))
        AS t(provider, sender_id, sender_name, sender_birth_date, sender_phone, sender_email,
             sender_account, beneficiary_id, beneficiary_name, beneficiary_phone,
             beneficiary_account)""")
    con.execute("""CREATE TABLE referrals AS SELECT * FROM (VALUES
        ('CT-1', 'NCMEC', 'facilitator', 'maria reyes', NULL, NULL, NULL, NULL),
        ('CT-2', 'NCMEC', 'facilitator', 'ana cruz', NULL, NULL, NULL, NULL),
        ('CT-3', 'NCMEC', 'facilitator', 'maria reyes', NULL, NULL, '+639170000001', NULL))
        AS t(referral_id, source, subject_role, subject_name, subject_birth_date,
             subject_email, subject_phone, subject_account)""")
    con.execute("CREATE TABLE er_records (record_id VARCHAR, kind VARCHAR, source VARCHAR, "
                "source_id VARCHAR)")
    con.execute("CREATE TABLE er_clusters (record_id VARCHAR, subject_id VARCHAR, "
                "decided_by VARCHAR)")
    subject = {"CT-1": "subj-a", "CT-2": "subj-b", "CT-3": "subj-a"}
    for tip, how in decided_by.items():
        record = f"referral:NCMEC:{tip}"
        con.execute("INSERT INTO er_records VALUES (?, 'referral', 'NCMEC', ?)", [record, tip])
        con.execute("INSERT INTO er_clusters VALUES (?, ?, ?)", [record, subject[tip], how])
    rows = con.execute(referral_matches_sql(DUCKDB, resolved=True)).fetchall()
    return {(tip, party, how) for tip, _source, _role, _provider, party, how in rows}


def test_a_referral_placed_by_its_name_alone_is_not_a_seed() -> None:
    matched = _matches({"CT-1": "name only", "CT-2": "model", "CT-3": "tip date"})
    assert ("CT-2", "subj-b", "entity resolution") in matched
    assert not any(tip == "CT-1" for tip, _, _ in matched)
    # Placed by its date among namesakes: not through resolution; its phone still matches.
    assert {m for m in matched if m[0] == "CT-3"} == {("CT-3", "subj-a", "phone")}


def test_a_referral_a_person_placed_is_a_seed() -> None:
    matched = _matches({"CT-1": "judgement"})
    assert ("CT-1", "subj-a", "entity resolution") in matched
