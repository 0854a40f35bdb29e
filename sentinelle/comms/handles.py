"""Who is who: communications handles linked to the parties of the payments.

For now, in this one place, by exact equality only: a handle whose phone number (E.164,
cleaned with ``sentinelle.normalise`` like the transactions' phones) or e-mail address is
the sender's or the beneficiary's in ``transactions``. A handle's phone or e-mail is the
handle itself when it is one (WhatsApp shows unsaved contacts as ``+63 917 …``; a call log
lists numbers), or what the export declared for it (``comm_identifiers``: a Telegram
contact list, a generic CSV's ``sender_phone``). National numbers without a country code
are not linked: no region is known to read them in.

Two more ways widen this once they exist: **entity resolution** — a handle whose phone or
e-mail is that of any record of a subject (a sender, a beneficiary, a referral) is linked
to every sender record (as a buyer) and beneficiary record (as a facilitator) of that
subject; and **an analyst's hand** — a handle attached to a party or a subject in the web
application (``sentinelle/review/handles.py``, a judgement kept in the case database and
audited), passed in as ``attached``. What reads ``comm_handle_parties`` need not change:
each link says how it was made (``via``: phone, email, entity resolution, analyst).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa

from sentinelle.comms.table import ensure_tables
from sentinelle.normalise import clean_email, to_e164
from sentinelle.warehouse import Warehouse

HANDLE_PARTIES_DDL = """CREATE OR REPLACE TABLE comm_handle_parties AS
    SELECT DISTINCT h.platform, h.handle, p.role, p.provider, p.party_id, h.kind AS via,
           h.value, h.found_in
    FROM comm_handle_values h JOIN (
        SELECT 'buyer' AS role, provider, sender_id AS party_id, 'phone' AS kind,
               sender_phone AS value FROM transactions WHERE sender_phone IS NOT NULL
        UNION SELECT 'buyer', provider, sender_id, 'email', sender_email
               FROM transactions WHERE sender_email IS NOT NULL
        UNION SELECT 'facilitator', provider, beneficiary_id, 'phone', beneficiary_phone
               FROM transactions WHERE beneficiary_phone IS NOT NULL) p
      ON p.kind = h.kind AND p.value = h.value
    ORDER BY h.platform, h.handle, p.role, p.provider, p.party_id"""


# A handle matched, by phone or e-mail, with any record of a subject: linked to every
# party record of that subject. The exact links above are repeated here through the
# subject only where the subject holds other records.
RESOLVED_DDL = """INSERT INTO comm_handle_parties
    SELECT DISTINCT h.platform, h.handle,
           CASE p.kind WHEN 'sender' THEN 'buyer' ELSE 'facilitator' END, p.source,
           p.source_id, 'entity resolution', c.subject_id,
           h.kind || ' of ' || r.record_id || ' (' || h.found_in || ')'
    FROM comm_handle_values h
    JOIN er_records r ON (h.kind = 'phone' AND r.phone = h.value)
                      OR (h.kind = 'email' AND r.email = h.value)
    JOIN er_clusters c ON c.record_id = r.record_id
    JOIN er_clusters cp ON cp.subject_id = c.subject_id AND cp.record_id <> r.record_id
    JOIN er_records p ON p.record_id = cp.record_id AND p.kind IN ('sender', 'beneficiary')"""

# An analyst's links, each to a party, or to a subject's party records.
ATTACHED_DDL = """INSERT INTO comm_handle_parties
    SELECT DISTINCT a.platform, a.handle, a.role, p.provider, p.party_id, 'analyst',
           'judgement #' || CAST(a.link_id AS VARCHAR), 'attached by ' || a.linked_by
    FROM comm_handle_attached a JOIN ({parties}) p
      ON p.role = a.role AND p.key_provider = a.provider AND p.key_id = a.party_id"""


class Attached(NamedTuple):
    """A handle an analyst attached to a party (provider ``subject``: to a subject)."""

    link_id: int
    platform: str
    handle: str
    role: str
    provider: str
    party_id: str
    linked_by: str


def handle_values(wh: Warehouse) -> pa.Table:
    """(platform, handle, kind, value, found_in) for every handle with a clean phone or
    e-mail. Distinct handles are few beside the messages: each is cleaned once, in Python,
    with the same cleaners as ingestion."""
    seen = wh.execute("""
        SELECT DISTINCT platform, h AS handle FROM (
            SELECT platform, sender AS h FROM communications
            UNION ALL SELECT platform, unnest(recipients) FROM communications) WHERE h <> ''
        """).fetchall()
    declared = wh.execute("SELECT DISTINCT platform, handle, kind, value_raw, found_in "
                          "FROM comm_identifiers").fetchall()
    out: dict[str, list[str]] = {k: [] for k in ("platform", "handle", "kind", "value",
                                                 "found_in")}

    def add(platform: str, handle: str, kind: str, value: str | None, found_in: str) -> None:
        if value:
            for key, v in zip(out, (platform, handle, kind, value, found_in), strict=True):
                out[key].append(v)

    for platform, handle in seen:
        add(platform, handle, "phone", phone_of(handle), "the handle itself")
        if "@" in handle:
            add(platform, handle, "email", clean_email(handle)[0], "the handle itself")
    for platform, handle, kind, raw, found_in in declared:
        value = phone_of(raw) if kind == "phone" else clean_email(raw)[0]
        add(platform, handle, kind, value, found_in)
    return pa.table({k: pa.array(v, pa.string()) for k, v in out.items()})


def phone_of(text: str) -> str | None:
    """E.164 when the text is an international phone number, else None."""
    compact = text.strip()
    if not compact.startswith(("+", "00")) or sum(c.isdigit() for c in compact) < 7:
        return None
    return to_e164(compact, None)[0]


def link_handles(wh: Warehouse, attached: Sequence[Attached] = ()) -> int:
    """Write ``comm_handle_parties`` (platform, handle, role, provider, party_id, via,
    value, found_in): exact phone and e-mail equality, entity resolution's subjects when
    it has run, and the links an analyst made (``attached``); return how many links."""
    ensure_tables(wh)
    values = handle_values(wh)
    wh.con.register("comm_handle_values_view", values)
    try:
        wh.execute("CREATE OR REPLACE TEMP TABLE comm_handle_values AS "
                   "SELECT * FROM comm_handle_values_view").fetchall()
    finally:
        wh.con.unregister("comm_handle_values_view")
    wh.execute(HANDLE_PARTIES_DDL).fetchall()
    # fetchall: a result left open would keep the next register() from running
    resolved = len(wh.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
                              "AND table_name IN ('er_records', 'er_clusters')").fetchall()) == 2
    if resolved:
        wh.execute(RESOLVED_DDL).fetchall()
    if attached:
        _insert_attached(wh, attached, resolved)
    return int(wh.execute("SELECT count(*) FROM comm_handle_parties").fetchall()[0][0])


def _insert_attached(wh: Warehouse, attached: Sequence[Attached], resolved: bool) -> None:
    table = pa.table({name: pa.array([getattr(a, name) for a in attached],
                                     pa.int64() if name == "link_id" else pa.string())
                      for name in Attached._fields})
    wh.con.register("comm_handle_attached_view", table)
    try:
        wh.execute("CREATE OR REPLACE TEMP TABLE comm_handle_attached AS "
                   "SELECT * FROM comm_handle_attached_view").fetchall()
    finally:
        wh.con.unregister("comm_handle_attached_view")
    parties = ("SELECT 'buyer' AS role, provider AS key_provider, sender_id AS key_id, provider, "
               "sender_id AS party_id FROM transactions UNION SELECT 'facilitator', provider, "
               "beneficiary_id, provider, beneficiary_id FROM transactions")
    if resolved:
        parties += (" UNION SELECT CASE r.kind WHEN 'sender' THEN 'buyer' ELSE 'facilitator' "
                    "END, 'subject', c.subject_id, r.source, r.source_id FROM er_records r "
                    "JOIN er_clusters c USING (record_id) "
                    "WHERE r.kind IN ('sender', 'beneficiary')")
    wh.execute(ATTACHED_DDL.format(parties=parties)).fetchall()
