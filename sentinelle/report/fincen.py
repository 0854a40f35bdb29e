"""A FinCEN SAR in the BSA E-Filing batch XML (schema 1.2, ``EFL_SARXBatchSchema.xsd``),
for US reporting entities.

One ``Activity`` per report, with the six parties every SAR names — transmitter (35),
transmitter contact (37), filing institution (30), contact office (8), the institution
where the activity occurred (34) — and one subject (33) per party a subject stands for.
FinCEN's notice FIN-2021-NTC3 on online child sexual exploitation asks filers to put the
key term ``OCSE-FIN-2021-NTC3`` in field 2 (the note to FinCEN) and in the narrative, and
to select field 38(z) "Other" with the text "OCSE"; the report does all three, and 38(h)
human trafficking when the entity's settings say it is suspected. Amounts are whole US
dollars (FinCEN's rule), converted with the warehouse's rates when paid in another
currency. Names keep any script (the schema allows any non-space character).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal

from lxml import etree

from sentinelle.errors import ReportInvalid
from sentinelle.normalise.rates import RateBook
from sentinelle.report.entity import ReportingEntity
from sentinelle.report.gather import Party, ReportData
from sentinelle.report.goaml import split_name
from sentinelle.report.money import in_currency
from sentinelle.report.xmltools import clean_text

__all__ = ["KEY_TERM", "NARRATIVE_LIMIT", "REASON_LIMIT", "render_fincen"]

NS = "www.fincen.gov/base"
KEY_TERM = "OCSE-FIN-2021-NTC3"
# Five blocks: four of 4,000 characters and a last of 1,000.
NARRATIVE_LIMIT = 17_000
# What a narrative may hold so that the key term still fits in front of it.
REASON_LIMIT = NARRATIVE_LIMIT - len(KEY_TERM) - 2
_BLOCK = 4000


def _clip(value: str, limit: int) -> str:
    """FinCEN's text pattern: no leading, trailing or repeated spaces, no line breaks."""
    return " ".join(clean_text(value).split())[:limit].strip()


def narrative_blocks(reason: str) -> list[str]:
    """The narrative with the key term first (FIN-2021-NTC3), in FinCEN's blocks."""
    text = reason if KEY_TERM in reason else f"{KEY_TERM}. {reason}"
    if len(text) > NARRATIVE_LIMIT:
        raise ReportInvalid(f"the narrative has {len(text):,} characters; a SAR takes at "
                            f"most {NARRATIVE_LIMIT:,}", fix="shorten it (--reason-file)")
    return [clean_text(text[i:i + _BLOCK]) for i in range(0, len(text), _BLOCK)]


class _Writer:
    def __init__(self, entity: ReportingEntity) -> None:
        self.entity = entity
        self.seq = 0
        self.parties = 0

    def el(self, parent: etree._Element, tag: str, text: object = None,
           seq: bool = False) -> etree._Element:
        child = etree.SubElement(parent, f"{{{NS}}}{tag}")
        if seq:
            self.seq += 1
            child.set("SeqNum", str(self.seq))
        if text is not None:
            child.text = str(text)
        return child

    def party(self, activity: etree._Element, code: str) -> etree._Element:
        self.parties += 1
        party = self.el(activity, "Party", seq=True)
        self.el(party, "ActivityPartyTypeCode", code)
        return party

    def name(self, party: etree._Element, full: str, kind: str = "L") -> None:
        node = self.el(party, "PartyName", seq=True)
        self.el(node, "PartyNameTypeCode", kind)
        self.el(node, "RawPartyFullName", _clip(full, 150))

    def institution(self, party: etree._Element, tcc: bool = False) -> None:
        """Address, identifiers (the TIN; a transmitter's control code too) and kind."""
        e = self.entity
        address = self.el(party, "Address", seq=True)
        for tag, key, limit in (("RawCityText", "city", 50), ("RawCountryCodeText",
                                "country", 2), ("RawStateCodeText", "state", 3),
                                ("RawStreetAddress1Text", "street", 100),
                                ("RawZIPCode", "zip", 9)):
            self.el(address, tag, _clip(e[f"fincen.address.{key}"], limit))
        ident = self.el(party, "PartyIdentification", seq=True)
        self.el(ident, "PartyIdentificationNumberText", _clip(e["fincen.tin"], 25))
        self.el(ident, "PartyIdentificationTypeCode", e["fincen.tin_type"])
        if tcc:
            ident = self.el(party, "PartyIdentification", seq=True)
            self.el(ident, "PartyIdentificationNumberText", _clip(e["fincen.transmitter_tcc"],
                                                                  25))
            self.el(ident, "PartyIdentificationTypeCode", "28")
            return
        org = self.el(party, "OrganizationClassificationTypeSubtype", seq=True)
        self.el(org, "OrganizationTypeID", e["fincen.organization_type"])

    def subject(self, activity: etree._Element, party: Party) -> None:
        node = self.party(activity, "33")
        if party.birth_dates:
            self.el(node, "IndividualBirthDateText", party.birth_dates[0].replace("-", ""))
        else:
            self.el(node, "BirthDateUnknownIndicator", "Y")
        self.el(node, "UnknownGenderIndicator", "Y")
        first, last = split_name(party.name)
        name = self.el(node, "PartyName", seq=True)
        self.el(name, "PartyNameTypeCode", "L")
        if last:
            self.el(name, "RawEntityIndividualLastName", _clip(last, 150))
        if first:
            self.el(name, "RawIndividualFirstName", _clip(first, 35))
        for other in party.names[1:]:
            self.name(node, other, "AKA")
        address = self.el(node, "Address", seq=True)
        if party.cities:
            self.el(address, "RawCityText", _clip(party.cities[0], 50))
        else:
            self.el(address, "CityUnknownIndicator", "Y")
        if party.country:
            self.el(address, "RawCountryCodeText", party.country)
        else:
            self.el(address, "CountryCodeUnknownIndicator", "Y")
        self.el(address, "StreetAddressUnknownIndicator", "Y")
        for phone in party.phones:
            number = self.el(node, "PhoneNumber", seq=True)
            self.el(number, "PhoneNumberText", _clip(phone.lstrip("+"), 16))
        ident = self.el(node, "PartyIdentification", seq=True)
        self.el(ident, "TINUnknownIndicator", "Y")
        for email in party.emails:
            address_node = self.el(node, "ElectronicAddress", seq=True)
            self.el(address_node, "ElectronicAddressText", _clip(email, 517))
            self.el(address_node, "ElectronicAddressTypeCode", "E")
        if party.accounts:
            # The accounts the payments name, at the institution holding them (41).
            assoc = self.el(node, "PartyAccountAssociation", seq=True)
            self.el(assoc, "PartyAccountAssociationTypeCode", "7")
            held = self.el(assoc, "Party", seq=True)
            self.el(held, "ActivityPartyTypeCode", "41")
            if party.key.role == "facilitator":
                self.el(held, "NonUSFinancialInstitutionIndicator", "Y")
            for number in party.accounts:
                account = self.el(held, "Account", seq=True)
                self.el(account, "AccountNumberText", _clip(number, 40))
                link = self.el(account, "PartyAccountAssociation", seq=True)
                self.el(link, "PartyAccountAssociationTypeCode", "7")


