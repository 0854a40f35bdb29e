"""Subjects by priority: who to work on first, and why.

An alert's score says how much a subject looks like a buyer or a facilitator; priority
adds what decides the order of work (issue 5): whether children are at risk *now* — a
facilitator still receiving money, or a buyer paying one who still is — then the referrals
that name the subject, how recent and how large the payments are. Each part is worth
points, declared once below, and the reason for the rank lists them, so two analysts
reading the list see the same arithmetic.

"Now" is the end of the data (the latest payment in the warehouse) unless ``as_of`` says
otherwise: an export received weeks late must not make every facilitator look inactive.
Subjects are what detection scored — entity-resolution subjects once ``sentinelle
resolve`` has run, each provider's parties before — one row per subject, across roles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sentinelle.warehouse import Warehouse


@dataclass(frozen=True)
class Part:
    name: str
    points: float
    help: str


# The parts of priority, each with its points (what one unit of it is worth).
PARTS: tuple[Part, ...] = (
    Part("at_risk_now", 50.0, "a facilitator who received money within the active window, "
         "or a buyer who pays such a facilitator: children may be at risk now"),
    Part("score", 100.0, "the subject's highest alert score (0-1), times the points"),
    Part("referral_sources", 10.0, "per agency or source that referred the subject (up to "
         "4): independent sources agreeing"),
    Part("recent", 10.0, "a payment within the active window (5 within three times it)"),
    Part("volume", 2.0, "per power of ten of the euros paid or received (EUR 100 = 4)"),
)
POINTS = {p.name: p.points for p in PARTS}
ACTIVE_DAYS = 30
MAX_SOURCES = 4


@dataclass
class Priority:
    rank: int
    provider: str
    party_id: str
    name: str | None
    country: str | None
    roles: list[str]
    score: float
    referral_sources: list[str]
    last_payment_at: datetime | None
    eur: float
    at_risk_now: str | None  # why, when the subject is
    priority: float
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def as_of_default(wh: Warehouse) -> datetime | None:
    value = wh.scalar("SELECT max(timestamp) FROM transactions")
    return value if isinstance(value, datetime) else None


def _subjects(wh: Warehouse) -> list[dict[str, Any]]:
    """One row per alerted subject, across its roles."""
    cur = wh.execute("""
        WITH a AS (SELECT a.role, a.provider, a.party_id, a.score, a.name, a.country,
                          CAST(a.eur AS DOUBLE) AS eur, a.last_payment_at
                   FROM det_alerts a),
             r AS (SELECT provider, party_id, list(DISTINCT source ORDER BY source) AS sources
                   FROM det_referral_matches GROUP BY provider, party_id)
        SELECT a.provider, a.party_id, max(a.name) AS name, max(a.country) AS country,
               list(DISTINCT a.role ORDER BY a.role) AS roles, max(a.score) AS score,
               sum(a.eur) AS eur, max(a.last_payment_at) AS last_payment_at,
               coalesce(any_value(r.sources), []) AS sources
        FROM a LEFT JOIN r USING (provider, party_id)
        GROUP BY a.provider, a.party_id""")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _active_facilitators(wh: Warehouse, since: datetime) -> dict[tuple[str, str], str]:
    """Alerted facilitators who received money since ``since``, with their name."""
    return {(p, i): n or i for p, i, n in wh.execute(
        """SELECT provider, party_id, name FROM det_alerts
           WHERE role = 'facilitator' AND last_payment_at >= ?""", [since]).fetchall()}


def _buyers_paying(wh: Warehouse,
                   active: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Senders who pay an active facilitator (det_links): the facilitator's name and id,
    by sender."""
    if not active:
        return {}
    keys = sorted(active)
    rows = wh.execute(
        """WITH f AS (SELECT unnest(?::VARCHAR[]) AS provider, unnest(?::VARCHAR[]) AS party_id)
           SELECT l.provider, l.sender_id, min(l.beneficiary_id)
           FROM det_links l JOIN f ON f.provider = l.provider AND f.party_id = l.beneficiary_id
           GROUP BY l.provider, l.sender_id""",
        [[k[0] for k in keys], [k[1] for k in keys]]).fetchall()
    out = {}
    for provider, sender, facilitator in rows:
        out[(provider, sender)] = f"{active[(provider, facilitator)]} ({facilitator})"
    return out


def prioritise(wh: Warehouse, as_of: datetime | None = None,
               active_days: int = ACTIVE_DAYS) -> list[Priority]:
    """Every alerted subject with its priority and the reasons, highest first."""
    now = as_of or as_of_default(wh)
    if now is None:
        return []
    since = now - timedelta(days=active_days)
    active = _active_facilitators(wh, since)
    paying = _buyers_paying(wh, active)
    out = []
    for s in _subjects(wh):
        key = (s["provider"], s["party_id"])
        parts: list[tuple[float, str]] = []
        risk = None
        if key in active and "facilitator" in s["roles"]:
            risk = f"received money within {active_days} days of {now:%Y-%m-%d}"
        elif key in paying and "buyer" in s["roles"]:
            risk = f"pays {paying[key]}, who received money within {active_days} days"
        if risk:
            parts.append((POINTS["at_risk_now"], f"at risk now: {risk}"))
        parts.append((POINTS["score"] * s["score"], f"score {s['score']:.2f}"))
        sources = list(s["sources"])
        if sources:
            parts.append((POINTS["referral_sources"] * min(len(sources), MAX_SOURCES),
                          f"referred by {len(sources)} source(s): {', '.join(sources)}"))
        last = s["last_payment_at"]
        if last is not None and last >= since:
            parts.append((POINTS["recent"], f"last payment {last:%Y-%m-%d}"))
        elif last is not None and last >= now - timedelta(days=3 * active_days):
            parts.append((POINTS["recent"] / 2, f"last payment {last:%Y-%m-%d}"))
        eur = float(s["eur"] or 0.0)
        if eur >= 1:
            parts.append((POINTS["volume"] * math.log10(eur), f"EUR {eur:,.0f}"))
        total = sum(p for p, _ in parts)
        out.append(Priority(0, s["provider"], s["party_id"], s["name"], s["country"],
                            list(s["roles"]), float(s["score"]), sources, last, eur, risk,
                            round(total, 2),
                            [f"{text} (+{points:.0f})" for points, text in parts]))
    out.sort(key=lambda p: (-p.priority, p.provider, p.party_id))
    for i, p in enumerate(out, 1):
        p.rank = i
    return out


__all__ = ["ACTIVE_DAYS", "PARTS", "Priority", "as_of_default", "prioritise"]
