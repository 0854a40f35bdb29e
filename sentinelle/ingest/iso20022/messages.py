"""Each supported ISO 20022 message as canonical rows: which element is the transaction,
and which element becomes which column (docs/iso20022.md is the table of this file).

A row is a dict of canonical columns and the extras listed in ``EXTRAS``; timestamps are
left as read (``when``) and turned canonical by the reader, once the sender's country
(hence the payer's zone) is known.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from sentinelle.ingest.iso20022.parties import (
    amount,
    date_text,
    first,
    party,
    real_id,
    remittance,
    text,
)

NAMESPACE_RE = re.compile(r"(pacs\.008|pain\.001|camt\.05[234])\.001\.(\d{2})")
# Message → versions accepted (those whose layout the paths here were checked against).
SUPPORTED = {
    "pacs.008": range(2, 14),
    "pain.001": range(3, 13),
    "camt.052": range(2, 14),
    "camt.053": range(2, 14),
    "camt.054": range(2, 14),
}
TRANSACTION_TAG = {"pacs.008": "CdtTrfTxInf", "pain.001": "CdtTrfTxInf",
                   "camt.052": "Ntry", "camt.053": "Ntry", "camt.054": "Ntry"}
EXTRAS = ["message", "message_id", "statement_id", "end_to_end_id", "transaction_id",
          "instruction_id", "uetr", "account_servicer_ref", "sender_agent",
          "beneficiary_agent", "booking_date", "value_date", "entry_status", "credit_debit",
          "timestamp_precision", "when"]
CHANNELS = {"ICDT": "bank_transfer", "RCDT": "bank_transfer", "CCRD": "card",
            "MCRD": "card", "CNTR": "cash"}

Row = dict[str, str | None]


@dataclass(frozen=True)
class Message:
    kind: str  # pacs.008 …
    version: int

    @property
    def name(self) -> str:
        return f"{self.kind}.001.{self.version:02d}"


def detect(namespace: str) -> Message | None:
    found = NAMESPACE_RE.search(namespace)
    if not found:
        return None
    return Message(found.group(1), int(found.group(2)))


def rows(msg: Message, tx: ET.Element, parents: list[ET.Element]) -> Iterator[tuple[int, Row]]:
    if msg.kind == "pacs.008":
        yield _line(tx), _pacs008(tx, parents)
    elif msg.kind == "pain.001":
        yield _line(tx), _pain001(tx, parents)
    else:
        yield from _camt(tx, parents)


def _line(elem: ET.Element) -> int:
    return int(elem.get("_line", "0"))


def _group(parents: list[ET.Element]) -> ET.Element | None:
    for elem in reversed(parents):
        found = elem.find("GrpHdr")
        if found is not None:
            return found
    return None


def _pacs008(tx: ET.Element, parents: list[ET.Element]) -> Row:
    grp = _group(parents)
    instructed = tx.find("InstdAmt")
    value, ccy = amount(instructed if instructed is not None else tx.find("IntrBkSttlmAmt"))
    debtor = party(tx.find("Dbtr"), tx.find("DbtrAcct"), tx.find("DbtrAgt"))
    creditor = party(tx.find("Cdtr"), tx.find("CdtrAcct"), tx.find("CdtrAgt"))
    ids = _ids(tx.find("PmtId"))
    txn_id = ids["uetr"] or ids["transaction_id"] or ids["end_to_end_id"] or \
        ids["instruction_id"]
    instg = tx.find("InstgAgt")
    provider = first(instg if instg is not None else (grp.find("InstgAgt") if grp is not None
                                                       else None),
                     "FinInstnId/BICFI", "FinInstnId/BIC") or debtor.agent
    return {
        **debtor.columns("sender"), **creditor.columns("beneficiary"), **ids,
        "txn_id": txn_id, "amount": value, "currency": ccy, "channel": "bank_transfer",
        "description": remittance(tx), "provider": provider,
        "message_id": text(grp, "MsgId"),
        # The acceptance time is the payment's; a settlement date is only a day. The
        # message's creation time is never used: a batch sent at 2 a.m. is not a night payment.
        "when": first(tx, "AccptncDtTm", "IntrBkSttlmDt") or text(grp, "IntrBkSttlmDt"),
    }


def _pain001(tx: ET.Element, parents: list[ET.Element]) -> Row:
    pmt = parents[-1]
    grp = _group(parents)
    amt = tx.find("Amt")
    instructed = amt.find("InstdAmt") if amt is not None else None
    value, ccy = amount(instructed if instructed is not None else
                        (amt.find("EqvtAmt/Amt") if amt is not None else None))
    debtor = party(pmt.find("Dbtr"), pmt.find("DbtrAcct"), pmt.find("DbtrAgt"))
    creditor = party(tx.find("Cdtr"), tx.find("CdtrAcct"), tx.find("CdtrAgt"))
    ids = _ids(tx.find("PmtId"))
    msg_id, pmt_id = text(grp, "MsgId"), text(pmt, "PmtInfId")
    own = ids["instruction_id"] or ids["end_to_end_id"]
    return {
        **debtor.columns("sender"), **creditor.columns("beneficiary"), **ids,
        "txn_id": ids["uetr"] or (f"{msg_id}/{pmt_id}/{own}" if own else None),
        "amount": value, "currency": ccy, "channel": "bank_transfer",
        "description": remittance(tx), "provider": debtor.agent,
        "message_id": msg_id,
        # The requested execution date (a date, or from v08 a date-time choice).
        "when": date_text(pmt.find("ReqdExctnDt")),
    }


def _ids(pmt_id: ET.Element | None) -> Row:
    return {"end_to_end_id": real_id(text(pmt_id, "EndToEndId")),
            "transaction_id": real_id(text(pmt_id, "TxId")),
            "instruction_id": real_id(text(pmt_id, "InstrId")),
            "uetr": text(pmt_id, "UETR")}


def _camt(entry: ET.Element, parents: list[ET.Element]) -> Iterator[tuple[int, Row]]:
    stmt = parents[-1]  # Stmt (053), Rpt (052) or Ntfctn (054)
    grp = _group(parents)
    acct = stmt.find("Acct")
    owner = party(acct.find("Ownr") if acct is not None else None, acct,
                  acct.find("Svcr") if acct is not None else None)
    details: list[ET.Element | None] = list(entry.findall("NtryDtls/TxDtls")) or [None]
    # Entries are removed once handled, so the statement counts them itself.
    stmt.set("_entries", str(int(stmt.get("_entries", "0")) + 1))
    number = int(stmt.get("_entries", "1"))
    for k, tx in enumerate(details, start=1):
        several = len(details) > 1
        indicator = first(tx, "CdtDbtInd") or text(entry, "CdtDbtInd")
        debit = indicator == "DBIT"
        amt_el = None
        if tx is not None:
            amt_el = tx.find("Amt")
            if amt_el is None:
                amt_el = tx.find("AmtDtls/TxAmt/Amt")
        if amt_el is None and not several:
            amt_el = entry.find("Amt")
        value, ccy = amount(amt_el)
        role = "Cdtr" if debit else "Dbtr"
        rp = tx.find("RltdPties") if tx is not None else None
        ra = tx.find("RltdAgts") if tx is not None else None
        other = party(rp.find(role) if rp is not None else None,
                      rp.find(role + "Acct") if rp is not None else None,
                      ra.find(role + "Agt") if ra is not None else None)
        sender, beneficiary = (owner, other) if debit else (other, owner)
        refs = tx.find("Refs") if tx is not None else None
        ids = _ids(refs)
        svcr_ref = text(refs, "AcctSvcrRef") or _nth(text(entry, "AcctSvcrRef"), k, several)
        txn_id = (svcr_ref or _nth(text(entry, "NtryRef"), k, several)
                  or ids["transaction_id"] or ids["end_to_end_id"] or ids["uetr"]
                  or f"{text(stmt, 'Id')}/{number}" + (f"/{k}" if several else ""))
        family = text(entry, "BkTxCd/Domn/Fmly/Cd")
        yield _line(tx) if tx is not None else _line(entry), {
            **sender.columns("sender"), **beneficiary.columns("beneficiary"), **ids,
            "txn_id": txn_id, "amount": value, "currency": ccy,
            "channel": CHANNELS.get(family or ""),
            "description": remittance(tx, entry), "provider": owner.agent,
            "message_id": text(grp, "MsgId"), "statement_id": text(stmt, "Id"),
            "account_servicer_ref": svcr_ref,
            "booking_date": date_text(entry.find("BookgDt")),
            "value_date": date_text(entry.find("ValDt")),
            "entry_status": first(entry, "Sts/Cd", "Sts"), "credit_debit": indicator,
            # The transaction's own time when the bank gives it, else the booking date,
            # else the value date.
            "when": first(tx, "RltdDts/TxDtTm", "RltdDts/AccptncDtTm")
            or date_text(entry.find("BookgDt")) or date_text(entry.find("ValDt")),
        }


def _nth(ref: str | None, k: int, several: bool) -> str | None:
    """An entry's reference shared by its several transactions: numbered /1, /2, …"""
    return f"{ref}/{k}" if ref and several else ref
