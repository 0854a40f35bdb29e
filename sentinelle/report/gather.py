"""What a report needs, gathered once from the warehouse (and a case's subjects from the
case database): the subjects with their scores and reasons, every party on their payments
with every identity seen, the payments themselves with the file and line they came from,
and the source files with their SHA-256.

Every exporter reads a :class:`ReportData` and nothing else, so all formats say the same
thing. A subject is addressed today as one scored party (``ROLE:PROVIDER:PARTY_ID``);
:func:`subject_parties` is the one place that changes when subjects become
entity-resolution clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sentinelle.errors import NotFound, ReviewError
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import SIDES, PartyKey

__all__ = ["CorroboratedSession", "Party", "ReportData", "SourceFile", "SubjectInfo",
           "Transaction", "gather", "parse_subject", "subject_parties"]

ROLE_OF_SIDE = {side: role for role, side in SIDES.items()}
# What identifies a party on a payment, per side: (attribute, column without the side).
_IDENTITY = {
    "sender": (("names", "name_raw"), ("phones", "phone"), ("emails", "email"),
               ("accounts", "account"), ("countries", "country"),
               ("birth_dates", "birth_date")),
    "beneficiary": (("names", "name_raw"), ("phones", "phone"), ("accounts", "account"),
                    ("countries", "country"), ("cities", "city")),
}
_COLUMNS = ("provider", "txn_id", "timestamp", "timestamp_raw", "timestamp_offset_min",
            "amount", "currency", "amount_eur", "channel", "description", "source_file_id",
            "source_line", "sender_id", "beneficiary_id",
            *(f"{side}_{col}" for side, ids in _IDENTITY.items() for _, col in ids))


def parse_subject(text: str) -> PartyKey:
    """``ROLE:PROVIDER:PARTY_ID`` (the provider may itself contain colons)."""
    role, _, rest = (text or "").partition(":")
    provider, _, party_id = rest.rpartition(":")
    if role not in SIDES or not provider or not party_id:
        raise ReviewError("a subject is named ROLE:PROVIDER:PARTY_ID", value=text,
                          fix="e.g. buyer:Example Remit:S0012345 (role buyer or facilitator, "
                              "as sentinelle alerts shows them)")
    return PartyKey(role, provider, party_id)


def subject_parties(view: WarehouseView, key: PartyKey) -> list[PartyKey]:
    """The parties (payment records) a subject stands for: the scored party itself, or,
    once detection runs on entity-resolution subjects, every provider's party the
    subject holds on its side (``det_subject_parties``)."""
    if key.provider != SUBJECT_PROVIDER:
        return [key]
    return [PartyKey(key.role, provider, party_id) for provider, party_id in view.rows(
        "SELECT provider, party_id FROM det_subject_parties WHERE subject_id = ? "
        "AND side = ? ORDER BY provider, party_id", [key.party_id, key.side])]


@dataclass
class Party:
    """A sender (role buyer) or beneficiary (role facilitator) as the report's payments
    show it: every value of each identifying field, most frequent first."""

    key: PartyKey
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    score: float | None = None
    referred: bool = False
    subject: bool = False

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.key.party_id

    @property
    def country(self) -> str | None:
        return self.countries[0] if self.countries else None

    @property
    def node_id(self) -> str:
        """One id per party across formats (a sender and a beneficiary may share an id)."""
        return f"{self.key.side}:{self.key.provider}:{self.key.party_id}"


@dataclass
class Transaction:
    provider: str
    txn_id: str
    timestamp: datetime | None  # UTC
    timestamp_raw: str | None
    offset_min: int | None
    amount: Decimal | None
    currency: str | None
    amount_eur: Decimal | None
    channel: str | None
    description: str | None
    sender: PartyKey
    beneficiary: PartyKey
    sender_name: str | None
    beneficiary_name: str | None
    sender_country: str | None
    beneficiary_country: str | None
    beneficiary_city: str | None
    source_file_id: int | None
    source_line: int | None
    indicators: list[str] = field(default_factory=list)


@dataclass
class SourceFile:
    file_id: int
    path: str
    sha256: str
    transactions: int


@dataclass
class SubjectInfo:
    key: PartyKey
    parties: list[PartyKey]
    name: str | None
    country: str | None
    score: float
    rank: int
    alert_no: int | None
    reasons: list[dict[str, Any]]  # indicator, reason, contribution; strongest first
    referrals: list[dict[str, Any]]  # referral_id, source, matched_on


@dataclass
class CorroboratedSession:
    """A payment of the report paired with the call that followed it (``comm_sessions``,
    written by ``sentinelle sessions``), each with the file and place it was read from."""

    session_id: int
    payment: Transaction
    comm_id: str
    call_at: datetime | None  # UTC
    call_kind: str | None
    platform: str | None
    duration_s: int | None
    gap_s: int | None  # seconds from the payment to the call
    call_file: str | None
    call_sha256: str | None
    call_line: int | None
    call_pointer: str | None  # JSON Pointer, for a JSON export


@dataclass
class ReportData:
    """Everything a report says. ``target`` names it in the audit log. ``sessions`` is
    None when the warehouse holds no paired communications (``sentinelle sessions`` has
    not run), and a list — perhaps empty — otherwise."""

    scope: str  # "subject" or "case"
    reference: str
    title: str
    target: str
    run_id: str | None
    subjects: list[SubjectInfo]
    parties: dict[PartyKey, Party]
    transactions: list[Transaction]
    sources: list[SourceFile]
    sessions: list[CorroboratedSession] | None = None

    def party(self, key: PartyKey) -> Party:
        return self.parties[key]

    @property
    def period(self) -> tuple[datetime | None, datetime | None]:
        times = [t.timestamp for t in self.transactions if t.timestamp is not None]
        return (min(times), max(times)) if times else (None, None)

    @property
    def total_eur(self) -> Decimal:
        return sum((t.amount_eur for t in self.transactions if t.amount_eur is not None),
                   Decimal(0))


def gather(view: WarehouseView, subjects: Sequence[PartyKey], *, scope: str,
           reference: str, title: str, target: str) -> ReportData:
    """The report's data for these subjects (a subject on its own, or a case's)."""
    view.require_detection()
    if not subjects:
        raise ReviewError(f"{reference} has no subjects to report on",
                          fix="add a subject to the case first")
    infos = [_subject_info(view, key) for key in dict.fromkeys(subjects)]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for info in infos:
        for party in info.parties:
            for row in _payments(view, party):
                rows.setdefault((row["provider"], row["txn_id"]), row)
    evidence = _evidence(view, [info.key for info in infos])
    ordered = sorted(rows.values(), key=lambda r: (
        r["timestamp"] is None, r["timestamp"] or datetime.min, r["provider"], r["txn_id"]))
    transactions = [_transaction(r, evidence) for r in ordered]
    parties = _parties(ordered)
    subject_keys = {p for info in infos for p in info.parties}
    _scores(view, parties, subject_keys)
    run = view.latest_run()
    return ReportData(scope, reference, title, target, run["run_id"] if run else None, infos,
                      parties, transactions, _sources(view, transactions),
                      _sessions(view, transactions))


def _subject_info(view: WarehouseView, key: PartyKey) -> SubjectInfo:
    row = view.one(
        """SELECT s.name, s.country, s.score, s.rank, a.alert_no FROM det_scores s
           LEFT JOIN det_alerts a USING (role, provider, party_id)
           WHERE s.role = ? AND s.provider = ? AND s.party_id = ?""", list(key))
    if row is None:
        raise NotFound(f"no {key.role} {key.party_id!r} at {key.provider!r} in the last "
                       "detection run", value=f"{key.role}:{key.provider}:{key.party_id}",
                       fix="check the subject with sentinelle alerts or sentinelle explain")
    reasons = view.dicts(
        """SELECT indicator, reason, contribution FROM det_contributions
           WHERE role = ? AND provider = ? AND party_id = ?
           ORDER BY contribution DESC, indicator""", list(key))
    referrals = view.dicts(
        """SELECT referral_id, source, matched_on FROM det_referral_matches
           WHERE role = ? AND provider = ? AND party_id = ? ORDER BY source, referral_id""",
        list(key)) if view.has_table("det_referral_matches") else []
    return SubjectInfo(key, subject_parties(view, key), row["name"], row["country"],
                       float(row["score"]), int(row["rank"]), row["alert_no"], reasons,
                       referrals)


def _payments(view: WarehouseView, key: PartyKey) -> list[dict[str, Any]]:
    """The party's payments, looked up by its id column alone (the index detection builds
    on it); the provider is compared here, as the subject page does."""
    cur = view.con.execute(f"SELECT {', '.join(_COLUMNS)} FROM transactions "
                           f"WHERE {key.side}_id = ?", [key.party_id])
    return [r for r in (dict(zip(_COLUMNS, row, strict=True)) for row in cur.fetchall())
            if r["provider"] == key.provider]


def _evidence(view: WarehouseView, keys: Iterable[PartyKey]) -> dict[tuple[str, str], list[str]]:
    """Which indicators each transaction is evidence for, for these scored parties or
    subjects; keyed by the transaction's own provider and id."""
    found: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        for role, provider, indicator, txn_provider, txn_id in view.rows(
                "SELECT role, provider, indicator, txn_provider, txn_id FROM det_evidence "
                "WHERE party_id = ? ORDER BY indicator", [key.party_id]):
            if role == key.role and provider == key.provider:
                names = found.setdefault((txn_provider, txn_id), [])
                if indicator not in names:
                    names.append(indicator)
    return found


