"""A subject's page: everything the warehouse and the case database know about one party.

A subject is a scored party, named as the warehouse names it: (role, provider, party_id),
where a buyer is a sender and a facilitator a beneficiary. The page shows who the party
appears to be (every name, phone, account... seen on its payments, with counts), its score
as a sum with the transactions behind each term, its rhythm (amounts per month and an
hour × weekday map in local time), who it pays or is paid by, the referrals that name it
and the cases that hold it — only the cases the viewer may see. Every view is audited.

The party's payments are read once, by the lookup index detection builds on the party's id
column (docs/web.md), and everything drawn from them — identities, evidence, months, heat
maps, counterparties — is counted here in Python: a party has tens or thousands of
payments, and a query per section cost more in DuckDB's fixed overhead than the counting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.normalise.zones import country_zone
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.review import access, audit
from sentinelle.review.models import AlertState, Case, CaseSubject, Disposition, User
from sentinelle.review.reader import WarehouseView

__all__ = ["SIDES", "PartyKey", "Subject", "subject_page"]

# A buyer is scored as a sender, a facilitator as a beneficiary.
SIDES = {"buyer": "sender", "facilitator": "beneficiary"}
OTHER_ROLE = {"buyer": "facilitator", "facilitator": "buyer"}
OTHER_SIDE = {"sender": "beneficiary", "beneficiary": "sender"}
# What identifies a party on its payments, per side (columns of `transactions`).
IDENTITY_FIELDS = {
    "sender": ("name", "phone", "email", "account", "country", "birth_date"),
    "beneficiary": ("name", "phone", "account", "country", "city"),
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# What the page reads of each of the party's payments (columns of `transactions`).
_PAYMENT_COLUMNS = (
    "provider", "txn_id", "timestamp", "timestamp_offset_min", "timestamp_raw", "amount",
    "currency", "amount_eur", "sender_id", "sender_name", "beneficiary_id",
    "beneficiary_name", "sender_country", "beneficiary_country", "description",
    "source_file_id", "source_line")
Payment = dict[str, Any]
# What ``quote(part, safe="")`` leaves as it is.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
_CONTRIBUTION_COLUMNS = ("indicator", "value", "strength", "points", "contribution", "reason")


class PartyKey(NamedTuple):
    role: str
    provider: str
    party_id: str

    @property
    def side(self) -> str:
        return SIDES[self.role]

    @property
    def target(self) -> str:
        """How the audit log names the party."""
        return f"{self.role}/{self.provider}/{self.party_id}"

    @property
    def token(self) -> str:
        """The key as one URL-safe string (form values, links). Most parts need no
        encoding, and checking is cheaper than ``quote`` (a queue page has a hundred)."""
        return "/".join(part if _URL_SAFE.fullmatch(part) else quote(part, safe="")
                        for part in self)

    @classmethod
    def parse(cls, token: str) -> PartyKey:
        parts = token.split("/")
        if len(parts) != 3:
            raise ReviewError(f"{token!r} does not name a party",
                              fix="use role/provider/party_id, each part URL-encoded")
        return cls.of(*(unquote(p) for p in parts))

    @classmethod
    def of(cls, role: str, provider: str, party_id: str) -> PartyKey:
        if role not in SIDES:
            raise ReviewError(f"unknown role {role!r}", fix="use buyer or facilitator")
        if not provider or not party_id:
            raise ReviewError("a party needs a provider and an id")
        return cls(role, provider, party_id)


@dataclass
class Evidence:
    indicator: str
    total: int
    rows: list[dict[str, Any]]


@dataclass
class Heatmap:
    """Payments per weekday (rows, Monday first) and hour (columns) in one clock."""

    title: str
    clock: str
    counts: list[list[int]]


@dataclass
class Subject:
    key: PartyKey
    name: str | None
    country: str | None
    payments: int
    eur: float
    last_payment_at: datetime | None
    score: float
    base: float
    rank: int
    alert_no: int | None
    reasons: list[str]
    contributions: list[dict[str, Any]]
    identities: dict[str, list[dict[str, Any]]]
    evidence: list[Evidence]
    months: list[dict[str, Any]]
    heatmaps: list[Heatmap]
    counterparties: list[dict[str, Any]]
    counterparties_total: int
    referrals: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    records: list[dict[str, Any]]
    status: str
    assignee: str | None
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key._asdict()
        out["token"] = self.key.token
        return out


def subject_page(session: Session, view: WarehouseView, user: User, key: PartyKey, *,
                 ip: str | None = None, evidence_limit: int = 25,
                 counterparty_limit: int = 100) -> Subject:
    """The subject's page data; the view is written to the audit log first."""
    access.require(user, "view_subject")
    view.require_detection()
    args = [key.role, key.provider, key.party_id]
    # Both lookups by the id alone, so that DuckDB uses the ids' indexes (docs/web.md);
    # two plain lookups cost half what one query joining them did.
    row = _one_party(key, view.dicts(
        """SELECT role, provider, name, country, payments, CAST(eur AS DOUBLE) AS eur,
                  last_payment_at, score, base, rank, reasons
           FROM det_scores WHERE party_id = ?""", [key.party_id]))
    if row is None:
        raise NotFound(f"no {key.role} {key.party_id!r} ({key.provider}) in the last "
                       "detection run", fix="search for the party by name, phone or id")
    alert = _one_party(key, view.dicts(
        "SELECT role, provider, alert_no FROM det_alerts WHERE party_id = ?", [key.party_id]))
    audit.record(session, action="view_subject", user=user, target=key.target, ip=ip)
    session.commit()
    state = session.scalars(select(AlertState).where(
        AlertState.role == key.role, AlertState.provider == key.provider,
        AlertState.party_id == key.party_id)).first()
    keys = _keys(view, key)  # read once: the payments, cases and decisions all use them
    payments = _payments(view, key, [(k.provider, k.party_id) for k in
                                     (keys[1:] if key.provider == SUBJECT_PROVIDER else keys)])
    total, counterparties = _counterparties(view, key, payments, counterparty_limit)
    return Subject(
        key=key, name=row["name"], country=row["country"], payments=row["payments"],
        eur=row["eur"], last_payment_at=row["last_payment_at"], score=row["score"],
        base=row["base"], rank=row["rank"], alert_no=alert["alert_no"] if alert else None,
        reasons=[r for r in (row["reasons"] or "").split("; ") if r],
        contributions=[{k: c[k] for k in _CONTRIBUTION_COLUMNS} for c in _of_party(
            key, view.dicts(
                f"""SELECT role, provider, {', '.join(_CONTRIBUTION_COLUMNS)}
                    FROM det_contributions WHERE party_id = ?
                    ORDER BY contribution DESC, indicator""", [key.party_id]))],
        identities=_identities(key, payments),
        evidence=_evidence(view, key, payments, evidence_limit),
        months=_months(payments),
        heatmaps=_heatmaps(key, payments),
        counterparties=counterparties, counterparties_total=total,
        referrals=view.dicts(
            """SELECT m.referral_id, m.source, m.matched_on, r.received_at, r.subject_role,
                      r.subject_name_raw AS subject_name, r.summary
               FROM det_referral_matches m
               LEFT JOIN referrals r ON r.referral_id = m.referral_id AND r.source = m.source
               WHERE m.role = ? AND m.provider = ? AND m.party_id = ?
               ORDER BY r.received_at, m.referral_id""", args) if key in _referred(view)
        else [],
        cases=_cases(session, user, keys),
        records=_records(view, key),
        status=state.status if state else "new",
        assignee=state.assignee.username if state and state.assignee else None,
        decisions=_decisions(session, keys),
    )


