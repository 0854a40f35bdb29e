"""Undoing a person's judgement: marked undone with who, when and why, and kept.

Judgements on records (``RecordJudgement``) and links of handles to parties
(``HandleLink``) are undone the same way; the row is never deleted, so the history shows
what was decided, by whom, and why it was taken back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.review import access, audit
from sentinelle.review.models import User


class Undoable(Protocol):
    id: Any
    undone_by: Any
    undone_at: Any
    undo_reason: Any


T = TypeVar("T", bound=Undoable)


def undo_row(session: Session, user: User, model: type[T], row_id: int, reason: str, *,
             noun: str, action: str, describe: Callable[[T], tuple[str, dict[str, Any]]],
             ip: str | None = None) -> T:
    """Mark row ``row_id`` of ``model`` undone (reason required) and audit it as
    ``action``; ``describe`` gives the audit log's target and detail for the row (its id
    and the reason are added, under the noun's last word and ``reason``)."""
    access.require(user, "judge_records")
    found = session.get(model, row_id)
    if found is None:
        raise NotFound(f"no {noun} {row_id}")
    if found.undone_at is not None:
        raise ReviewError(f"{noun} {row_id} is already undone")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(f"undoing a {noun} needs a reason", fix="say why, in a few words")
    found.undone_by, found.undone_at, found.undo_reason = user.id, audit.utcnow(), reason
    target, detail = describe(found)
    audit.record(session, action=action, user=user, target=target, ip=ip,
                 detail={noun.split()[-1]: found.id, **detail, "reason": reason})
    session.commit()
    return found
