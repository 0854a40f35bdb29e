"""Subjects as the rest of the system sees them: one person behind many records.

Once ``sentinelle resolve`` has run, detection, the network, the queue, cases and exports
work on subjects. A subject is addressed like any party — ``(role, provider, party_id)``
— with the provider ``subject`` and the subject id (``subj-…``) as its id, so that every
table keyed by party keeps its shape: a facilitator collecting under three names is one
facilitator; a buyer paying through two providers is one buyer.

Detection reads the transactions through ``det_txn``, a view in which each sender and
beneficiary id is replaced by its subject's id (and, without resolution, the
transactions as they are). The transaction's own provider stays beside it as
``txn_provider``, with the original ids as ``sender_party`` and ``beneficiary_party``:
evidence and file lines still point at the provider's record.

A party ingested after the last resolution run has no cluster yet: it is a subject of its
own, with the id its record would get (the digest of its record id), so nothing is lost
between a new file and the next ``sentinelle resolve``.
"""

from __future__ import annotations

from typing import NamedTuple

from sentinelle.model import load_table
from sentinelle.warehouse.columns import table_columns
from sentinelle.warehouse.dialect import Dialect

SUBJECT_PROVIDER = "subject"
SIDES = ("sender", "beneficiary")

# The columns of det_txn that are not those of transactions.
EXTRA_COLUMNS: dict[str, str] = {
    "txn_provider": "the provider that reported the transaction (the key of txn_id)",
    "sender_party": "the sender's id at that provider",
    "beneficiary_party": "the beneficiary's id at that provider",
}


class Member(NamedTuple):
    """One record of a subject: a party at a provider, or a referral."""

    kind: str  # sender, beneficiary or referral
    source: str  # the provider, or the referring agency
    source_id: str


def record_id(kind: str, source: str, source_id: str) -> str:
    """The record id resolution gives a party or a referral (resolve/records.py)."""
    return f"{kind}:{source}:{source_id}"


def record_expr(kind: str, source: str, source_id: str) -> str:
    """The same record id as an SQL expression over columns (names from declarations)."""
    return f"('{kind}:' || {source} || ':' || {source_id})"


def party_subjects_sql() -> str:
    """Every party resolution has seen, with its subject: (side, provider, party_id,
    subject_id)."""
    return """SELECT r.kind AS side, r.source AS provider, r.source_id AS party_id,
       c.subject_id
FROM er_records r JOIN er_clusters c USING (record_id)
WHERE r.kind IN ('sender', 'beneficiary')"""


def transactions_sql(dialect: Dialect, resolved: bool) -> str:
    """The transactions as detection reads them (the ``det_txn`` view): with subjects in
    place of parties when ``resolved`` (``det_party_subjects`` must exist), else as
    they are."""
    names = [name for name, _ in table_columns(load_table("transactions"))]
    if not resolved:
        return ("SELECT *, provider AS txn_provider, sender_id AS sender_party, "
                "beneficiary_id AS beneficiary_party FROM transactions")

    def subject(side: str) -> str:
        own = dialect.subject_id(record_expr(side, "t.provider", f"t.{side}_id"))
        return f"coalesce({side[0]}s.subject_id, {own})"

    replaced = {"provider": f"'{SUBJECT_PROVIDER}'", "sender_id": subject("sender"),
                "beneficiary_id": subject("beneficiary")}
    cols = ", ".join(f"{replaced.get(n, 't.' + n)} AS {n}" for n in names)
    joins = " ".join(
        f"LEFT JOIN det_party_subjects {side[0]}s ON {side[0]}s.side = '{side}' "
        f"AND {side[0]}s.provider = t.provider AND {side[0]}s.party_id = t.{side}_id"
        for side in SIDES)
    return (f"SELECT {cols}, t.provider AS txn_provider, t.sender_id AS sender_party, "
            f"t.beneficiary_id AS beneficiary_party FROM transactions t {joins}")


__all__ = ["EXTRA_COLUMNS", "SUBJECT_PROVIDER", "Member", "party_subjects_sql",
           "record_expr", "record_id", "transactions_sql"]
