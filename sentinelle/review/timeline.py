"""One time axis for a subject or a case, as the web application shows it: payments,
messages, calls, referrals and case notes.

The rows come from ``sentinelle.comms.timeline`` (the function ``sentinelle timeline``
prints), run on each provider's party behind the key — a subject's records, through
``det_subject_parties`` — and on every handle linked to them beyond exact phone and
e-mail: through entity resolution or by an analyst (``comm_handle_parties`` as the last
``sentinelle sessions`` wrote it, and the links made by hand since, read live from the
case database). Case notes come from the cases the user may see. Every view is audited
before anything is returned; need-to-know is ``sentinelle.review.access``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.comms.lexicon import Lexicon, fold
from sentinelle.comms.table import KINDS
from sentinelle.comms.timeline import TIMELINE_KINDS, Party, TimelineRow
from sentinelle.comms.timeline import timeline as comms_timeline
from sentinelle.errors import NotFound, ReviewError
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.review import access, audit, handles
from sentinelle.review.models import CaseNote, CaseSubject, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey
from sentinelle.settings import resolve as settings
from sentinelle.warehouse import Warehouse

__all__ = ["EVENT_KINDS", "Event", "Filters", "Timeline", "case_timeline", "highlight",
           "party_timeline"]

EVENT_KINDS = (*TIMELINE_KINDS, "note")
MAX_EVENTS = 2000  # a page's worth; narrow the dates to see the rest


@dataclass(frozen=True)
class Filters:
    """What the user asked to see: kinds (empty: all) and a range of days (UTC)."""

    kinds: frozenset[str] = frozenset()
    start: date | None = None
    end: date | None = None  # inclusive

    @classmethod
    def parse(cls, kinds: Sequence[str] | None, start: str | None, end: str | None
              ) -> Filters:
        wanted = frozenset(k for k in (kinds or []) if k)
        unknown = wanted - set(EVENT_KINDS)
        if unknown:
            raise ReviewError("unknown kind(s): " + ", ".join(sorted(unknown)),
                              fix="kinds: " + ", ".join(EVENT_KINDS))
        try:
            first = date.fromisoformat(start) if start else None
            last = date.fromisoformat(end) if end else None
        except ValueError as exc:
            raise ReviewError("a date is written YYYY-MM-DD", value=f"{start} {end}") from exc
        if first and last and last < first:
            raise ReviewError("the range ends before it starts", value=f"{start} to {end}")
        return cls(wanted, first, last)

    def keeps(self, kind: str, at: datetime) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.start and at < datetime.combine(self.start, time()):
            return False
        return not (self.end and at >= datetime.combine(self.end + timedelta(days=1), time()))

    def as_dict(self) -> dict[str, Any]:
        return {"kinds": sorted(self.kinds), "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Event:
    at: datetime  # UTC, naive
    kind: str  # one of EVENT_KINDS
    who: str
    to: str
    summary: str
    amount_eur: float | None
    duration_s: int | None
    ref: str
    source: str
    lexicon_hits: tuple[str, ...] = ()
    party: str = ""  # which of a case's subjects (its token), or the handle that linked it

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.replace(tzinfo=UTC).isoformat(), "kind": self.kind,
                "who": self.who, "to": self.to, "summary": self.summary,
                "amount_eur": self.amount_eur, "duration_s": self.duration_s, "ref": self.ref,
                "source": self.source, "lexicon_hits": list(self.lexicon_hits),
                "party": self.party}


@dataclass
class Timeline:
    title: str
    events: list[Event]
    filters: Filters
    total: int  # events before the page's limit
    counts: dict[str, int]  # per kind, within the filters
    first: datetime | None  # the whole axis, whatever the filters
    last: datetime | None
    handles: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    lexicon: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "filters": self.filters.as_dict(), "total": self.total,
                "counts": self.counts, "first": self.first, "last": self.last,
                "handles": self.handles, "lexicon": self.lexicon,
                "events": [e.as_dict() for e in self.events]}


def _lexicon() -> Lexicon | None:
    path = settings()["lexicon"]
    return Lexicon.load(Path(path)) if path else None


def _parties(view: WarehouseView, key: PartyKey) -> list[tuple[str, str]]:
    """The providers' parties behind a key: a subject's records, or the party itself."""
    if key.provider != SUBJECT_PROVIDER:
        return [(key.provider, key.party_id)]
    if not view.has_table("det_subject_parties"):
        raise NotFound(f"no subject {key.party_id!r}", fix="run sentinelle resolve, then "
                       "sentinelle detect")
    found = view.rows("SELECT provider, party_id FROM det_subject_parties "
                      "WHERE subject_id = ? AND side = ? ORDER BY provider, party_id",
                      [key.party_id, key.side])
    if not found:
        raise NotFound(f"no {key.role} subject {key.party_id!r} in the last detection run")
    return [(p, i) for p, i in found]


def _linked_handles(session: Session, view: WarehouseView, key: PartyKey,
                    parties: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Handles linked beyond exact equality: by entity resolution or an analyst's hand."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    if view.has_table("comm_handle_parties"):
        for platform, handle, via, value in view.rows(
                "SELECT DISTINCT platform, handle, via, value FROM comm_handle_parties "
                "WHERE role = ? AND list_contains(?, provider || chr(31) || party_id) "
                "ORDER BY platform, handle",
                [key.role, [f"{p}\x1f{i}" for p, i in parties]]):
            out.setdefault((platform, handle), {"platform": platform, "handle": handle,
                                                "via": via, "value": value})
    names = {(key.provider, key.party_id), *parties}
    for link in handles.active(session):
        if link.role == key.role and (link.provider, link.party_id) in names:
            out[(link.platform, link.handle)] = {
                "platform": link.platform, "handle": link.handle, "via": "analyst",
                "value": f"judgement #{link.link_id} by {link.linked_by}"}
    return list(out.values())


def _events(session: Session, view: WarehouseView, key: PartyKey, lexicon: Lexicon | None,
            label: str = "") -> tuple[list[Event], list[dict[str, str]]]:
    wh = Warehouse(Path(""), view.con)
    parties = _parties(view, key)
    rows: list[tuple[TimelineRow, str]] = []
    for provider, party_id in parties:
        if view.has_table("transactions"):
            rows += [(r, label) for r in comms_timeline(
                wh, party=Party(key.role, provider, party_id), lexicon=lexicon)]
    linked = _linked_handles(session, view, key, parties)
    if view.has_table("communications"):
        for h in linked:
            rows += [(r, label or h["handle"]) for r in comms_timeline(
                wh, handle=h["handle"], kinds=set(KINDS), lexicon=lexicon)]
    seen: set[tuple[str, str]] = set()
    events = []
    for r, party in rows:
        if (r.kind, r.ref) in seen:
            continue
        seen.add((r.kind, r.ref))
        events.append(Event(r.at, r.kind, r.who, r.to, r.summary, r.amount_eur, r.duration_s,
                            r.ref, r.source, tuple(r.lexicon_hits), party))
    return events, linked


def _notes(session: Session, user: User, keys: list[PartyKey],
           case_id: int | None = None) -> list[Event]:
    """Notes of the given case, or of the visible cases that hold one of the keys."""
    visible = [c.id for c in access.visible_cases(session, user)]
    if case_id is not None:
        ids = [case_id] if case_id in visible else []
    else:
        ids = sorted({s.case_id for s in session.scalars(select(CaseSubject).where(
            CaseSubject.case_id.in_(visible))).all()
            if PartyKey(s.role, s.provider, s.party_id) in keys})
    notes = session.scalars(select(CaseNote).where(CaseNote.case_id.in_(ids))).all()
    return [Event(n.created_at, "note", n.author.username, n.case.reference, n.text, None,
                  None, f"note {n.id}", f"case {n.case.reference}") for n in notes]


def _finish(title: str, events: list[Event], filters: Filters, linked: list[dict[str, str]],
            lexicon: Lexicon | None, limit: int) -> Timeline:
    events.sort(key=lambda e: (e.at, EVENT_KINDS.index(e.kind), e.ref))
    kept = [e for e in events if filters.keeps(e.kind, e.at)]
    counts: dict[str, int] = {}
    for e in kept:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    return Timeline(title, kept[:limit], filters, len(kept), counts,
                    events[0].at if events else None, events[-1].at if events else None,
                    linked, lexicon=lexicon is not None)


def party_timeline(session: Session, view: WarehouseView, user: User, key: PartyKey, *,
                   filters: Filters = Filters(), ip: str | None = None,
                   limit: int = MAX_EVENTS) -> Timeline:
    """A party's or a subject's events, with the notes of the cases the user may see."""
    access.require(user, "view_subject")
    audit.record(session, action="view_timeline", user=user, target=key.target, ip=ip,
                 detail={"filters": {k: str(v) for k, v in filters.as_dict().items()}})
    session.commit()
    lexicon = _lexicon()
    events, linked = _events(session, view, key, lexicon)
    events += _notes(session, user, [key])
    timeline = _finish(f"{key.role} {key.party_id} ({key.provider})", events, filters,
                       linked, lexicon, limit)
    timeline.links = handles.for_party(session, key.role, key.provider, key.party_id)
    return timeline


def case_timeline(session: Session, view: WarehouseView, user: User, case_id: int, *,
                  filters: Filters = Filters(), ip: str | None = None,
                  limit: int = MAX_EVENTS) -> Timeline:
    """Every subject of a case, and its notes, on one axis (members and supervisors)."""
    case = access.require_case(session, user, case_id)
    audit.record(session, action="view_case_timeline", user=user,
                 target=f"case {case.reference}", ip=ip,
                 detail={"filters": {k: str(v) for k, v in filters.as_dict().items()}})
    session.commit()
    lexicon = _lexicon()
    events: list[Event] = []
    linked: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for s in case.subjects:
        key = PartyKey(s.role, s.provider, s.party_id)
        try:
            found, handles_of = _events(session, view, key, lexicon, label=key.token)
        except NotFound:
            continue  # a subject of a former detection run: the case keeps it, no rows
        events += [e for e in found if (e.kind, e.ref) not in seen]
        seen |= {(e.kind, e.ref) for e in found}
        linked += handles_of
    events += _notes(session, user, [], case_id=case.id)
    return _finish(f"case {case.reference}: {case.title}", events, filters, linked, lexicon,
                   limit)


def highlight(text: str, lexicon_hits: tuple[str, ...] | list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, matched) so that a template can mark the lexicon's
    matches: the same folding as the lexicon (case and accents), mapped back to the
    original characters."""
    if not lexicon_hits or not text:
        return [(text, False)]
    folded, origin = [], []
    for i, ch in enumerate(text):
        piece = fold(ch)
        folded.append(piece)
        origin += [i] * len(piece)
    pattern = Lexicon.of(tuple(lexicon_hits)).pattern
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer("".join(folded)):
        if m.end() == m.start():
            continue
        start, end = origin[m.start()], origin[m.end() - 1] + 1
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out