def render_fincen(data: ReportData, entity: ReportingEntity, reason: str,
                  rates: RateBook) -> bytes:
    entity.require("fincen")
    blocks = narrative_blocks(reason)
    dollars, missing = Decimal(0), []
    for t in data.transactions:
        usd, _ = in_currency(t, "USD", rates)
        if usd is None:
            missing.append(f"{t.provider} {t.txn_id} ({t.currency})")
        else:
            dollars += usd
    if missing:
        raise ReportInvalid("some payments cannot be given in US dollars", details=missing,
                            fix="load a rate table that covers them (sentinelle ingest "
                                "--rates FILE)")
    total = int(dollars.to_integral_value(ROUND_CEILING))
    w = _Writer(entity)
    root = etree.Element(f"{{{NS}}}EFilingBatchXML", nsmap={None: NS, "fc2": NS})
    w.el(root, "FormTypeCode", "SARX")
    activity = w.el(root, "Activity", seq=True)
    w.el(activity, "FilingDateText", f"{datetime.now(UTC):%Y%m%d}")
    w.el(activity, "FilingInstitutionNotetoFinCEN", KEY_TERM)
    assoc = w.el(activity, "ActivityAssociation", seq=True)
    w.el(assoc, "InitialReportIndicator", "Y")
    transmitter = w.party(activity, "35")
    w.name(transmitter, entity["name"])
    w.institution(transmitter, tcc=True)
    w.name(w.party(activity, "37"), entity["fincen.contact_office"])
    filer = w.party(activity, "30")
    w.el(filer, "PrimaryRegulatorTypeCode", entity["fincen.primary_regulator"])
    w.name(filer, entity["name"])
    w.institution(filer)
    office = w.party(activity, "8")
    w.name(office, entity["fincen.contact_office"])
    phone = w.el(office, "PhoneNumber", seq=True)
    w.el(phone, "PhoneNumberText", _clip(entity["fincen.contact_phone"], 16))
    where = w.party(activity, "34")
    w.el(where, "PrimaryRegulatorTypeCode", entity["fincen.primary_regulator"])
    w.name(where, entity["name"])
    w.institution(where)
    for subject in data.subjects:
        for key in subject.parties:
            if key in data.parties:
                w.subject(activity, data.parties[key])
    first, last = data.period
    suspicious = w.el(activity, "SuspiciousActivity", seq=True)
    w.el(suspicious, "SuspiciousActivityFromDateText",
         f"{first or datetime.now(UTC):%Y%m%d}")
    if last:
        w.el(suspicious, "SuspiciousActivityToDateText", f"{last:%Y%m%d}")
    w.el(suspicious, "TotalSuspiciousAmountText", str(total))
    kinds = [("9999", "OCSE")] + ([("927", None)] if entity["fincen.human_trafficking"]
                                  else [])
    for subtype, other in kinds:
        node = w.el(suspicious, "SuspiciousActivityClassification", seq=True)
        if other:
            w.el(node, "OtherSuspiciousActivityTypeText", other)
        w.el(node, "SuspiciousActivitySubtypeID", subtype)
        w.el(node, "SuspiciousActivityTypeID", "9")
    for n, block in enumerate(blocks, 1):
        narrative = w.el(activity, "ActivityNarrativeInformation", seq=True)
        w.el(narrative, "ActivityNarrativeSequenceNumber", n)
        w.el(narrative, "ActivityNarrativeText", block)
    for name, value in (("TotalAmount", total), ("PartyCount", w.parties),
                        ("ActivityCount", 1), ("ActivityAttachmentCount", 0),
                        ("AttachmentCount", 0)):
        root.set(name, str(value))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
