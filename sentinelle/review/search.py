"""Find a party by name, phone, account, email or id, whatever the spelling or word order.

Names are compared folded (``fold_name``: lower case, no accents, particles glued), word
by word: each word of the query is matched to the closest word of a recorded name by
Jaro-Winkler similarity, and the name scores the average, so ``SANTOS Maria``, ``maria
santos`` and ``Maria Santtos`` all find *maria santos*. Only names that share a word's
first letter or last three letters with the query are compared (blocking: a misspelt
first *and* last syllable is not found). Phones are matched in E.164 when the query is
written internationally, else on their last digits; accounts, emails and ids exactly,
after the same clean-up ingestion applies. Every search is audited with its query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from sentinelle.errors import ReviewError
from sentinelle.normalise.names import fold_name
from sentinelle.normalise.phones import to_e164
from sentinelle.review import access, audit
from sentinelle.review.models import User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import SIDES, PartyKey

__all__ = ["NAME_THRESHOLD", "SearchResult", "search"]

NAME_THRESHOLD = 0.85
MIN_PHONE_DIGITS = 7
_ACCOUNT_LAYOUT = re.compile(r"[\s.\-/]")  # as ingestion's ACCOUNT_LAYOUT_RE
_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")


@dataclass
class SearchResult:
    query: str
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "results": self.results}


@dataclass
class _Hit:
    similarity: float
    matched_on: list[str]


def search(session: Session, view: WarehouseView, user: User, query: str, *,
           role: str | None = None, limit: int = 50, ip: str | None = None) -> SearchResult:
    access.require(user, "search")
    query = (query or "").strip()
    if not query:
        raise ReviewError("the search is empty", fix="type a name, phone, account, email or id")
    if role is not None and role not in SIDES:
        raise ReviewError(f"unknown role {role!r}", fix="use buyer or facilitator")
    limit = max(1, min(limit, 200))
    view.require_detection()
    hits: dict[PartyKey, _Hit] = {}

    def hit(key: PartyKey, similarity: float, why: str) -> None:
        found = hits.setdefault(key, _Hit(0.0, []))
        found.similarity = max(found.similarity, similarity)
        if why not in found.matched_on:
            found.matched_on.append(why)

    _exact(view, query, hit)
    if _PHONE_CHARS.match(query):
        _phones(view, query, hit)
    # a word with digits in it is an id or an account, not a name
    if any(ch.isalpha() for ch in query) and not any(ch.isdigit() for ch in query) \
            and "@" not in query:
        _names(view, query, hit)
    results = _describe(view, hits, role, limit)
    audit.record(session, action="search", user=user, ip=ip,
                 detail={"query": query, "role": role, "results": len(results)})
    session.commit()
    return SearchResult(query, results)


_Hitter = Callable[[PartyKey, float, str], None]


def _exact(view: WarehouseView, query: str, hit: _Hitter) -> None:
    """Ids, accounts and emails, exactly as ingestion cleans them."""
    account = _ACCOUNT_LAYOUT.sub("", query).upper()
    email = query.lower()
    for side, role in (("sender", "buyer"), ("beneficiary", "facilitator")):
        email_test = "sender_email = ?" if side == "sender" else "FALSE AND ? IS NULL"
        for provider, pid, by_id, by_account, by_email in view.rows(
                f"""SELECT DISTINCT provider, {side}_id, {side}_id IN (?, ?),
                           {side}_account = ?, {email_test}
                    FROM transactions
                    WHERE {side}_id IN (?, ?) OR {side}_account = ? OR {email_test}""",
                [query, query.upper(), account, email, query, query.upper(), account, email]):
            key = PartyKey(role, provider, pid)
            if by_id:
                hit(key, 1.0, "id")
            if by_account:
                hit(key, 1.0, f"account {account}")
            if by_email:
                hit(key, 1.0, f"email {email}")


def _phones(view: WarehouseView, query: str, hit: _Hitter) -> None:
    e164, _ = to_e164(query, None)
    digits = re.sub(r"\D", "", query).lstrip("0")
    if e164 is None and len(digits) < MIN_PHONE_DIGITS:
        return
    for side, role in (("sender", "buyer"), ("beneficiary", "facilitator")):
        for provider, pid, phone in view.rows(
                f"""SELECT DISTINCT provider, {side}_id, {side}_phone FROM transactions
                    WHERE {side}_phone = ? OR (length(?) >= ? AND ends_with({side}_phone, ?))""",
                [e164, digits, MIN_PHONE_DIGITS, digits]):
            hit(PartyKey(role, provider, pid), 1.0 if phone == e164 else 0.95,
                f"phone {phone}")


def _names(view: WarehouseView, query: str, hit: _Hitter) -> None:
    folded = fold_name(query)
    words = (folded.folded if folded else query.lower()).split()
    if not words:
        return
    firsts = sorted({w[:1] for w in words})
    lasts = sorted({w[-3:] for w in words if len(w) >= 3}) or [""]
    for side, role in (("sender", "buyer"), ("beneficiary", "facilitator")):
        for provider, pid, name, similarity in view.rows(
                f"""WITH n AS (
                      SELECT DISTINCT {side}_name AS name FROM transactions
                      WHERE {side}_name IS NOT NULL),
                    c AS (
                      SELECT name, string_split(name, ' ') AS nt FROM n
                      WHERE list_has_any(list_transform(string_split(name, ' '),
                                                        lambda t: left(t, 1)), ?)
                         OR list_has_any(list_transform(string_split(name, ' '),
                                                        lambda t: right(t, 3)), ?)),
                    m AS (
                      SELECT name, list_avg(list_transform(?::VARCHAR[], lambda q:
                               list_max(list_transform(nt, lambda w:
                                 jaro_winkler_similarity(q, w))))) AS similarity
                      FROM c)
                    SELECT DISTINCT t.provider, t.{side}_id, m.name, m.similarity
                    FROM m JOIN transactions t ON t.{side}_name = m.name
                    WHERE m.similarity >= ?""",
                [firsts, lasts, words, NAME_THRESHOLD]):
            hit(PartyKey(role, provider, pid), float(similarity),
                f"name {name} ({similarity:.2f})")


def _describe(view: WarehouseView, hits: dict[PartyKey, _Hit], role: str | None,
              limit: int) -> list[dict[str, Any]]:
    if role:
        hits = {k: v for k, v in hits.items() if k.role == role}
    if not hits:
        return []
    keys = list(hits)
    view.con.register("s_hits", pa.table({
        "role": [k.role for k in keys], "provider": [k.provider for k in keys],
        "party_id": [k.party_id for k in keys],
        "similarity": [hits[k].similarity for k in keys]}))
    rows = view.dicts(
        """SELECT h.role, h.provider, h.party_id, s.name, s.country, s.payments,
                  CAST(s.eur AS DOUBLE) AS eur, s.score, s.rank, a.alert_no, h.similarity
           FROM s_hits h
           LEFT JOIN det_scores s USING (role, provider, party_id)
           LEFT JOIN det_alerts a USING (role, provider, party_id)
           ORDER BY h.similarity DESC, s.score DESC NULLS LAST, h.party_id LIMIT ?""",
        [limit])
    for r in rows:
        key = PartyKey(r["role"], r["provider"], r["party_id"])
        r["token"] = key.token
        r["matched_on"] = hits[key].matched_on
    return rows
