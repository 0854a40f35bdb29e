"""A subject's page: everything the warehouse and the case database know about one party.

A subject is a scored party, named as the warehouse names it: (role, provider, party_id),
where a buyer is a sender and a facilitator a beneficiary. The page shows who the party
appears to be (every name, phone, account... seen on its payments, with counts), its score
as a sum with the transactions behind each term, its rhythm (amounts per month and an
hour × weekday map in local time), who it pays or is paid by, the referrals that name it
and the cases that hold it — only the cases the viewer may see. Every view is audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.normalise.zones import country_zone
from sentinelle.review import access, audit
from sentinelle.review.models import AlertState, Case, CaseSubject, Disposition, User
from sentinelle.review.reader import WarehouseView

__all__ = ["SIDES", "PartyKey", "Subject", "subject_page"]

# A buyer is scored as a sender, a facilitator as a beneficiary.
SIDES = {"buyer": "sender", "facilitator": "beneficiary"}
OTHER_ROLE = {"buyer": "facilitator", "facilitator": "buyer"}
# What identifies a party on its payments, per side (columns of `transactions`).
IDENTITY_FIELDS = {
    "sender": ("name", "phone", "email", "account", "country", "birth_date"),
    "beneficiary": ("name", "phone", "account", "country", "city"),
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
        """The key as one URL-safe string (form values, links)."""
        return "/".join(quote(part, safe="") for part in self)

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
    row = view.one(
        """SELECT s.name, s.country, s.payments, CAST(s.eur AS DOUBLE) AS eur,
                  s.last_payment_at, s.score, s.base, s.rank, s.reasons, a.alert_no
           FROM det_scores s LEFT JOIN det_alerts a USING (role, provider, party_id)
           WHERE s.role = ? AND s.provider = ? AND s.party_id = ?""", args)
    if row is None:
        raise NotFound(f"no {key.role} {key.party_id!r} ({key.provider}) in the last "
                       "detection run", fix="search for the party by name, phone or id")
    audit.record(session, action="view_subject", user=user, target=key.target, ip=ip)
    session.commit()
    state = session.scalars(select(AlertState).where(
        AlertState.role == key.role, AlertState.provider == key.provider,
        AlertState.party_id == key.party_id)).first()
    total, counterparties = _counterparties(view, key, counterparty_limit)
    return Subject(
        key=key, name=row["name"], country=row["country"], payments=row["payments"],
        eur=row["eur"], last_payment_at=row["last_payment_at"], score=row["score"],
        base=row["base"], rank=row["rank"], alert_no=row["alert_no"],
        reasons=[r for r in (row["reasons"] or "").split("; ") if r],
        contributions=view.dicts(
            """SELECT indicator, value, strength, points, contribution, reason
               FROM det_contributions WHERE role = ? AND provider = ? AND party_id = ?
               ORDER BY contribution DESC, indicator""", args),
        identities=_identities(view, key),
        evidence=_evidence(view, key, evidence_limit),
        months=view.dicts(
            f"""SELECT strftime(date_trunc('month', timestamp), '%Y-%m') AS month,
                       count(*) AS payments, CAST(sum(amount_eur) AS DOUBLE) AS eur
                FROM transactions WHERE provider = ? AND {key.side}_id = ?
                GROUP BY 1 ORDER BY 1""", [key.provider, key.party_id]),
        heatmaps=_heatmaps(view, key),
        counterparties=counterparties, counterparties_total=total,
        referrals=view.dicts(
            """SELECT m.referral_id, m.source, m.matched_on, r.received_at, r.subject_role,
                      r.subject_name_raw AS subject_name, r.summary
               FROM det_referral_matches m
               LEFT JOIN referrals r ON r.referral_id = m.referral_id AND r.source = m.source
               WHERE m.role = ? AND m.provider = ? AND m.party_id = ?
               ORDER BY r.received_at, m.referral_id""", args),
        cases=_cases(session, user, key),
        status=state.status if state else "new",
        assignee=state.assignee.username if state and state.assignee else None,
        decisions=_decisions(session, key),
    )


def _identities(view: WarehouseView, key: PartyKey) -> dict[str, list[dict[str, Any]]]:
    """Every value of each identifying field seen on the party's payments, with counts.
    Names are shown as recorded (the folded form is what detection compares)."""
    side = key.side
    fields = IDENTITY_FIELDS[side]
    # Column names come from the declaration above, never from the request.
    cols = ", ".join(
        f"CAST({side}_{f}{'_raw' if f == 'name' else ''} AS VARCHAR) AS {f}" for f in fields)
    rows = view.rows(
        f"""WITH t AS (SELECT timestamp, {cols} FROM transactions
                       WHERE provider = ? AND {side}_id = ?)
            SELECT kind, value, count(*) AS n, min(timestamp), max(timestamp)
            FROM (UNPIVOT t ON {", ".join(fields)} INTO NAME kind VALUE value)
            GROUP BY kind, value ORDER BY kind, n DESC, value""",
        [key.provider, key.party_id])
    out: dict[str, list[dict[str, Any]]] = {f: [] for f in fields}
    for kind, value, n, first, last in rows:
        out[kind].append({"value": value, "payments": n, "first": first, "last": last})
    return out


def _evidence(view: WarehouseView, key: PartyKey, limit: int) -> list[Evidence]:
    """The transactions behind each indicator (stored for alerts), with file and line."""
    rows = view.dicts(
        """WITH e AS (
             SELECT e.indicator, t.txn_id, t.timestamp, t.timestamp_offset_min AS offset_min,
                    CAST(t.amount AS DOUBLE) AS amount, t.currency,
                    CAST(t.amount_eur AS DOUBLE) AS eur, t.sender_id, t.sender_name,
                    t.beneficiary_id, t.beneficiary_name, t.beneficiary_country,
                    t.description, f.path AS source_file, t.source_line,
                    row_number() OVER (PARTITION BY e.indicator
                                       ORDER BY t.timestamp, t.txn_id) AS n,
                    count(*) OVER (PARTITION BY e.indicator) AS total
             FROM det_evidence e
             JOIN transactions t ON t.provider = e.provider AND t.txn_id = e.txn_id
             JOIN ingest_files f ON f.file_id = t.source_file_id
             WHERE e.role = ? AND e.provider = ? AND e.party_id = ?)
           SELECT * FROM e WHERE n <= ? ORDER BY indicator, n""", [*key, limit])
    groups: dict[str, Evidence] = {}
    for r in rows:
        group = groups.setdefault(r["indicator"], Evidence(r["indicator"], r.pop("total"), []))
        r.pop("total", None)
        r.pop("n")
        r["source_name"] = Path(r["source_file"]).name
        group.rows.append(r)
    return list(groups.values())


def _zone_table(countries: list[str]) -> tuple[str, list[str]]:
    """A VALUES list mapping each country to its zone (UTC when unknown), with bound
    values; the placeholders' number is the only thing spliced into SQL."""
    pairs = [(c, country_zone(c) or "UTC") for c in countries] or [("", "UTC")]
    return (", ".join("(?, ?)" for _ in pairs), [v for pair in pairs for v in pair])


