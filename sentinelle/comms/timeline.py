"""One time axis for a party, a handle or a phone: payments, messages, calls, referrals.

``timeline`` returns rows (UTC times); the command line prints them in UTC or a local
zone, and the web application can reuse the same function. Nothing here writes to the
warehouse. What the user types (the party, the handle, the phone) reaches SQL only as
bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentinelle.comms.handles import handle_values, phone_of
from sentinelle.comms.lexicon import Lexicon
from sentinelle.comms.table import KINDS, has_table
from sentinelle.errors import SentinelleError
from sentinelle.normalise import clean_email
from sentinelle.warehouse import Warehouse

TIMELINE_KINDS = ("payment", *KINDS, "referral")
ROLES = ("buyer", "facilitator")


@dataclass(frozen=True)
class TimelineRow:
    at: datetime  # UTC
    kind: str  # one of TIMELINE_KINDS
    who: str  # payer, sender or referral source
    to: str  # beneficiary, recipients, or the referral's subject
    summary: str  # amount and description, message text, call duration, referral summary
    amount_eur: float | None
    duration_s: int | None
    ref: str  # txn_id, comm_id or referral_id: what `trace` and the tables know it by
    source: str  # the file or table the row comes from
    lexicon_hits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Party:
    role: str
    provider: str
    party_id: str

    @classmethod
    def parse(cls, text: str) -> Party:
        """``ROLE:PROVIDER:ID`` (the provider holds no colon; the id may)."""
        parts = text.split(":", 2)
        if len(parts) != 3 or parts[0] not in ROLES or not all(parts):
            raise SentinelleError("a party is written ROLE:PROVIDER:ID", value=text,
                                  fix="e.g. --party 'buyer:Kestrel Remit:S00012345' "
                                      "(role: buyer or facilitator)")
        return cls(*parts)


def timeline(wh: Warehouse, *, party: Party | None = None, handle: str | None = None,
             phone: str | None = None, kinds: set[str] | None = None,
             lexicon: Lexicon | None = None, limit: int | None = None) -> list[TimelineRow]:
    """Every event about the party, handle or phone (exactly one), oldest first."""
    if sum(x is not None for x in (party, handle, phone)) != 1:
        raise SentinelleError("name exactly one of a party, a handle or a phone",
                              fix="--party ROLE:PROVIDER:ID, --handle H or --phone +CC…")
    unknown = set(kinds or ()) - set(TIMELINE_KINDS)
    if unknown:
        raise SentinelleError("unknown kind(s): " + ", ".join(sorted(unknown)),
                              fix="kinds: " + ", ".join(TIMELINE_KINDS))
    wanted = set(kinds or TIMELINE_KINDS)
    phones, emails, handles = _identity(wh, party, handle, phone)
    rows: list[TimelineRow] = []
    if "payment" in wanted and has_table(wh, "transactions"):
        rows += _payments(wh, party, phones)
    if wanted & set(KINDS) and has_table(wh, "communications") and handles:
        rows += [r for r in _communications(wh, handles, lexicon) if r.kind in wanted]
    if "referral" in wanted and has_table(wh, "referrals"):
        rows += _referrals(wh, party, phones, emails)
    rows.sort(key=lambda r: (r.at, TIMELINE_KINDS.index(r.kind), r.ref))
    return rows[:limit] if limit else rows


def _identity(wh: Warehouse, party: Party | None, handle: str | None, phone: str | None
              ) -> tuple[list[str], list[str], list[str]]:
    """The phones, e-mails and handles that stand for what was asked."""
    values = handle_values(wh).to_pylist() if has_table(wh, "communications") else []
    if party:
        side = "sender" if party.role == "buyer" else "beneficiary"
        email = "sender_email" if party.role == "buyer" else "NULL"
        found = wh.execute(
            f"SELECT DISTINCT {side}_phone, {email} FROM transactions "
            f"WHERE provider = ? AND {side}_id = ?", [party.provider, party.party_id]).fetchall()
        if not found:
            raise SentinelleError(f"no {party.role} {party.party_id!r} at {party.provider!r} "
                                  "in the transactions", fix="check the role, provider and id")
        phones = sorted({p for p, _ in found if p})
        emails = sorted({e for _, e in found if e})
    elif handle:
        phones = sorted({v["value"] for v in values if v["handle"] == handle
                         and v["kind"] == "phone"})
        emails = sorted({v["value"] for v in values if v["handle"] == handle
                         and v["kind"] == "email"})
        return phones, emails, [handle]
    else:
        clean = phone_of(phone or "")
        if clean is None:
            raise SentinelleError("not an international phone number", value=phone,
                                  fix="write it with its country code: +33 6 12 34 56 78")
        phones, emails = [clean], []
    linked = {v["handle"] for v in values
              if (v["kind"] == "phone" and v["value"] in phones)
              or (v["kind"] == "email" and v["value"] in emails)}
    return phones, emails, sorted(linked)


def _payments(wh: Warehouse, party: Party | None, phones: list[str]) -> list[TimelineRow]:
    if party:
        side = "sender_id" if party.role == "buyer" else "beneficiary_id"
        where = f"provider = $1 AND {side} = $2"
        params: list[Any] = [party.provider, party.party_id]
    else:
        where = "list_contains($1, sender_phone) OR list_contains($1, beneficiary_phone)"
        params = [phones]
    found = wh.execute(
        f"""SELECT "timestamp", sender_id, coalesce(sender_name_raw, ''), beneficiary_id,
                   coalesce(beneficiary_name_raw, ''), amount, currency, amount_eur,
                   coalesce(description, ''), txn_id, provider FROM transactions
            WHERE {where}""", params).fetchall()
    return [TimelineRow(at, "payment", f"{sid} {sname}".strip(), f"{bid} {bname}".strip(),
                        f"{amount} {currency}" + (f" — {desc}" if desc else ""),
                        float(eur) if eur is not None else None, None, txn, f"transactions "
                        f"({provider})")
            for at, sid, sname, bid, bname, amount, currency, eur, desc, txn, provider in found]


def _communications(wh: Warehouse, handles: list[str], lexicon: Lexicon | None
                    ) -> list[TimelineRow]:
    found = wh.execute(
        """SELECT c."timestamp", c.kind, c.sender, c.recipients, c.text, c.attachments,
                  c.duration_s, c.call_outcome, c.comm_id, c.platform, f.path
           FROM communications c JOIN ingest_files f ON f.file_id = c.source_file_id
           WHERE list_contains($1, c.sender) OR list_has_any($1, c.recipients)""",
        [handles]).fetchall()
    return [_comm_row(r, lexicon) for r in found]


def _comm_row(r: tuple[Any, ...], lexicon: Lexicon | None) -> TimelineRow:
    at, kind, sender, recipients, text, attachments, duration, outcome, comm_id, platform, \
        path = r
    if kind in ("voice_call", "video_call"):
        summary = (f"{duration // 60} min {duration % 60:02d} s" if duration is not None
                   else "duration not given") + (f" ({outcome})" if outcome else "")
    else:
        summary = text or ""
        if attachments:
            summary = (summary + " " if summary else "") + "[" + ", ".join(attachments) + "]"
    hits = tuple(lexicon.matches(text)) if lexicon and text else ()
    return TimelineRow(at, kind, sender, ", ".join(recipients or []), summary, None, duration,
                       comm_id, f"{platform}: {path.rsplit('/', 1)[-1]}", hits)


def _referrals(wh: Warehouse, party: Party | None, phones: list[str], emails: list[str]
               ) -> list[TimelineRow]:
    clean_emails = [e for e in (clean_email(x)[0] for x in emails) if e]
    matched = ""
    params: list[Any] = [phones, clean_emails]
    if party and has_table(wh, "det_referral_matches"):
        matched = (" OR (referral_id, source) IN (SELECT referral_id, source FROM "
                   "det_referral_matches WHERE role = $3 AND provider = $4 AND party_id = $5)")
        params += [party.role, party.provider, party.party_id]
    found = wh.execute(
        f"""SELECT received_at, source, coalesce(subject_name_raw, ''),
                   coalesce(summary, ''), referral_id FROM referrals
            WHERE list_contains($1, subject_phone) OR list_contains($2, subject_email)
            {matched}""", params).fetchall()
    return [TimelineRow(at if isinstance(at, datetime) else datetime(at.year, at.month, at.day),
                        "referral", source, name, summary, None, None, ref, "referrals")
            for at, source, name, summary, ref in found]
