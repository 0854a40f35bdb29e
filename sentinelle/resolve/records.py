"""The records entity resolution compares: one per sender, beneficiary and referral subject.

Each kind of record is declared once — which warehouse table, which columns — and rendered
to one SQL ``SELECT`` for an engine's dialect; the three are stacked into ``er_records``.
A record id names where the record came from (``sender:PROVIDER:ID``,
``beneficiary:PROVIDER:ID``, ``referral:SOURCE:ID``), so it is the same on every run over
the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentinelle.warehouse.dialect import DUCKDB, Dialect

# Columns of er_records, in order, with their meaning (docs/resolve.md lists them).
COLUMNS: dict[str, str] = {
    "record_id": "kind:provider:id for a sender or beneficiary, referral:source:id for a referral",
    "kind": "sender, beneficiary or referral",
    "source": "the provider (transactions) or the referring agency (referrals)",
    "source_id": "the provider's party id or the referral id",
    "name": "the folded name (lower case, no accents, particles joined)",
    "name_key": "the folded name's words sorted, so that word order does not matter",
    "surname": "the surname as recognised at ingest",
    "given": "the name's other words",
    "birth_date": "date of birth, ISO 8601 text (senders and referrals only)",
    "birth_year": "year of birth, for blocking",
    "phone": "E.164 phone",
    "email": "lower-cased email (senders and referrals only)",
    "account": "compacted account number, IBAN or wallet id",
    "country": "ISO 3166-1 alpha-2 country",
    "counterparties": "the record ids of everyone this party paid or was paid by, sorted "
                      "(senders and beneficiaries only)",
    "strangers": "the counterparties whose surname is not this party's own: no apparent "
                 "family tie (AUSTRAC)",
    "side": "sender or beneficiary: the record's side of a payment; for a referral, its "
            "subject's role's side (a buyer pays, a facilitator is paid), none if unknown",
    "first_seen": "when the party's first payment was made; for a referral, when it arrived",
    "last_seen": "when the party's last payment was made; for a referral, when it arrived",
    "near": "for a referral whose name nobody in its country's payments carries, its own id "
            "and the ids of the records one slip from that name there (a mistyped name); "
            "for those records, their own id; none otherwise (a blocking rule reads it)",
}


@dataclass(frozen=True)
class RecordKind:
    """Where one kind of record comes from: the table (``edges`` for the payments, see
    ``_edges_sql``), the id columns and, for each compared field, the warehouse column
    (None where the table has no such field)."""

    kind: str
    table: str
    source: str
    source_id: str
    name: str
    birth_date: str | None
    phone: str
    email: str | None
    account: str
    country: str
    # The other side of this party's payments: (its kind, its id column, its name
    # column); None for a referral, which carries no payments.
    counterparty: tuple[str, str, str] | None = None
    # The side of a payment the record stands on, as SQL over the table's columns.
    side: str = "NULL"
    # When a referral arrived (its first_seen and last_seen both): clustering reads it
    # against namesakes' payments (clusters.py, _place_referrals).
    received: str | None = None

    def sql(self, dialect: Dialect = DUCKDB) -> str:
        # Every name spliced here comes from the declarations below, never from a user.
        # A party seen on several rows keeps one value per field (the smallest): the
        # warehouse holds one identity per party id today; several would become several
        # records (see docs/resolve.md, "Not done yet").
        def field(column: str | None, text: bool = False) -> str:
            if column is None:
                return "NULL"
            return dialect.cast(f"min({column})", "VARCHAR") if text else f"min({column})"

        d = dialect
        surname = f"{self.name}_surname"
        kind = d.literal(self.kind)
        if self.counterparty is None:
            counterparties = strangers = d.cast("NULL", "VARCHAR[]")
            at = d.cast(f"min({self.received})" if self.received else "NULL", "TIMESTAMP")
            seen = f"{at} AS first_seen, {at} AS last_seen"
        else:
            other, other_id, other_name = self.counterparty
            ids = f"{d.literal(other + ':')} || {self.source} || ':' || {other_id}"
            counterparties = d.sorted_distinct_list(ids)
            # NULL where the surnames agree: the list leaves NULLs out.
            strangers = d.sorted_distinct_list(
                f"CASE WHEN {other_name}_surname IS DISTINCT FROM {surname} THEN {ids} END")
            seen = "min(first_seen) AS first_seen, max(last_seen) AS last_seen"
        return f"""
            SELECT {d.literal(self.kind + ':')} || {self.source} || ':' || {self.source_id}
                     AS record_id,
                   {kind} AS kind, {self.source} AS source,
                   {self.source_id} AS source_id,
                   {field(self.name)} AS name, {field(surname)} AS surname,
                   {field(self.birth_date, text=True)} AS birth_date,
                   {field(self.phone)} AS phone, {field(self.email)} AS email,
                   {field(self.account)} AS account, {field(self.country)} AS country,
                   {counterparties} AS counterparties, {strangers} AS strangers,
                   {self.side} AS side, {seen}
            FROM {self.table}
            GROUP BY {self.source}, {self.source_id}"""


KINDS: tuple[RecordKind, ...] = (
    RecordKind("sender", "edges", "provider", "sender_id", "sender_name",
               "sender_birth_date", "sender_phone", "sender_email", "sender_account",
               "sender_country", ("beneficiary", "beneficiary_id",
                                                    "beneficiary_name"), "'sender'"),
    RecordKind("beneficiary", "edges", "provider", "beneficiary_id",
               "beneficiary_name", None, "beneficiary_phone", None, "beneficiary_account",
               "beneficiary_country", ("sender", "sender_id", "sender_name"),
               "'beneficiary'"),
    RecordKind("referral", "referrals", "source", "referral_id", "subject_name",
               "subject_birth_date", "subject_phone", "subject_email", "subject_account",
               "subject_country", None,
               # A buyer pays and a facilitator is paid: a referral about a buyer is
               # looked for among senders.
               "CASE min(subject_role) WHEN 'buyer' THEN 'sender' "
               "WHEN 'facilitator' THEN 'beneficiary' END", "received_at"),
)


# Payment records are read from the payments' distinct (provider, sender, beneficiary)
# edges, each with its parties' fields, rather than from every transaction: one pass over
# the transactions instead of one per kind (6.8 million transactions make 0.6 million
# edges at scale 33).
EDGE_KEYS = ("provider", "sender_id", "beneficiary_id")


def _edges_sql() -> str:
    columns: list[str] = []
    for k in KINDS:
        if k.table != "edges":
            continue
        for column in (k.name, f"{k.name}_surname", k.birth_date, k.phone, k.email,
                       k.account, k.country):
            if column is not None and column not in columns:
                columns.append(column)
    fields = ", ".join(f"min({c}) AS {c}" for c in columns)
    keys = ", ".join(EDGE_KEYS)
    return (f"SELECT {keys}, {fields}, min(timestamp) AS first_seen, "
            f"max(timestamp) AS last_seen FROM transactions GROUP BY {keys}")


def records_sql(dialect: Dialect = DUCKDB) -> str:
    """All records, with the derived name keys, ordered by record id."""
    d = dialect
    union = "\nUNION ALL\n".join(k.sql(d) for k in KINDS)
    return f"""
        WITH edges AS ({_edges_sql()}),
        raw AS ({union}),
        words AS (SELECT *, {d.words("name")} AS tokens FROM raw),
        keyed AS (
            SELECT record_id, kind, source, source_id, name,
                   nullif({d.join_words(d.sorted_list("tokens"))}, '') AS name_key,
                   surname,
                   nullif({d.join_words(d.without("tokens", "surname"))}, '') AS given,
                   birth_date, left(birth_date, 4) AS birth_year,
                   phone, email,
                   -- An e-wallet numbered by its phone says nothing the phone does not:
                   -- compared as well, it would count one fact twice.
                   CASE WHEN right({d.regex_replace_all("account", "[^0-9]", "")}, 9)
                             = right(phone, 9) THEN NULL ELSE account END AS account,
                   country, counterparties, nullif(strangers, {d.text_list()}) AS strangers,
                   side, first_seen, last_seen
            FROM words),
        {_near_sql(d)}
        SELECT keyed.*, near.near
        FROM keyed LEFT JOIN near ON near.record_id = keyed.record_id
        ORDER BY keyed.record_id"""


def _near_sql(d: Dialect) -> str:
    """The ``near`` lists (see COLUMNS), as common table expressions over ``keyed``.

    A referral's name that nobody in its country's payments carries is likely mistyped
    ("errlinda mendoza", "lrs nielsen"): it is looked for one slip away among the
    country's distinct names (two names one slip apart share a spelling one letter
    shorter: ``spellings``). Only such names are looked for: a name the payments carry
    blocks with its namesakes already (name key and country), and looking one slip away
    from every tip's name would pair each "maria santos" with every "mario santos"."""
    return f"""
        names AS (SELECT DISTINCT country, name_key FROM keyed
                  WHERE name_key IS NOT NULL AND country IS NOT NULL),
        paid AS (SELECT DISTINCT country, name_key FROM keyed
                 WHERE kind <> 'referral' AND name_key IS NOT NULL),
        unseen AS (
            SELECT DISTINCT k.country, k.name_key FROM keyed k
            LEFT JOIN paid p ON p.country = k.country AND p.name_key = k.name_key
            WHERE k.kind = 'referral' AND k.name_key IS NOT NULL
              AND k.country IS NOT NULL AND p.name_key IS NULL),
        unseen_spelt AS (SELECT country, name_key,
                                {d.each(d.spellings("name_key"))} AS spelling FROM unseen),
        names_spelt AS (SELECT country, name_key,
                               {d.each(d.spellings("name_key"))} AS spelling FROM names),
        close_names AS (
            SELECT DISTINCT u.country, u.name_key, n.name_key AS other
            FROM unseen_spelt u JOIN names_spelt n
              ON n.country = u.country AND n.spelling = u.spelling
            WHERE n.name_key <> u.name_key
              AND {d.edit_distance("u.name_key", "n.name_key")} <= 1),
        close_records AS (
            SELECT k.record_id, o.record_id AS other
            FROM keyed k
            JOIN close_names c ON c.country = k.country AND c.name_key = k.name_key
            JOIN keyed o ON o.country = c.country AND o.name_key = c.other
            WHERE k.kind = 'referral'),
        near AS (
            SELECT record_id, {d.sorted_distinct_list("other")} AS near FROM (
                SELECT record_id, other FROM close_records
                UNION ALL SELECT record_id, record_id AS other FROM close_records
                UNION ALL SELECT other AS record_id, other FROM close_records) linked
            GROUP BY record_id)"""
