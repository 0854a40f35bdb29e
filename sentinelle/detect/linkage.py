"""Two steps that link records rather than aggregate payments: beneficiary records that
share a phone or an account, and referrals matched to parties.

Both compare exact normalised values (E.164 phones, folded emails and names, compacted
accounts); the entity-resolution step widens this to probabilistic links.
"""

from __future__ import annotations

from sentinelle.detect.catalogue import Catalogue
from sentinelle.detect.compiler import number
from sentinelle.warehouse.dialect import Dialect


def identifiers_sql(catalogue: Catalogue, dialect: Dialect) -> str:
    """Per beneficiary record: how many other names share its phone or account.

    A value shared by very many records is an agent's counter or a company line, not a
    family: values held by more than ``max_records_per_identifier`` records are skipped.
    """
    cap = number(catalogue.values["max_records_per_identifier"], "max_records_per_identifier")
    names = dialect.distinct_text_agg("b.name", ", ")
    listed = dialect.ordered_text_agg("via || ' ' || value || ' with ' || names",
                                      "via DESC, value", " and ")
    # A record is a beneficiary at a provider (txn_provider, beneficiary_party); the party
    # scored is its subject once entity resolution has run (provider, beneficiary_id), so
    # a facilitator whose relatives' records were merged into her still counts their names.
    return f"""
WITH ids AS (
  SELECT DISTINCT provider, beneficiary_id, txn_provider, beneficiary_party,
         beneficiary_name AS name, 'phone' AS via, beneficiary_phone AS value
  FROM det_txn WHERE beneficiary_phone IS NOT NULL
  UNION
  SELECT DISTINCT provider, beneficiary_id, txn_provider, beneficiary_party, beneficiary_name,
         'account', beneficiary_account
  FROM det_txn WHERE beneficiary_account IS NOT NULL
), records AS (
  SELECT DISTINCT via, value, txn_provider, beneficiary_party FROM ids
), usable AS (
  SELECT * FROM ids
  WHERE (via, value) IN (SELECT via, value FROM records GROUP BY via, value
                         HAVING count(*) BETWEEN 2 AND {cap})
), pairs AS (
  SELECT a.provider, a.beneficiary_id AS party_id, a.via, a.value, b.name
  FROM usable a JOIN usable b
    ON a.via = b.via AND a.value = b.value
   AND NOT (a.txn_provider = b.txn_provider AND a.beneficiary_party = b.beneficiary_party)
   AND b.name IS DISTINCT FROM a.name
), per_value AS (
  SELECT provider, party_id, via, value, {names} AS names
  FROM pairs b GROUP BY provider, party_id, via, value
), described AS (
  SELECT provider, party_id,
         {listed} AS detail
  FROM per_value GROUP BY provider, party_id
)
SELECT * FROM described d JOIN (SELECT provider, party_id, count(DISTINCT name) AS m FROM pairs
                       GROUP BY provider, party_id) n USING (provider, party_id)"""


_SIDES = {
    "buyer": ("sender_id", "sender_name", "sender_birth_date", "sender_phone", "sender_email",
              "sender_account"),
    "facilitator": ("beneficiary_id", "beneficiary_name", "NULL", "beneficiary_phone", "NULL",
                    "beneficiary_account"),
}


def referral_matches_sql(dialect: Dialect, resolved: bool = False) -> str:
    """Every (referral, party) pair that agrees exactly on an email, a phone, an account,
    or a name with a birth date — and, once entity resolution has run, every referral
    resolved into the party's subject by the model or a person; a referral about a buyer
    is matched to senders, about a facilitator to beneficiaries, and about an unknown
    role to both. A referral placed with a subject by its name alone (``decided_by``
    "name only", or "tip date": among namesakes, by when it arrived) is not a match, as a
    name alone matches no party here: a tip about someone the provider never served
    would make the one customer carrying the name a referred facilitator, and the people
    paying her buyers (docs/resolve.md, "Is detection better on subjects?")."""
    parties = " UNION ALL ".join(
        f"SELECT DISTINCT '{role}' AS role, provider, {pid} AS party_id, {name} AS name, "
        f"{dialect.cast(birth, 'DATE')} AS birth, {dialect.cast(phone, 'VARCHAR')} AS phone, "
        f"{dialect.cast(email, 'VARCHAR')} AS email, "
        f"{dialect.cast(account, 'VARCHAR')} AS account FROM det_txn"
        for role, (pid, name, birth, phone, email, account) in _SIDES.items())
    joins = {
        "email": "p.email = r.subject_email",
        "phone": "p.phone = r.subject_phone",
        "account": "p.account = r.subject_account",
        "name and birth date": "p.name = r.subject_name AND p.birth = r.subject_birth_date",
    }
    matched = " UNION ALL ".join(
        f"SELECT r.referral_id, r.source, p.role, p.provider, p.party_id, '{how}' AS matched_on "
        f"FROM referrals r JOIN parties p ON {cond} "
        f"AND (r.subject_role = p.role OR coalesce(r.subject_role, 'unknown') = 'unknown')"
        for how, cond in joins.items())
    if resolved:
        matched += """ UNION ALL
SELECT r.referral_id, r.source, p.role, p.provider, p.party_id, 'entity resolution'
FROM er_records rr JOIN er_clusters c ON c.record_id = rr.record_id
JOIN referrals r ON r.source = rr.source AND r.referral_id = rr.source_id
JOIN (SELECT DISTINCT role, provider, party_id FROM parties) p ON p.party_id = c.subject_id
 AND (r.subject_role = p.role OR coalesce(r.subject_role, 'unknown') = 'unknown')
WHERE rr.kind = 'referral' AND c.decided_by IN ('model', 'judgement')"""
    return f"""
WITH parties AS ({parties}), matched AS ({matched})
SELECT referral_id, source, role, provider, party_id,
       {dialect.distinct_text_agg("matched_on", ", ")} AS matched_on
FROM matched GROUP BY referral_id, source, role, provider, party_id"""


def referral_measures_sql(dialect: Dialect) -> str:
    """Per matched party: how many referrals name it, and which (from the run's matches,
    ``det_new_referral_matches``, published with the other results)."""
    listed = dialect.ordered_text_agg(
        "source || ' referral ' || referral_id || ' (' || matched_on || ')'", "referral_id",
        ", ")
    return f"""SELECT role, provider, party_id, count(DISTINCT referral_id) AS m,
       {listed} AS detail
FROM det_new_referral_matches GROUP BY role, provider, party_id"""
