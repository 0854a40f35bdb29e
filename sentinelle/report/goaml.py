"""A suspicious transaction report in UNODC goAML 5 XML (the schema about sixty FIUs use).

The mapping (docs/reports.md has it as a table): the reporting entity from its settings;
``reason`` is the narrative; one ``transaction`` per payment, ``t_from`` the sender and
``t_to`` the beneficiary — an account (with its holder as signatory) when the payment names
one, else the person — with ``amount_local`` in the FIU's currency and the payment's own
currency as ``foreign_currency`` beside it; ``report_indicators`` are the FIU's codes for
the indicators that fired on the subjects.

The client forms (``t_from_my_client``, ``t_to_my_client``) require an identity document,
gender, birth date and nationality, which payment exports do not carry: a party on the side
``goaml.my_client_side`` names is written in them when the entity's KYC file
(:mod:`sentinelle.report.kyc`) has a row for it, and in the non-client form otherwise
(:func:`client_gaps` lists those).

goAML's name fields accept ASCII letters, digits, space and . ' - only: a name is written
there transliterated (normality, as followthemoney does), and as recorded — any script —
in ``alias`` when the two differ, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import phonenumbers
from lxml import etree
from normality import ascii_text

from sentinelle.errors import ReportInvalid, SettingsError
from sentinelle.normalise.iban import looks_like_iban
from sentinelle.normalise.rates import RateBook
from sentinelle.report.entity import ReportingEntity
from sentinelle.report.gather import Party, ReportData, Transaction
from sentinelle.report.kyc import Client
from sentinelle.report.money import in_currency
from sentinelle.report.xmltools import clean_text

__all__ = ["REASON_LIMIT", "client_gaps", "render_goaml", "split_name"]

REASON_LIMIT = 8000  # comments_type
_NAME_OK = re.compile(r"[^a-zA-Z0-9 .'-]")
_EMAIL = re.compile(r"[_a-zA-Z0-9+-]+(\.[_a-zA-Z0-9+-]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*"
                    r"(\.[a-zA-Z]{2,15})")


def _ascii_name(text: str, limit: int = 100) -> str:
    """What goAML's name pattern accepts; ``-`` (goAML's "unknown") when nothing is left."""
    out = " ".join(_NAME_OK.sub(" ", ascii_text(text) or "").split())[:limit].strip()
    return out or "-"


def split_name(raw: str) -> tuple[str, str]:
    """(first names, last name) from a name as recorded. ``SURNAME Given`` (referrals'
    and some providers' order: leading words in capitals) puts the capitals last;
    otherwise the last word is the surname."""
    words = raw.split()
    if not words:
        return "", ""
    caps = 0
    while caps < len(words) - 1 and words[caps].isupper() and len(words[caps]) > 1:
        caps += 1
    if caps:
        return " ".join(words[caps:]), " ".join(words[:caps])
    return " ".join(words[:-1]), words[-1]


def _when(value: datetime | str) -> str:
    if isinstance(value, str):
        return f"{value}T00:00:00"
    return value.replace(microsecond=0).isoformat()


class _Writer:
    def __init__(self, data: ReportData, entity: ReportingEntity, reason: str,
                 rates: RateBook, kyc: Mapping[tuple[str, str], Client]) -> None:
        self.data, self.entity, self.reason, self.rates = data, entity, reason, rates
        self.kyc = kyc
        self.local = entity["goaml.currency_code_local"]
        self.problems: list[str] = []

    def el(self, parent: etree._Element, tag: str, text: object = None) -> etree._Element:
        child = etree.SubElement(parent, tag)
        if text is not None:
            child.text = clean_text(text)
        return child

    def report(self) -> etree._Element:
        e, data = self.entity, self.data
        root = etree.Element("report")
        self.el(root, "schema_version", "5.0.2")
        self.el(root, "rentity_id", e["goaml.rentity_id"])
        if e["goaml.rentity_branch"]:
            self.el(root, "rentity_branch", e["goaml.rentity_branch"])
        self.el(root, "submission_code", "E")
        self.el(root, "report_code", e["goaml.report_code"])
        self.el(root, "entity_reference", data.reference[:255])
        self.el(root, "submission_date",
                _when(datetime.now(UTC).replace(tzinfo=None)))
        self.el(root, "currency_code_local", self.local)
        person = self.el(root, "reporting_person")
        self.el(person, "first_name", _ascii_name(e["goaml.reporting_person.first_name"]))
        self.el(person, "last_name", _ascii_name(e["goaml.reporting_person.last_name"]))
        if e["goaml.reporting_person.email"]:
            self.el(person, "email", e["goaml.reporting_person.email"])
        if e["goaml.reporting_person.occupation"]:
            self.el(person, "occupation", e["goaml.reporting_person.occupation"])
        self.el(root, "reason", self.reason)
        if e["goaml.action"]:
            self.el(root, "action", e["goaml.action"])
        for t in data.transactions:
            self.transaction(root, t)
        indicators = self.el(root, "report_indicators")
        for code in self.indicator_codes():
            self.el(indicators, "indicator", code)
        return root

    def indicator_codes(self) -> list[str]:
        mapping = self.entity["goaml.indicator_codes"]
        codes = list(self.entity["goaml.default_indicator_codes"])
        for subject in self.data.subjects:
            for r in subject.reasons:
                found = mapping.get(r["indicator"], [])
                codes += [found] if isinstance(found, str) else found
        if not codes:
            raise SettingsError(
                "goAML requires at least one report indicator code", file=self.entity.source,
                fix="set goaml.default_indicator_codes, or map our indicator ids to your "
                    "FIU's codes in goaml.indicator_codes")
        return sorted(dict.fromkeys(codes))

    def transaction(self, root: etree._Element, t: Transaction) -> None:
        e = self.entity
        local, rate = in_currency(t, self.local, self.rates)
        if local is None or t.timestamp is None:
            self.problems.append(f"{t.provider} {t.txn_id}: no {self.local} amount (no "
                                 f"rate for {t.currency} on its date, or no date)")
            return
        channel = t.channel or ""
        tx = self.el(root, "transaction")
        self.el(tx, "transactionnumber", t.txn_id[:100])
        self.el(tx, "internal_ref_number", f"{t.provider}/{t.txn_id}"[:100])
        self.el(tx, "transaction_location",
                (e["goaml.transaction_location"] or t.provider)[:255])
        self.el(tx, "transaction_description",
                "; ".join(x for x in (channel, t.description) if x) or "-")
        self.el(tx, "date_transaction", _when(t.timestamp))
        self.el(tx, "transmode_code", e["goaml.transmode_codes"].get(channel, "-"))
        # This schema allows one character here: C for cash, E for anything electronic.
        self.el(tx, "transmode_comment", "C" if channel == "cash" else "E")
        self.el(tx, "amount_local", local)
        funds = e["goaml.funds_codes"].get(channel, e["goaml.default_funds_code"])
        for side, key, country in (("from", t.sender, t.sender_country),
                                   ("to", t.beneficiary, t.beneficiary_country)):
            client = _client(self.entity, self.kyc, side, key.provider, key.party_id)
            part = self.el(tx, f"t_{side}_my_client" if client else f"t_{side}")
            self.el(part, f"{side}_funds_code", funds)
            if t.currency and t.currency != self.local and t.amount is not None:
                foreign = self.el(part, f"{side}_foreign_currency")
                self.el(foreign, "foreign_currency_code", t.currency)
                self.el(foreign, "foreign_amount", format(t.amount.normalize(), "f"))
                if rate is not None:
                    self.el(foreign, "foreign_exchange_rate", rate)
            if client:
                self.client(self.el(part, f"{side}_person"), self.data.parties[key], client)
            else:
                self.party(part, side, self.data.parties[key])
            self.el(part, f"{side}_country", country or "-")
        notes = [f"Sentinelle: {t.provider} {t.txn_id}"]
        if t.indicators:
            notes.append("evidence for " + ", ".join(t.indicators))
        source = next((s for s in self.data.sources if s.file_id == t.source_file_id), None)
        if source:
            notes.append(f"source {source.path} line {t.source_line} "
                         f"(SHA-256 {source.sha256})")
        self.el(tx, "comments", "; ".join(notes))

    def party(self, parent: etree._Element, side: str, party: Party) -> None:
        if party.accounts:
            account = self.el(parent, f"{side}_account")
            provider = party.key.provider
            self.el(account, "institution_name", provider[:255])
            self.el(account, "institution_code",
                    self.entity["goaml.institution_codes"].get(provider, provider)[:50])
            number = party.accounts[0]
            self.el(account, "account", number[:255])
            self.el(account, "account_name", _ascii_name(party.name, 255))
            if looks_like_iban(number) and len(number) <= 34:
                self.el(account, "iban", number)
            signatory = self.el(account, "signatory")
            self.person(self.el(signatory, "t_person"), party)
        else:
            self.person(self.el(parent, f"{side}_person"), party)

    def person(self, node: etree._Element, party: Party) -> None:
        first, last = split_name(party.name)
        self.el(node, "first_name", _ascii_name(first))
        self.el(node, "last_name", _ascii_name(last))
        if party.birth_dates:
            self.el(node, "birthdate", _when(party.birth_dates[0]))
        ascii_full = f"{_ascii_name(first)} {_ascii_name(last)}"
        if party.names and " ".join(party.name.split()) != ascii_full:
            self.el(node, "alias", party.name[:100])
        if party.country:
            self.el(node, "residence", party.country)
        phones = [p for p in (_phone(x) for x in party.phones) if p]
        if phones:
            holder = self.el(node, "phones")
            for prefix, number in phones:
                phone = self.el(holder, "phone")
                self.el(phone, "tph_contact_type", "PRIVT")
                self.el(phone, "tph_communication_type", "M")
                self.el(phone, "tph_country_prefix", prefix)
                self.el(phone, "tph_number", number)
        emails = [x for x in party.emails if _EMAIL.fullmatch(x) and len(x) <= 255][:5]
        for email in emails:
            self.el(node, "email", email)
        self.el(node, "comments", _person_notes(party, emails))


    def client(self, node: etree._Element, party: Party, client: Client) -> None:
        """The entity's own client (``t_person_my_client``), from its KYC record."""
        first, last = split_name(party.name)
        self.el(node, "gender", client.gender)
        self.el(node, "first_name", _ascii_name(first))
        self.el(node, "last_name", _ascii_name(last))
        self.el(node, "birthdate", _when(client.birth_date))
        if " ".join(party.name.split()) != f"{_ascii_name(first)} {_ascii_name(last)}":
            self.el(node, "alias", party.name[:100])
        self.el(node, "id_number", client.id_number[:255])
        self.el(node, "nationality1", client.nationality)
        self.el(node, "residence", party.country or client.nationality)
        holder = self.el(node, "phones")
        for prefix, number in [p for p in (_phone(x) for x in party.phones) if p]:
            phone = self.el(holder, "phone")
            self.el(phone, "tph_contact_type", "PRIVT")
            self.el(phone, "tph_communication_type", "M")
            self.el(phone, "tph_country_prefix", prefix)
            self.el(phone, "tph_number", number)
        emails = [x for x in party.emails if _EMAIL.fullmatch(x) and len(x) <= 255][:5]
        for email in emails:
            self.el(node, "email", email)
        ident = self.el(node, "identification")
        for tag, value in (("type", client.id_type), ("number", client.id_number),
                           ("issue_date", _when(client.id_issue_date)),
                           ("expiry_date", _when(client.id_expiry_date)),
                           ("issue_country", client.id_issue_country)):
            self.el(ident, tag, value)
        self.el(node, "tax_reg_number", client.tax_reg_number)
        self.el(node, "comments", _person_notes(party, emails))


def _client(entity: ReportingEntity, kyc: Mapping[tuple[str, str], Client], side: str,
            provider: str, party_id: str) -> Client | None:
    wanted = {"from": "sender", "to": "beneficiary"}[side]
    if entity["goaml.my_client_side"] != wanted:
        return None
    return kyc.get((provider, party_id))


def client_gaps(data: ReportData, entity: ReportingEntity,
                kyc: Mapping[tuple[str, str], Client]) -> list[str]:
    """Parties on the client side with no KYC row: written in the non-client form."""
    side = entity["goaml.my_client_side"]
    if not side:
        return []
    role = "buyer" if side == "sender" else "facilitator"
    return [f"{k.provider} {k.party_id}" for k in data.parties
            if k.role == role and (k.provider, k.party_id) not in kyc]


def _phone(e164: str) -> tuple[str, str] | None:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return str(parsed.country_code), str(parsed.national_number)


def _person_notes(party: Party, emails: Iterable[str]) -> str:
    """What goAML has no field for here, so that nothing known is left out."""
    notes = [f"Sentinelle {party.key.role} {party.key.party_id} at {party.key.provider}"]
    if party.score is not None:
        notes.append(f"score {party.score:.2f}" + (", named in a referral"
                                                   if party.referred else ""))
    for label, values in (("also recorded as", party.names[1:]),
                          ("accounts", party.accounts[1:]), ("cities", party.cities),
                          ("other e-mails", [x for x in party.emails if x not in emails]),
                          ("other countries", party.countries[1:])):
        if values:
            notes.append(f"{label}: {', '.join(values)}")
    return "; ".join(notes)


def render_goaml(data: ReportData, entity: ReportingEntity, reason: str,
                 rates: RateBook, kyc: Mapping[tuple[str, str], Client] | None = None) -> bytes:
    entity.require("goaml")
    if len(reason) > REASON_LIMIT:
        raise ReportInvalid(f"the narrative has {len(reason):,} characters; goAML takes at "
                            f"most {REASON_LIMIT:,}", fix="shorten it (--reason-file)")
    writer = _Writer(data, entity, reason, rates, kyc or {})
    root = writer.report()
    if writer.problems:
        raise ReportInvalid("some payments cannot be given in the FIU's currency",
                            details=writer.problems,
                            fix="load a rate table that covers them (sentinelle ingest "
                                "--rates FILE) or set goaml.currency_code_local")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                standalone=True, pretty_print=True))