def _transaction(r: dict[str, Any], evidence: dict[tuple[str, str], list[str]]) -> Transaction:
    return Transaction(
        provider=r["provider"], txn_id=r["txn_id"], timestamp=r["timestamp"],
        timestamp_raw=r["timestamp_raw"], offset_min=r["timestamp_offset_min"],
        amount=r["amount"], currency=r["currency"], amount_eur=r["amount_eur"],
        channel=r["channel"], description=r["description"],
        sender=PartyKey("buyer", r["provider"], r["sender_id"]),
        beneficiary=PartyKey("facilitator", r["provider"], r["beneficiary_id"]),
        sender_name=r["sender_name_raw"], beneficiary_name=r["beneficiary_name_raw"],
        sender_country=r["sender_country"], beneficiary_country=r["beneficiary_country"],
        beneficiary_city=r["beneficiary_city"], source_file_id=r["source_file_id"],
        source_line=r["source_line"],
        indicators=sorted(evidence.get((r["provider"], r["txn_id"]), [])))


def _parties(rows: list[dict[str, Any]]) -> dict[PartyKey, Party]:
    """Both ends of every payment, with each identity counted (most frequent first)."""
    counts: dict[PartyKey, dict[str, Counter[str]]] = {}
    for r in rows:
        for side, fields in _IDENTITY.items():
            if r[f"{side}_id"] is None:
                continue
            key = PartyKey(ROLE_OF_SIDE[side], r["provider"], r[f"{side}_id"])
            found = counts.setdefault(key, {})
            for attr, col in fields:
                value = r[f"{side}_{col}"]
                if value is not None and str(value).strip():
                    found.setdefault(attr, Counter())[str(value)] += 1
    parties = {}
    for key, found in counts.items():
        party = Party(key)
        for attr, counter in found.items():
            setattr(party, attr, [v for v, _ in sorted(counter.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))])
        parties[key] = party
    return dict(sorted(parties.items()))


