"""Cases: the subjects an investigation is about, its members, notes, files and status.

Need to know: a case is visible to its members and to supervisors only
(``access.require_case`` answers "not found" to anyone else, so a case's existence does
not leak). Every read and change is written to the audit log in the same commit as the
change. Attached files are stored once under their SHA-256, read-only, and never
overwritten; the hash is checked again when a file is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.review import access, audit
from sentinelle.review.models import (
    CASE_STATUSES,
    Case,
    CaseFile,
    CaseMember,
    CaseNote,
    CaseStatusChange,
    CaseSubject,
    User,
)
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey

__all__ = ["MAX_FILE_BYTES", "add_member", "add_note", "add_subject", "attach_file",
           "candidate_members", "case_dict", "change_status", "create_case",
           "editable_cases", "get_case", "list_cases", "open_file", "remove_member"]

MAX_FILE_BYTES = 50 * 1024 * 1024
_CHUNK = 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _target(case: Case) -> str:
    return f"case/{case.reference}"


def _case(session: Session, user: User, case_id: int, edit: bool = False) -> Case:
    """The case for this user: a role that never sees cases is refused as such (403);
    anyone else learns nothing of a case they are not on (404)."""
    access.require(user, "edit_case" if edit else "view_case")
    return access.require_case(session, user, case_id, edit=edit)


def list_cases(session: Session, user: User) -> list[Case]:
    """The cases this user may see, newest first."""
    access.require(user, "view_case")
    return list(access.visible_cases(session, user))


def create_case(session: Session, user: User, title: str, *,
                subjects: Sequence[PartyKey] = (), view: WarehouseView | None = None,
                ip: str | None = None) -> Case:
    """A new case; its creator is its first member. ``subjects`` (checked against the
    warehouse, ``view``) go in with it: an analyst hands an alert on this way, though
    only an investigator or a supervisor may change a case afterwards."""
    access.require(user, "create_case")
    title = (title or "").strip()
    if not title:
        raise ReviewError("a case needs a title", fix="name the investigation")
    if subjects:
        if view is None:
            raise ReviewError("subjects need the warehouse to be checked against")
        _require_scored(view, subjects)
    now = _now()
    count = session.scalar(select(func.count()).select_from(Case)) or 0
    case = Case(reference=f"C-{now:%Y}-{count + 1:04d}", title=title[:300], status="open",
                created_by=user.id, created_at=now)
    session.add(case)
    session.flush()
    session.add(CaseMember(case_id=case.id, user_id=user.id, added_by=user.id, added_at=now))
    session.add(CaseStatusChange(case_id=case.id, old_status=None, new_status="open",
                                 changed_by=user.id, changed_at=now, reason="created"))
    for key in dict.fromkeys(subjects):
        session.add(CaseSubject(case_id=case.id, role=key.role, provider=key.provider,
                                party_id=key.party_id, added_by=user.id, added_at=now))
    audit.record(session, action="create_case", user=user, target=_target(case), ip=ip,
                 detail={"title": case.title,
                         "subjects": [k.target for k in dict.fromkeys(subjects)]})
    session.commit()
    return case


def _require_scored(view: WarehouseView, keys: Sequence[PartyKey]) -> None:
    view.require_detection()
    missing = [k.target for k in keys if not view.scalar(
        "SELECT count(*) FROM det_scores WHERE role = ? AND provider = ? AND party_id = ?",
        list(k))]
    if missing:
        raise NotFound("some parties are not in the last detection run", details=missing,
                       fix="open the subject from the queue or search")


def get_case(session: Session, user: User, case_id: int, *, ip: str | None = None) -> Case:
    """The case, for someone allowed to see it; the view is audited."""
    case = _case(session, user, case_id)
    audit.record(session, action="view_case", user=user, target=_target(case), ip=ip)
    session.commit()
    return case


def _active_user(session: Session, username: str) -> User:
    found = session.scalars(select(User).where(User.username == username)).first()
    if found is None or not found.active:
        raise NotFound(f"no active user {username!r}", fix="check the username")
    return found


def add_member(session: Session, user: User, case_id: int, username: str, *,
               ip: str | None = None) -> None:
    case = _case(session, user, case_id, edit=True)
    member = _active_user(session, username)
    if not access.can(member, "view_case"):
        raise ReviewError(f"{username} ({member.role}) cannot work on cases",
                          fix="add an analyst, investigator or supervisor")
    if any(m.user_id == member.id for m in case.members):
        raise ReviewError(f"{username} is already a member of {case.reference}")
    session.add(CaseMember(case_id=case.id, user_id=member.id, added_by=user.id,
                           added_at=_now()))
    audit.record(session, action="add_member", user=user, target=_target(case), ip=ip,
                 detail={"member": username})
    session.commit()


def remove_member(session: Session, user: User, case_id: int, username: str, *,
                  ip: str | None = None) -> None:
    case = _case(session, user, case_id, edit=True)
    member = session.scalars(select(User).where(User.username == username)).first()
    row = next((m for m in case.members if member and m.user_id == member.id), None)
    if row is None:
        raise NotFound(f"{username} is not a member of {case.reference}")
    if len(case.members) == 1:
        raise ReviewError("a case keeps at least one member",
                          fix="add the new member before removing the last one")
    session.delete(row)
    audit.record(session, action="remove_member", user=user, target=_target(case), ip=ip,
                 detail={"member": username})
    session.commit()


def add_subject(session: Session, view: WarehouseView, user: User, case_id: int,
                key: PartyKey, *, ip: str | None = None) -> None:
    case = _case(session, user, case_id, edit=True)
    _require_scored(view, [key])
    if any(tuple(PartyKey(s.role, s.provider, s.party_id)) == tuple(key)
           for s in case.subjects):
        raise ReviewError(f"{key.target} is already in {case.reference}")
    session.add(CaseSubject(case_id=case.id, role=key.role, provider=key.provider,
                            party_id=key.party_id, added_by=user.id, added_at=_now()))
    audit.record(session, action="add_subject", user=user, target=_target(case), ip=ip,
                 detail={"subject": key.target})
    session.commit()


def add_note(session: Session, user: User, case_id: int, text: str, *,
             ip: str | None = None) -> None:
    case = _case(session, user, case_id, edit=True)
    text = (text or "").strip()
    if not text:
        raise ReviewError("the note is empty")
    session.add(CaseNote(case_id=case.id, author_id=user.id, created_at=_now(), text=text))
    audit.record(session, action="add_note", user=user, target=_target(case), ip=ip,
                 detail={"characters": len(text)})
    session.commit()


def change_status(session: Session, user: User, case_id: int, status: str, reason: str, *,
                  ip: str | None = None) -> None:
    case = _case(session, user, case_id, edit=True)
    problems = []
    if status not in CASE_STATUSES:
        problems.append(f"status {status!r}: use one of {', '.join(CASE_STATUSES)}")
    elif status == case.status:
        problems.append(f"the case is already {status}")
    if not (reason or "").strip():
        problems.append("a reason is required for a status change")
    if problems:
        raise ReviewError("the status cannot be changed", details=problems)
    session.add(CaseStatusChange(case_id=case.id, old_status=case.status, new_status=status,
                                 changed_by=user.id, changed_at=_now(),
                                 reason=reason.strip()))
    audit.record(session, action="change_case_status", user=user, target=_target(case),
                 ip=ip, detail={"from": case.status, "to": status, "reason": reason.strip()})
    case.status = status
    session.commit()


def attach_file(session: Session, user: User, case_id: int, filename: str, data: BinaryIO,
                content_type: str, files_dir: Path, *, max_bytes: int = MAX_FILE_BYTES,
                ip: str | None = None) -> CaseFile:
    """Store the file under ``files_dir/<sha256>`` (once: the same content is never
    written twice, and a stored file is never replaced) and record it on the case."""
    case = _case(session, user, case_id, edit=True)
    name = Path((filename or "").replace("\\", "/")).name.strip()[:300]
    if not name:
        raise ReviewError("the file has no name")
    files_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=files_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := data.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ReviewError(f"the file is larger than {max_bytes // 2**20} MiB",
                                      fix="attach a smaller file or split it")
                digest.update(chunk)
                out.write(chunk)
        stored = files_dir / digest.hexdigest()
        if not stored.exists():
            os.chmod(tmp, 0o444)
            # link() fails rather than replace a file that appeared meanwhile
            try:
                os.link(tmp, stored)
            except FileExistsError:
                pass
    finally:
        os.unlink(tmp)
    row = CaseFile(case_id=case.id, filename=name, sha256=digest.hexdigest(), size=size,
                   content_type=(content_type or "application/octet-stream")[:200],
                   uploaded_by=user.id, uploaded_at=_now())
    session.add(row)
    audit.record(session, action="attach_file", user=user, target=_target(case), ip=ip,
                 detail={"filename": name, "sha256": row.sha256, "size": size})
    session.commit()
    return row


@dataclass
class StoredFile:
    record: CaseFile
    path: Path


def open_file(session: Session, user: User, case_id: int, file_id: int, files_dir: Path, *,
              ip: str | None = None) -> StoredFile:
    """A case file to download, its hash checked; the download is audited."""
    case = _case(session, user, case_id)
    record = next((f for f in case.files if f.id == file_id), None)
    if record is None:
        raise NotFound(f"no file {file_id} in {case.reference}")
    path = files_dir / record.sha256
    if not path.exists():
        raise NotFound(f"the stored copy of {record.filename} is missing",
                       fix=f"restore {record.sha256} into {files_dir}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != record.sha256:
        raise ReviewError(f"the stored copy of {record.filename} no longer matches its "
                          "SHA-256", fix="restore the file from a backup; report it")
    audit.record(session, action="download_file", user=user, target=_target(case), ip=ip,
                 detail={"filename": record.filename, "sha256": record.sha256})
    session.commit()
    return StoredFile(record, path)


def case_dict(session: Session, case: Case) -> dict[str, Any]:
    """The case as plain data (the API's answer, the page's context)."""
    ids = {m.user_id for m in case.members} | {n.author_id for n in case.notes} | {
        f.uploaded_by for f in case.files} | {h.changed_by for h in case.history} | {
        s.added_by for s in case.subjects} | {case.created_by}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    return {
        "id": case.id, "reference": case.reference, "title": case.title,
        "status": case.status, "created_by": names.get(case.created_by),
        "created_at": case.created_at,
        "members": [{"username": m.user.username, "display_name": m.user.display_name,
                     "role": m.user.role, "added_at": m.added_at}
                    for m in sorted(case.members, key=lambda m: m.added_at)],
        "subjects": [{"role": s.role, "provider": s.provider, "party_id": s.party_id,
                      "token": PartyKey(s.role, s.provider, s.party_id).token,
                      "added_by": names.get(s.added_by), "added_at": s.added_at}
                     for s in sorted(case.subjects, key=lambda s: s.added_at)],
        "notes": [{"author": names.get(n.author_id), "at": n.created_at, "text": n.text}
                  for n in case.notes],
        "files": [{"id": f.id, "filename": f.filename, "sha256": f.sha256, "size": f.size,
                   "content_type": f.content_type, "uploaded_by": names.get(f.uploaded_by),
                   "uploaded_at": f.uploaded_at}
                  for f in sorted(case.files, key=lambda f: f.uploaded_at)],
        "history": [{"from": h.old_status, "to": h.new_status, "by": names.get(h.changed_by),
                     "at": h.changed_at, "reason": h.reason} for h in case.history],
    }


def candidate_members(session: Session, case: Case) -> list[User]:
    """Active users who could be added to the case."""
    members = {m.user_id for m in case.members}
    users = session.scalars(select(User).where(User.active.is_(True))
                            .order_by(User.username)).all()
    return [u for u in users if u.id not in members and access.can(u, "view_case")]


def editable_cases(session: Session, user: User) -> list[Case]:
    """Open cases this user may add a subject to."""
    if not access.can(user, "edit_case"):
        return []
    return [c for c in access.visible_cases(session, user) if c.status != "closed"]