def _local(ts: str, offset: str, raw: str, zone: str) -> str:
    """The wall-clock time where the payer was, as detection reads it
    (``DuckDBDialect.local_hour``): the offset written in the timestamp, unless the
    timestamp was written in UTC ("Z"), in which case the zone of the payer's country."""
    return (f"CASE WHEN right({raw}, 1) IN ('Z', 'z') OR {offset} IS NULL "
            f"THEN timezone({zone}, {ts}::TIMESTAMPTZ) "
            f"ELSE {ts} + {offset} * INTERVAL 1 MINUTE END")


def _heatmaps(view: WarehouseView, key: PartyKey) -> list[Heatmap]:
    """Payments per hour and weekday. A buyer's map is in his own local time (his
    payments' offsets). A facilitator gets two: in the clock of the beneficiary's country
    (when the money arrives, where she lives) and in her senders' local time — the clock
    the night-time indicators read, since a live session happens when the buyer is up."""
    side = key.side
    countries = [r[0] for r in view.rows(
        f"""SELECT DISTINCT c FROM (SELECT sender_country AS c FROM transactions
                                    WHERE provider = ? AND {side}_id = ?
                                    UNION SELECT beneficiary_country FROM transactions
                                    WHERE provider = ? AND {side}_id = ?) WHERE c IS NOT NULL
            ORDER BY c""", [key.provider, key.party_id] * 2)]
    values_sql, zone_args = _zone_table(countries)
    clocks = [("sender", "sender_country")]
    if side == "beneficiary":
        clocks.insert(0, ("beneficiary", "beneficiary_country"))
    maps = []
    for clock, country_col in clocks:
        if clock == "sender":
            local = _local("t.timestamp", "t.timestamp_offset_min", "t.timestamp_raw", "z.zone")
        else:  # a beneficiary's clock is her country's zone: nothing records her offset
            local = "timezone(z.zone, t.timestamp::TIMESTAMPTZ)"
        rows = view.rows(
            f"""WITH z(country, zone) AS (VALUES {values_sql}),
                    l AS (SELECT {local} AS ts FROM transactions t
                          LEFT JOIN z ON z.country = t.{country_col}
                          WHERE t.provider = ? AND t.{side}_id = ?)
                SELECT isodow(ts) - 1, hour(ts), count(*) FROM l GROUP BY 1, 2""",
            [*zone_args, key.provider, key.party_id])
        counts = [[0] * 24 for _ in WEEKDAYS]
        for day, hour, n in rows:
            counts[day][hour] = n
        if side == "sender":
            title, label = "Payments by hour and weekday, in the sender's local time", \
                "the sender's own offsets"
        elif clock == "sender":
            title, label = "Payments received, in each sender's local time", \
                "the senders' offsets"
        else:
            title = "Payments received, in the beneficiary's country time"
            label = ", ".join(sorted({country_zone(c) or "UTC" for c in _countries(
                view, key)})) or "UTC"
        maps.append(Heatmap(title, label, counts))
    return maps


