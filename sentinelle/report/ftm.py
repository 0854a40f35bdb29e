"""FollowTheMoney entities, one JSON object a line, for Aleph/OpenAleph (``ftm``, ``alephclient
write-entities``) and any tool that reads FollowTheMoney.

Each party becomes a ``Person`` (every name, phone, e-mail, country, city and birth date
seen), each account a ``BankAccount``, each payment a ``Payment`` linking payer and
beneficiary and their accounts. When the warehouse holds communications (chat exports and
call logs), each handle tied to a report party's phone or e-mail becomes a ``UserAccount``
owned by that person, and the messages and calls that handle sent or received become
``Message`` and ``Call`` entities.

Entities are built and cleaned by the followthemoney package itself (``model.make_entity``),
so a value FollowTheMoney would refuse never reaches the file. Ids are hashes of what the
entity is (``make_id``): the same party, account or payment gets the same id in every
export, so loading two reports into one Aleph collection merges them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from sentinelle.normalise.iban import check_iban, looks_like_iban
from sentinelle.report.gather import Party, ReportData
from sentinelle.review.reader import WarehouseView

__all__ = ["entities", "render_ftm"]

_DIGITS = re.compile(r"\D")


def _entity(schema: str, *key: str) -> EntityProxy:
    proxy = model.make_entity(schema)
    proxy.make_id("sentinelle", schema, *key)
    return proxy


def _person(party: Party) -> EntityProxy:
    p = _entity("Person", party.key.side, party.key.provider, party.key.party_id)
    p.add("name", party.names or [party.key.party_id])
    p.add("phone", party.phones)
    p.add("email", party.emails)
    p.add("country", party.countries)
    p.add("birthDate", party.birth_dates)
    p.add("address", party.cities)
    score = "" if party.score is None else f"; score {party.score:.2f} in the last run"
    p.add("description", f"Sentinelle {party.key.role} {party.key.party_id} at "
                         f"{party.key.provider}{score}"
                         + ("; named in a referral" if party.referred else ""))
    return p


def _account(party: Party, number: str) -> EntityProxy:
    a = _entity("BankAccount", party.key.provider, number)
    a.add("accountNumber", number)
    a.add("bankName", party.key.provider)
    if looks_like_iban(number) and check_iban(number) is None:
        a.add("iban", number)
    return a


def entities(data: ReportData, view: WarehouseView | None = None) -> Iterator[EntityProxy]:
    """Every entity of the report: people, accounts, payments, then communications."""
    people: dict[Any, EntityProxy] = {}
    accounts: dict[tuple[str, str], EntityProxy] = {}
    for key, party in data.parties.items():
        people[key] = _person(party)
        yield people[key]
        for number in party.accounts:
            if (key.provider, number) not in accounts:
                accounts[key.provider, number] = _account(party, number)
                yield accounts[key.provider, number]
    files = {s.file_id: s for s in data.sources}
    for t in data.transactions:
        pay = _entity("Payment", t.provider, t.txn_id)
        pay.add("transactionNumber", t.txn_id)
        pay.add("recordId", f"{t.provider}/{t.txn_id}")
        pay.add("publisher", t.provider)
        if t.timestamp is not None:
            pay.add("date", t.timestamp.isoformat(timespec="seconds"))
        if t.amount is not None:
            pay.add("amount", format(t.amount.normalize(), "f"))
        pay.add("currency", t.currency)
        if t.amount_eur is not None:
            pay.add("amountEur", format(t.amount_eur, "f"))
        pay.add("purpose", t.description)
        pay.add("programme", t.channel)
        for role, key in (("payer", t.sender), ("beneficiary", t.beneficiary)):
            if key in people:
                pay.add(role, people[key].id)
                party = data.parties[key]
                if party.accounts and (key.provider, party.accounts[0]) in accounts:
                    pay.add(f"{role}Account", accounts[key.provider, party.accounts[0]].id)
        source = files.get(t.source_file_id) if t.source_file_id is not None else None
        notes = [f"source {source.path} line {t.source_line}, SHA-256 {source.sha256}"
                 if source else "source unknown"]
        if t.indicators:
            notes.append("evidence for " + ", ".join(t.indicators))
        pay.add("summary", "; ".join(notes))
        yield pay
    if view is not None and view.has_table("communications") \
            and view.has_table("comm_identifiers"):
        yield from _communications(view, data, people)


def _communications(view: WarehouseView, data: ReportData,
                    people: dict[Any, EntityProxy]) -> Iterator[EntityProxy]:
    """Handles tied to a report party's phone or e-mail, and what they sent or received.
    Phones compare on their digits (an export writes +63 917…, 0063917…, or 63917…)."""
    wanted: dict[str, list[Any]] = {}
    for key, party in data.parties.items():
        for phone in party.phones:
            wanted.setdefault("p" + _DIGITS.sub("", phone)[-9:], []).append(key)
        for email in party.emails:
            wanted.setdefault("e" + email.strip().lower(), []).append(key)
    handles: dict[tuple[str, str], EntityProxy] = {}
    for platform, handle, kind, value in view.rows(
            "SELECT DISTINCT platform, handle, kind, value_raw FROM comm_identifiers "
            "ORDER BY platform, handle, kind, value_raw"):
        norm = ("p" + _DIGITS.sub("", value)[-9:]) if kind == "phone" else \
            ("e" + value.strip().lower())
        for key in wanted.get(norm, []):
            account = handles.get((platform, handle))
            if account is None:
                account = handles[platform, handle] = _entity("UserAccount", platform, handle)
                account.add("service", platform)
                account.add("username", handle)
            account.add("phone" if kind == "phone" else "email", value)
            account.add("owner", people[key].id)
    yield from handles.values()
    if not handles:
        return
    names = sorted({h for _, h in handles})
    rows = view.dicts(
        """SELECT comm_id, timestamp, platform, conversation, sender, recipients, kind,
                  duration_s, text FROM communications
           WHERE sender IN (SELECT unnest(?::VARCHAR[]))
              OR list_has_any(recipients, ?::VARCHAR[])
           ORDER BY timestamp, comm_id""", [names, names])
    for r in rows:
        sender = handles.get((r["platform"], r["sender"]))
        others = [handles[r["platform"], h] for h in r["recipients"] or []
                  if (r["platform"], h) in handles]
        if r["kind"] in ("voice_call", "video_call"):
            call = _entity("Call", r["comm_id"])
            call.add("date", r["timestamp"].isoformat(timespec="seconds"))
            call.add("duration", r["duration_s"])
            if sender is not None:
                call.add("caller", sender.get("owner"))
            for other in others:
                call.add("receiver", other.get("owner"))
            call.add("description", f"{r['kind'].replace('_', ' ')} on {r['platform']}")
            yield call
        elif r["kind"] == "message":
            message = _entity("Message", r["comm_id"])
            message.add("date", r["timestamp"].isoformat(timespec="seconds"))
            message.add("threadTopic", r["conversation"])
            message.add("bodyText", r["text"])
            if sender is not None:
                message.add("senderAccount", sender.id)
                message.add("sender", sender.get("owner"))
            for other in others:
                message.add("recipientAccount", other.id)
                message.add("recipients", other.get("owner"))
            yield message


def render_ftm(data: ReportData, view: WarehouseView | None = None) -> bytes:
    lines = [json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False)
             for e in entities(data, view)]
    return ("\n".join(lines) + "\n").encode("utf-8")