def _of_party(key: PartyKey, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a lookup by party id that are the party's own. The det_* lookups filter
    on the id alone, so that DuckDB uses the id's index (docs/web.md); the role and
    provider are compared here."""
    return [r for r in rows if r["role"] == key.role and r["provider"] == key.provider]


def _one_party(key: PartyKey, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = _of_party(key, rows)
    return found[0] if found else None


def _identity_column(side: str, f: str) -> str:
    """Names are shown as recorded (the folded form is what detection compares)."""
    return f"{side}_{f}{'_raw' if f == 'name' else ''}"


def _payments(view: WarehouseView, key: PartyKey,
              members: list[tuple[str, str]]) -> list[Payment]:
    """The party's payments, found by the index on its id column (built by detection).
    DuckDB uses an index only when the filter is on the indexed column alone, so the
    provider is compared here. Column names come from the declarations above.

    A subject (entity resolution) is read party by party: each provider's parties it
    holds, from ``det_subject_parties``. Each payment carries its counterparty's key
    (``_other``): a party id, or a subject id when the subject is."""
    side, other = key.side, OTHER_SIDE[key.side]
    cols = list(dict.fromkeys(
        [*_PAYMENT_COLUMNS, *(_identity_column(side, f) for f in IDENTITY_FIELDS[side])]))
    out: list[Payment] = []
    for provider, party_id in members:
        rows = view.rows(f"SELECT {', '.join(cols)} FROM transactions WHERE {side}_id = ?",
                         [party_id])
        out += [p for p in (dict(zip(cols, r, strict=True)) for r in rows)
                if p["provider"] == provider]
    subjects = (_subjects_of(view, other, {(p["provider"], p[f"{other}_id"]) for p in out})
                if key.provider == SUBJECT_PROVIDER else {})
    for p in out:
        p["_other"] = subjects.get((p["provider"], p[f"{other}_id"]), p[f"{other}_id"])
    return out


def _members(view: WarehouseView, side: str, subject_id: str) -> list[tuple[str, str]]:
    """The providers' parties a subject holds on one side, as the last detection run
    resolved them."""
    return [(provider, party_id) for provider, party_id in view.rows(
        "SELECT provider, party_id FROM det_subject_parties WHERE subject_id = ? "
        "AND side = ? ORDER BY provider, party_id", [subject_id, side])]


def _subjects_of(view: WarehouseView, side: str,
                 parties: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The subject of each (provider, party_id) on one side."""
    if not parties:
        return {}
    ids = sorted({party_id for _, party_id in parties if party_id is not None})
    return {(provider, party_id): subject for provider, party_id, subject in view.rows(
        """SELECT provider, party_id, subject_id FROM det_subject_parties
           WHERE side = ? AND party_id IN (SELECT unnest(?::VARCHAR[]))""", [side, ids])
        if (provider, party_id) in parties}


def _records(view: WarehouseView, key: PartyKey) -> list[dict[str, Any]]:
    """Every record entity resolution put in a subject: the providers' parties on either
    side and the referrals, with what was compared (docs/resolve.md)."""
    if key.provider != SUBJECT_PROVIDER or not view.has_table("er_records"):
        return []
    return view.dicts(
        """SELECT r.kind, r.source, r.source_id, r.name, r.birth_date, r.phone, r.email,
                  r.account, r.country
           FROM er_clusters c JOIN er_records r USING (record_id)
           WHERE c.subject_id = ? ORDER BY r.kind, r.source, r.source_id""",
        [key.party_id])


def _first_last(found: dict[Any, list[Any]], key: Any, ts: datetime | None) -> list[Any]:
    """Count a payment under ``key``: [payments, first, last] (times that are missing
    are left out of first and last, as SQL's min and max do)."""
    entry = found.setdefault(key, [0, None, None])
    entry[0] += 1
    if ts is not None:
        entry[1] = ts if entry[1] is None else min(entry[1], ts)
        entry[2] = ts if entry[2] is None else max(entry[2], ts)
    return entry


def _identities(key: PartyKey, payments: list[Payment]) -> dict[str, list[dict[str, Any]]]:
    """Every value of each identifying field seen on the party's payments, with counts,
    most frequent first."""
    fields = IDENTITY_FIELDS[key.side]
    found: dict[tuple[str, str], list[Any]] = {}
    for p in payments:
        for f in fields:
            value = p[_identity_column(key.side, f)]
            if value is not None:  # a date is shown as SQL writes it: YYYY-MM-DD
                _first_last(found, (f, str(value)), p["timestamp"])
    out: dict[str, list[dict[str, Any]]] = {f: [] for f in fields}
    for (kind, value), (n, first, last) in sorted(
            found.items(), key=lambda kv: (kv[0][0], -kv[1][0], kv[0][1])):
        out[kind].append({"value": value, "payments": n, "first": first, "last": last})
    return out


def _months(payments: list[Payment]) -> list[dict[str, Any]]:
    """Payments and euros per calendar month (UTC)."""
    found: dict[str, list[Any]] = {}
    for p in payments:
        if p["timestamp"] is None:
            continue
        entry = found.setdefault(p["timestamp"].strftime("%Y-%m"), [0, None])
        entry[0] += 1
        if p["amount_eur"] is not None:
            entry[1] = (entry[1] or 0) + p["amount_eur"]
    return [{"month": m, "payments": n, "eur": None if eur is None else float(eur)}
            for m, (n, eur) in sorted(found.items())]


def _evidence(view: WarehouseView, key: PartyKey, payments: list[Payment],
              limit: int) -> list[Evidence]:
    """The transactions behind each indicator (stored for alerts), with file and line:
    always some of the party's own payments, the earliest ``limit`` per indicator."""
    by_txn = {(p["provider"], p["txn_id"]): p for p in payments}
    groups: dict[str, list[Payment]] = {}
    for role, provider, indicator, txn_provider, txn_id in view.rows(
            "SELECT role, provider, indicator, txn_provider, txn_id FROM det_evidence "
            "WHERE party_id = ? ORDER BY indicator", [key.party_id]):
        found = by_txn.get((txn_provider, txn_id))
        if role == key.role and provider == key.provider and found is not None:
            groups.setdefault(indicator, []).append(found)
    # A handful of files, read once per opening of the warehouse.
    files: dict[int, str] = view.fact("ingest_files", lambda: dict(view.rows(
        "SELECT file_id, path FROM ingest_files"))) if groups else {}
    out = []
    for indicator, rows in groups.items():
        rows.sort(key=lambda p: (p["timestamp"] is None, p["timestamp"] or datetime.min,
                                 p["txn_id"]))
        out.append(Evidence(indicator, len(rows), [_evidence_row(p, files) for p in rows[:limit]]))
    return out


def _evidence_row(p: Payment, files: dict[int, str]) -> dict[str, Any]:
    path = files.get(p["source_file_id"], "")
    return {"provider": p["provider"], "txn_id": p["txn_id"], "timestamp": p["timestamp"],
            "offset_min": p["timestamp_offset_min"], "amount": _float(p["amount"]),
            "currency": p["currency"], "eur": _float(p["amount_eur"]),
            "sender_id": p["sender_id"], "sender_name": p["sender_name"],
            "beneficiary_id": p["beneficiary_id"], "beneficiary_name": p["beneficiary_name"],
            "beneficiary_country": p["beneficiary_country"], "description": p["description"],
            "source_file": path, "source_line": p["source_line"],
            "source_name": Path(path).name}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@cache
def _zone(country: str | None) -> ZoneInfo:
    return ZoneInfo(country_zone(country) or "UTC") if country else ZoneInfo("UTC")


def _in_zone(ts: datetime, country: str | None) -> datetime:
    """A UTC time as the wall clock shows it in the country's zone."""
    return ts.replace(tzinfo=UTC).astimezone(_zone(country)).replace(tzinfo=None)


def _sender_local(p: Payment) -> datetime:
    """The wall-clock time where the payer was, as detection reads it
    (``DuckDBDialect.local_hour``): the offset written in the timestamp, unless the
    timestamp was written in UTC ("Z"), in which case the zone of the payer's country."""
    raw, offset = p["timestamp_raw"], p["timestamp_offset_min"]
    if offset is None or (raw is not None and raw[-1:] in ("Z", "z")):
        return _in_zone(p["timestamp"], p["sender_country"])
    return p["timestamp"] + timedelta(minutes=offset)


def _counts(times: Iterable[datetime]) -> list[list[int]]:
    counts = [[0] * 24 for _ in WEEKDAYS]
    for ts in times:
        counts[ts.weekday()][ts.hour] += 1
    return counts


def _heatmaps(key: PartyKey, payments: list[Payment]) -> list[Heatmap]:
    """Payments per hour and weekday. A buyer's map is in his own local time (his
    payments' offsets). A facilitator gets two: in the clock of the beneficiary's country
    (when the money arrives, where she lives) and in her senders' local time — the clock
    the night-time indicators read, since a live session happens when the buyer is up."""
    timed = [p for p in payments if p["timestamp"] is not None]
    senders = _counts(_sender_local(p) for p in timed)
    if key.side == "sender":
        return [Heatmap("Payments by hour and weekday, in the sender's local time",
                        "the sender's own offsets", senders)]
    # A beneficiary's clock is her country's zone: nothing records her offset.
    countries = sorted({p["beneficiary_country"] for p in timed} - {None})
    return [
        Heatmap("Payments received, in the beneficiary's country time",
                ", ".join(sorted({country_zone(c) or "UTC" for c in countries})) or "UTC",
                _counts(_in_zone(p["timestamp"], p["beneficiary_country"]) for p in timed)),
        Heatmap("Payments received, in each sender's local time", "the senders' offsets",
                senders),
    ]


def _counterparties(view: WarehouseView, key: PartyKey, payments: list[Payment],
                    limit: int) -> tuple[int, list[dict[str, Any]]]:
    """Who the party pays (buyer) or is paid by (facilitator), with their own scores:
    the most suspicious first, then by euros."""
    other = "beneficiary" if key.side == "sender" else "sender"
    role = OTHER_ROLE[key.role]
    found: dict[str, dict[str, Any]] = {}
    for p in payments:
        party_id = p["_other"]
        if party_id is None:
            continue
        c = found.get(party_id)
        if c is None:
            c = found[party_id] = {"party_id": party_id, "name": None, "country": None,
                                   "payments": 0, "eur": None, "first": None, "last": None}
        c["name"] = c["name"] or p[f"{other}_name"]
        c["country"] = c["country"] or p[f"{other}_country"]
        c["payments"] += 1
        if p["amount_eur"] is not None:
            c["eur"] = (c["eur"] or 0) + p["amount_eur"]
        ts = p["timestamp"]
        if ts is not None:
            c["first"] = ts if c["first"] is None else min(c["first"], ts)
            c["last"] = ts if c["last"] is None else max(c["last"], ts)
    # By the ids alone, which DuckDB looks up in det_scores' index (a join on the key
    # read the whole table); the role and provider are compared here.
    scores = {party_id: (score, rank) for r, provider, party_id, score, rank in view.rows(
        """SELECT role, provider, party_id, score, rank FROM det_scores
           WHERE list_contains(?::VARCHAR[], party_id)""", [list(found)])
        if r == role and provider == key.provider} if found else {}
    referred = _referred(view)
    for c in found.values():
        c["eur"] = _float(c["eur"])
        score, rank = scores.get(c["party_id"], (None, None))
        other_key = PartyKey(role, key.provider, c["party_id"])
        c.update(role=role, provider=key.provider, score=score, rank=rank,
                 referred=other_key in referred, token=other_key.token)
    ranked = sorted(found.values(), key=lambda c: (
        c["score"] is None, -(c["score"] or 0.0), c["eur"] is None, -(c["eur"] or 0.0),
        c["party_id"]))
    return len(ranked), ranked[:limit]


def _referred(view: WarehouseView) -> frozenset[PartyKey]:
    """Every party a referral names (a few thousand keys), read once per opening of the
    warehouse: a subject page asks it of the party and of each of its counterparties."""
    found: frozenset[PartyKey] = view.fact("referred", lambda: frozenset(
        PartyKey(*r) for r in view.rows(
            "SELECT DISTINCT role, provider, party_id FROM det_referral_matches")))
    return found


def _keys(view: WarehouseView, key: PartyKey) -> list[PartyKey]:
    """The key and, for a subject, the keys its parties had before entity resolution:
    decisions and cases made on a party stay attached to the person it turned out to be."""
    if key.provider != SUBJECT_PROVIDER:
        return [key]
    return [key, *(PartyKey(key.role, provider, party_id)
                   for provider, party_id in _members(view, key.side, key.party_id))]


def _cases(session: Session, user: User, keys: list[PartyKey]) -> list[dict[str, Any]]:
    found: dict[int, Case] = {}
    for key in keys:
        for c in session.scalars(
                select(Case).join(CaseSubject).where(
                    CaseSubject.role == key.role, CaseSubject.provider == key.provider,
                    CaseSubject.party_id == key.party_id)).all():
            found[c.id] = c
    return [{"id": c.id, "reference": c.reference, "title": c.title, "status": c.status}
            for c in sorted(found.values(), key=lambda c: (c.created_at, c.id))
            if access.can_see_case(session, user, c)]


def _decisions(session: Session, keys: list[PartyKey]) -> list[dict[str, Any]]:
    rows: list[Any] = []
    for key in keys:
        rows += session.execute(
            select(Disposition, User.username).join(User, User.id == Disposition.decided_by)
            .where(Disposition.role == key.role, Disposition.provider == key.provider,
                   Disposition.party_id == key.party_id)).all()
    rows.sort(key=lambda r: (r[0].decided_at, r[0].id))
    return [{"decision": d.decision, "reason": d.reason, "by": name,
             "at": d.decided_at, "score": d.score, "run_id": d.run_id, "scorer": d.scorer,
             "on": "" if d.provider == SUBJECT_PROVIDER or len(keys) == 1
             else f"{d.provider}/{d.party_id} before resolution"}
            for d, name in rows]
