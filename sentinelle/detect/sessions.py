"""Corroborated sessions as a detection step: payments that a call followed.

``sentinelle sessions`` (``sentinelle/comms/pairing.py``) writes ``comm_sessions``: one
row per payment followed, within a window, by a call between the payer and the
beneficiary. Detection reads it through the payment itself — ``(provider, txn_id)`` of a
session joined to ``det_txn`` — so each session counts for the party detection scores,
whether that is a provider's party or, once entity resolution has run, its subject: no
second mapping of keys is needed.

Without communications (no ``comm_sessions`` table) every party has no session, and the
``sessions`` indicators add nothing: the scores are exactly those of detection without
this step.
"""

from __future__ import annotations

from sentinelle.detect.catalogue import Catalogue
from sentinelle.warehouse.dialect import Dialect

_KEYS = {"buyer": ("sender_id", "beneficiary_id"),
         "facilitator": ("beneficiary_id", "sender_id")}

_EMPTY_COLUMNS = (("role", "VARCHAR"), ("provider", "VARCHAR"), ("party_id", "VARCHAR"),
                  ("other", "VARCHAR"), ("txn_provider", "VARCHAR"), ("txn_id", "VARCHAR"),
                  ("amount_eur", "DOUBLE"), ("within_hours", "DOUBLE"),
                  ("min_minutes", "DOUBLE"))


def session_payments_sql(present: bool, dialect: Dialect) -> str:
    """One row per role and session: the party scored (``provider``, ``party_id``), its
    counterparty, the payment (``txn_provider``, ``txn_id``) and the pairing's window."""
    if not present:
        return ("SELECT " + ", ".join(f"{dialect.cast('NULL', t)} AS {n}"
                                      for n, t in _EMPTY_COLUMNS) + " WHERE false")
    return " UNION ALL ".join(f"""
SELECT '{role}' AS role, t.provider, t.{own} AS party_id, t.{other} AS other, t.txn_provider,
       t.txn_id, CAST(s.amount_eur AS DOUBLE) AS amount_eur,
       CAST(s.within_hours AS DOUBLE) AS within_hours,
       CAST(s.min_minutes AS DOUBLE) AS min_minutes
FROM comm_sessions s JOIN det_txn t ON t.txn_provider = s.provider AND t.txn_id = s.txn_id"""
                               for role, (own, other) in _KEYS.items())


def session_measures_sql(dialect: Dialect) -> str:
    """Per party: sessions (the measure) and the sentence that explains them, e.g. "3
    payments (EUR 52.00) to 1 beneficiary, each followed within 2 h by a call of at
    least 10 min"."""
    def hours(expr: str) -> str:
        return (f"CASE WHEN {expr} = floor({expr}) THEN {dialect.fixed(expr, 0)} "
                f"ELSE {dialect.fixed(expr, 1)} END")

    n = "count(*)"
    others = "count(DISTINCT other)"
    return f"""
SELECT role, provider, party_id, {n} AS m,
       {dialect.cast(n, "VARCHAR")} || CASE WHEN {n} = 1 THEN ' payment' ELSE ' payments' END
       || ' (EUR ' || {dialect.fixed('sum(amount_eur)', 2)} || ') '
       || CASE WHEN role = 'buyer' THEN 'to ' ELSE 'from ' END
       || {dialect.cast(others, "VARCHAR")}
       || CASE WHEN role = 'buyer' THEN CASE WHEN {others} = 1 THEN ' beneficiary'
               ELSE ' beneficiaries' END
          ELSE CASE WHEN {others} = 1 THEN ' sender' ELSE ' senders' END END
       || ', ' || CASE WHEN {n} = 1 THEN '' ELSE 'each ' END || 'followed within '
       || {hours('max(within_hours)')} || ' h by a call of at least '
       || {hours('max(min_minutes)')} || ' min' AS detail
FROM det_sess_txn GROUP BY role, provider, party_id"""


def session_evidence_sql(catalogue: Catalogue, dialect: Dialect) -> list[str]:
    """The paired payments behind each ``sessions`` indicator of each alert."""
    return [f"""
SELECT a.role, a.provider, a.party_id, {dialect.literal(i.id)} AS indicator, s.txn_provider,
       s.txn_id
FROM det_sess_txn s JOIN det_alert_parties a
  ON a.role = s.role AND a.provider = s.provider AND a.party_id = s.party_id
WHERE s.role = {dialect.literal(i.party)}"""
            for i in catalogue.indicators if i.kind == "sessions"]


__all__ = ["session_evidence_sql", "session_measures_sql", "session_payments_sql"]
