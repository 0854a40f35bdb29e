"""Who is who: communications handles linked to the parties of the payments.

For now, in this one place, by exact equality only: a handle whose phone number (E.164,
cleaned with ``sentinelle.normalise`` like the transactions' phones) or e-mail address is
the sender's or the beneficiary's in ``transactions``. A handle's phone or e-mail is the
handle itself when it is one (WhatsApp shows unsaved contacts as ``+63 917 …``; a call log
lists numbers), or what the export declared for it (``comm_identifiers``: a Telegram
contact list, a generic CSV's ``sender_phone``). National numbers without a country code
are not linked: no region is known to read them in.

Entity-resolution subjects (and an analyst's own, audited links) will replace this
function; what reads ``comm_handle_parties`` need not change.
"""

from __future__ import annotations

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


def link_handles(wh: Warehouse) -> int:
    """Write ``comm_handle_parties`` (platform, handle, role, provider, party_id, via,
    value, found_in); return how many links."""
    ensure_tables(wh)
    values = handle_values(wh)
    wh.con.register("comm_handle_values_view", values)
    try:
        wh.execute("CREATE OR REPLACE TEMP TABLE comm_handle_values AS "
                   "SELECT * FROM comm_handle_values_view").fetchall()
    finally:
        wh.con.unregister("comm_handle_values_view")
    wh.execute(HANDLE_PARTIES_DDL).fetchall()
    return int(wh.execute("SELECT count(*) FROM comm_handle_parties").fetchall()[0][0])
