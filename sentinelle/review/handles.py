"""Who is who, by a person's hand: a communications handle attached to a party or a
subject — a judgement, with its reason, audited and undoable.

Equality of phones and e-mails, and entity resolution, link most handles in the warehouse
(``comm_handle_parties``, ``sentinelle/comms/handles.py``). What they cannot link — a
Messenger display name, a national number, the owner of a seized phone — an analyst
attaches here. The link is kept in the case database (``handle_links``); the web
application's timeline shows the handle's messages and calls at once, and the next
``sentinelle sessions`` pairs its calls with the party's payments. Undoing a link marks it
undone with who, when and why, and keeps it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.comms.handles import Attached
from sentinelle.errors import NotFound, ReviewError
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.review import access, audit
from sentinelle.review.models import HandleLink, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.undoing import undo_row

__all__ = ["active", "attach", "for_party", "undo"]

ROLE_SIDES = {"buyer": ("sender", "sender_id"), "facilitator": ("beneficiary", "beneficiary_id")}


def _target(link: HandleLink) -> str:
    return f"{link.platform}:{link.handle}|{link.role}:{link.provider}:{link.party_id}"


def _require_party(view: WarehouseView, role: str, provider: str, party_id: str) -> None:
    if role not in ROLE_SIDES:
        raise ReviewError(f"unknown role {role!r}", fix="buyer or facilitator")
    side, column = ROLE_SIDES[role]
    if provider == SUBJECT_PROVIDER:
        found = view.has_table("er_clusters") and view.scalar(
            "SELECT count(*) FROM er_clusters c JOIN er_records r USING (record_id) "
            "WHERE c.subject_id = ? AND r.kind = ?", [party_id, side])
    else:
        found = view.has_table("transactions") and view.scalar(
            f"SELECT count(*) FROM transactions WHERE provider = ? AND {column} = ?",
            [provider, party_id])
    if not found:
        raise NotFound(f"no {role} {party_id!r} at {provider!r}",
                       fix="check the role, provider and id")


def attach(session: Session, view: WarehouseView, user: User, *, platform: str, handle: str,
           role: str, provider: str, party_id: str, reason: str,
           ip: str | None = None) -> HandleLink:
    """Attach a handle seen in the communications to a party or a subject."""
    access.require(user, "judge_records")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("attaching a handle needs a reason", fix="say why, in a few words")
    platform, handle = (platform or "").strip(), (handle or "").strip()
    seen = view.has_table("communications") and view.scalar(
        "SELECT count(*) FROM communications WHERE platform = ? AND (sender = ? "
        "OR list_contains(recipients, ?))", [platform, handle, handle])
    if not seen:
        raise NotFound(f"no handle {handle!r} on {platform!r} in the communications",
                       fix="pick a handle from the timeline's messages and calls")
    _require_party(view, role, provider, party_id)
    made = HandleLink(platform=platform, handle=handle, role=role, provider=provider,
                      party_id=party_id, reason=reason, linked_by=user.id,
                      linked_at=audit.utcnow())
    session.add(made)
    session.flush()
    audit.record(session, action="attach_handle", user=user, target=_target(made), ip=ip,
                 detail={"link": made.id, "reason": reason})
    session.commit()
    return made


def undo(session: Session, user: User, link_id: int, reason: str, *,
         ip: str | None = None) -> HandleLink:
    """Mark a link undone, with who, when and why; it stays in the history."""
    return undo_row(session, user, HandleLink, link_id, reason, noun="handle link",
                    action="undo_handle_link", ip=ip, describe=lambda h: (_target(h), {}))


def active(session: Session) -> list[Attached]:
    """Every link not undone, as ``sentinelle sessions`` reads them."""
    rows = session.execute(
        select(HandleLink, User.username).join(User, User.id == HandleLink.linked_by)
        .where(HandleLink.undone_at.is_(None)).order_by(HandleLink.id)).all()
    return [Attached(link.id, link.platform, link.handle, link.role, link.provider,
                     link.party_id, name) for link, name in rows]


def for_party(session: Session, role: str, provider: str, party_id: str
              ) -> list[dict[str, Any]]:
    """The links made to this party, undone ones included, oldest first."""
    rows = session.execute(
        select(HandleLink).where(HandleLink.role == role, HandleLink.provider == provider,
                                 HandleLink.party_id == party_id)
        .order_by(HandleLink.linked_at, HandleLink.id)).scalars().all()
    names = {u.id: u.username for u in session.scalars(select(User)).all()}
    return [{"id": link.id, "platform": link.platform, "handle": link.handle,
             "reason": link.reason, "by": names.get(link.linked_by), "at": link.linked_at,
             "undone_at": link.undone_at, "undone_by": names.get(link.undone_by or 0),
             "undo_reason": link.undo_reason} for link in rows]
