"""Reading the building blocks ISO 20022 messages share: parties, accounts, agents, amounts,
dates, remittance information. Paths are written without namespaces (``safexml`` drops
them) and cover the versions' variants: ``BICFI`` (2009 on) and ``BIC``; a party directly
or under ``Pty`` (camt v08 on); a date as text or as ``Dt``/``DtTm`` children."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sentinelle.ingest.convert import iban_country

BIC_RE = re.compile(r"^[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}([A-Z0-9]{3})?$")
NOT_PROVIDED = "NOTPROVIDED"


def text(elem: ET.Element | None, path: str = ".") -> str | None:
    if elem is None:
        return None
    found = elem if path == "." else elem.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def first(elem: ET.Element | None, *paths: str) -> str | None:
    for path in paths:
        value = text(elem, path)
        if value:
            return value
    return None


def bic(agent: ET.Element | None) -> str | None:
    return first(agent, "FinInstnId/BICFI", "FinInstnId/BIC")


def account(acct: ET.Element | None) -> str | None:
    return first(acct, "Id/IBAN", "Id/Othr/Id", "Prxy/Id")


def date_text(elem: ET.Element | None) -> str | None:
    """A date or date-time element: its text, or its ``DtTm`` / ``Dt`` child."""
    return first(elem, "DtTm", "Dt", ".")


@dataclass(frozen=True)
class Party:
    name: str | None = None
    country: str | None = None
    city: str | None = None
    own_id: str | None = None
    phone: str | None = None
    email: str | None = None
    birth_date: str | None = None
    account: str | None = None
    agent: str | None = None

    def columns(self, side: str) -> dict[str, str | None]:
        """Canonical columns for this party on ``side`` (sender or beneficiary): the id is
        the account, else the party's own id, else its name; the country is the address's,
        else the country of residence, else the IBAN's, else the agent's BIC's."""
        bic_match = BIC_RE.match(self.agent or "")
        country = (self.country or (iban_country(self.account) if self.account else None)
                   or (bic_match.group(1) if bic_match else None))
        out = {f"{side}_id": self.account or self.own_id or self.name,
               f"{side}_name": self.name, f"{side}_country": country,
               f"{side}_phone": self.phone, f"{side}_account": self.account,
               f"{side}_agent": self.agent}
        if side == "sender":
            out |= {"sender_email": self.email, "sender_birth_date": self.birth_date}
        else:
            out |= {"beneficiary_city": self.city}
        return out


def party(elem: ET.Element | None, acct: ET.Element | None = None,
          agent: ET.Element | None = None) -> Party:
    if elem is not None and elem.find("Pty") is not None:
        elem = elem.find("Pty")
    return Party(
        name=text(elem, "Nm"),
        country=first(elem, "PstlAdr/Ctry", "CtryOfRes"),
        city=text(elem, "PstlAdr/TwnNm"),
        own_id=first(elem, "Id/PrvtId/Othr/Id", "Id/OrgId/Othr/Id", "Id/OrgId/AnyBIC",
                     "Id/OrgId/BICOrBEI"),
        phone=first(elem, "CtctDtls/MobNb", "CtctDtls/PhneNb"),
        email=text(elem, "CtctDtls/EmailAdr"),
        birth_date=text(elem, "Id/PrvtId/DtAndPlcOfBirth/BirthDt"),
        account=account(acct),
        agent=bic(agent),
    )


def amount(elem: ET.Element | None) -> tuple[str | None, str | None]:
    """(amount text, currency) of an amount element with a ``Ccy`` attribute."""
    if elem is None:
        return None, None
    return text(elem), elem.get("Ccy")


def remittance(*elems: ET.Element | None) -> str | None:
    """Unstructured remittance lines joined; else the structured creditor reference; else
    the additional information of the transaction or the entry."""
    for elem in elems:
        if elem is None:
            continue
        lines = [t.text.strip() for t in elem.findall("RmtInf/Ustrd") if t.text and t.text.strip()]
        if lines:
            return " ".join(lines)
        found = first(elem, "RmtInf/Strd/CdtrRefInf/Ref", "AddtlTxInf", "AddtlNtryInf")
        if found:
            return found
    return None


def real_id(value: str | None) -> str | None:
    """An identifier, unless it is the placeholder ISO 20022 uses for 'none given'."""
    return None if value is None or value.upper() == NOT_PROVIDED else value