def _countries(view: WarehouseView, key: PartyKey) -> list[str]:
    return [r[0] for r in view.rows(
        "SELECT DISTINCT beneficiary_country FROM transactions WHERE provider = ? "
        "AND beneficiary_id = ? AND beneficiary_country IS NOT NULL ORDER BY 1",
        [key.provider, key.party_id])]


def _counterparties(view: WarehouseView, key: PartyKey,
                    limit: int) -> tuple[int, list[dict[str, Any]]]:
    """Who the party pays (buyer) or is paid by (facilitator), with their own scores."""
    side = key.side
    other = "beneficiary" if side == "sender" else "sender"
    rows = view.dicts(
        f"""WITH c AS (
              SELECT t.{other}_id AS party_id, any_value(t.{other}_name) AS name,
                     any_value(t.{other}_country) AS country, count(*) AS payments,
                     CAST(sum(t.amount_eur) AS DOUBLE) AS eur, min(t.timestamp) AS first,
                     max(t.timestamp) AS last
              FROM transactions t WHERE t.provider = ? AND t.{side}_id = ?
              GROUP BY 1)
            SELECT c.*, ? AS role, ? AS provider, s.score, s.rank,
                   EXISTS (SELECT 1 FROM det_referral_matches m WHERE m.role = ?
                           AND m.provider = ? AND m.party_id = c.party_id) AS referred,
                   count(*) OVER () AS total
            FROM c LEFT JOIN det_scores s ON s.role = ? AND s.provider = ?
                                         AND s.party_id = c.party_id
            ORDER BY s.score DESC NULLS LAST, c.eur DESC, c.party_id LIMIT ?""",
        [key.provider, key.party_id, OTHER_ROLE[key.role], key.provider,
         OTHER_ROLE[key.role], key.provider, OTHER_ROLE[key.role], key.provider, limit])
    total = rows[0]["total"] if rows else 0
    for r in rows:
        r.pop("total")
        r["token"] = PartyKey(r["role"], r["provider"], r["party_id"]).token
    return total, rows


def _cases(session: Session, user: User, key: PartyKey) -> list[dict[str, Any]]:
    cases = session.scalars(
        select(Case).join(CaseSubject).where(
            CaseSubject.role == key.role, CaseSubject.provider == key.provider,
            CaseSubject.party_id == key.party_id).order_by(Case.created_at)).all()
    return [{"id": c.id, "reference": c.reference, "title": c.title, "status": c.status}
            for c in cases if access.can_see_case(session, user, c)]


def _decisions(session: Session, key: PartyKey) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Disposition, User.username).join(User, User.id == Disposition.decided_by)
        .where(Disposition.role == key.role, Disposition.provider == key.provider,
               Disposition.party_id == key.party_id)
        .order_by(Disposition.decided_at, Disposition.id)).all()
    return [{"decision": d.decision, "reason": d.reason, "by": name,
             "at": d.decided_at, "score": d.score, "run_id": d.run_id, "scorer": d.scorer}
            for d, name in rows]