def _scores(view: WarehouseView, parties: dict[PartyKey, Party],
            subjects: set[PartyKey]) -> None:
    """Each party's score in the last run and whether a referral names it — its
    subject's, once detection runs on entity-resolution subjects."""
    resolved = view.has_table("det_subject_parties")
    for role in SIDES:
        ids = sorted({k.party_id for k in parties if k.role == role})
        if not ids:
            continue
        side = SIDES[role]
        # A party's scored key: itself, or its subject (provider 'subject').
        unit = ("""SELECT m.provider, m.party_id, 'subject' AS s_provider,
                          m.subject_id AS s_party
                   FROM det_subject_parties m
                   WHERE m.side = ? AND m.party_id IN (SELECT unnest(?::VARCHAR[]))"""
                if resolved else
                """SELECT s.provider, s.party_id, s.provider AS s_provider,
                          s.party_id AS s_party
                   FROM det_scores s
                   WHERE s.role = ? AND s.party_id IN (SELECT unnest(?::VARCHAR[]))""")
        for provider, party_id, score, referred in view.rows(
                f"""WITH u AS ({unit})
                   SELECT u.provider, u.party_id, s.score,
                          EXISTS (SELECT 1 FROM det_referral_matches m WHERE m.role = ?
                                  AND m.provider = u.s_provider AND m.party_id = u.s_party)
                   FROM u JOIN det_scores s ON s.role = ? AND s.provider = u.s_provider
                                           AND s.party_id = u.s_party""",
                [side if resolved else role, ids, role, role]):
            party = parties.get(PartyKey(role, provider, party_id))
            if party is not None:
                party.score, party.referred = float(score), bool(referred)
    for key in subjects:
        if key in parties:
            parties[key].subject = True


def _sources(view: WarehouseView, transactions: list[Transaction]) -> list[SourceFile]:
    used = Counter(t.source_file_id for t in transactions if t.source_file_id is not None)
    if not used:
        return []
    rows = view.rows("SELECT file_id, path, sha256 FROM ingest_files WHERE file_id IN "
                     "(SELECT unnest(?::INTEGER[])) ORDER BY file_id", [sorted(used)])
    return [SourceFile(file_id, path, sha256, used[file_id]) for file_id, path, sha256 in rows]


def _sessions(view: WarehouseView, transactions: list[Transaction]
              ) -> list[CorroboratedSession] | None:
    """The report's payments that ``sentinelle sessions`` paired with a call, oldest first,
    the call's source file (SHA-256) and line or pointer beside the payment's."""
    if not view.has_table("comm_sessions"):
        return None
    by_key = {(t.provider, t.txn_id): t for t in transactions}
    if not by_key:
        return []
    rows = view.rows(
        """SELECT s.session_id, s.provider, s.txn_id, s.comm_id, s.call_at, s.call_kind,
                  s.platform, s.duration_s, s.gap_s, f.path, f.sha256, c.source_line,
                  c.source_pointer
           FROM comm_sessions s
           LEFT JOIN communications c ON c.comm_id = s.comm_id
           LEFT JOIN ingest_files f ON f.file_id = c.source_file_id
           WHERE s.txn_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY s.paid_at, s.session_id""", [sorted({k[1] for k in by_key})])
    return [CorroboratedSession(
        int(sid), by_key[(provider, txn_id)], comm_id, call_at, kind, platform,
        None if duration is None else int(duration), None if gap is None else int(gap),
        path, sha256, None if line is None else int(line), pointer)
        for (sid, provider, txn_id, comm_id, call_at, kind, platform, duration, gap, path,
             sha256, line, pointer) in rows if (provider, txn_id) in by_key]
