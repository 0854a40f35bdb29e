"""Reports drafted, reviewed and approved in the application, then exported (four eyes).

A report is drafted on a subject or on a case one may see: what it covers — the subjects
and the detection run — is fixed then, and the narrative drafted from the indicators
(``report.narrative``). Its author edits the narrative while it is a draft (or returned)
and submits it; a supervisor who is not the author approves it, or returns it with a
comment; only an approved report is exported, once, through ``report.export`` (the same
rendering and audit entry as ``sentinelle report``), and its bytes are kept under their
SHA-256 to be downloaded again. A case's reports are need-to-know like the case: anyone
who may not see the case is told the report does not exist.

Every view, edit, transition, export and download is written to the audit log in the same
transaction as the change; ``report_events`` keeps the report's own history with comments.

    draft ──submit──▶ submitted ──approve──▶ approved ──export──▶ exported
      ▲                   │
      └──edit, submit── returned ◀──return (with a comment)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sentinelle.errors import Forbidden, NotFound, ReviewError
from sentinelle.report import narrative, request
from sentinelle.report.entity import ReportingEntity
from sentinelle.report.export import EXPORTERS, Rendering, render, write_export
from sentinelle.report.gather import ReportData, gather
from sentinelle.report.money import rate_book
from sentinelle.review import access, audit
from sentinelle.review.models import Case, ReportDraft, ReportEvent, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey

__all__ = ["EDITABLE", "FORMATS", "MAX_COMMENT", "Download", "allowed", "approve",
           "create_draft", "current_summary", "download", "draft_case", "draft_dict",
           "edit_narrative", "export", "find_by_hash", "get_draft", "list_drafts",
           "return_draft", "store_dir", "submit", "summary"]

# Every registered format but the bare narrative, which a draft holds itself.
FORMATS = tuple(name for name in EXPORTERS if name != "reason")
EDITABLE = ("draft", "returned")
MAX_COMMENT = 10_000


def store_dir(files_dir: Path) -> Path:
    """Exported reports are kept beside the case files, each under its SHA-256."""
    return Path(files_dir) / "reports"


def _limit(draft: ReportDraft) -> int | None:
    return EXPORTERS[draft.format].reason_limit


def _keys(draft: ReportDraft) -> list[PartyKey]:
    return [PartyKey(*k) for k in json.loads(draft.subjects)]


def _target(session: Session, draft: ReportDraft) -> str:
    """How the audit log names what the report is about (as ``sentinelle report`` does)."""
    if draft.scope == "case":
        case = draft_case(session, draft)
        return f"case/{case.reference}" if case is not None else f"case/#{draft.case_id}"
    return PartyKey(draft.role or "", draft.provider or "", draft.party_id or "").target


def draft_case(session: Session, draft: ReportDraft) -> Case | None:
    return session.get(Case, draft.case_id) if draft.case_id else None


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def _visible(session: Session, user: User, draft: ReportDraft) -> bool:
    if draft.case_id is not None:
        case = session.get(Case, draft.case_id)
        return case is not None and access.can_see_case(session, user, case)
    return access.can(user, "view_subject")


def _may_read(user: User) -> None:
    if not (access.can(user, "draft_report") or access.can(user, "approve_report")):
        access.require(user, "draft_report")


def _draft(session: Session, user: User, draft_id: int) -> ReportDraft:
    """The report, if this user may see it; "not found" otherwise (as for a case)."""
    _may_read(user)
    draft = session.get(ReportDraft, draft_id)
    if draft is None or not _visible(session, user, draft):
        raise NotFound(f"no report #{draft_id}", fix="check the number, or ask a supervisor "
                       "to add you to the case it is about")
    return draft


def _event(session: Session, user: User, draft: ReportDraft, action: str, new_status: str,
           comment: str = "") -> str | None:
    """The report's own history; returns the status it had."""
    old = draft.status if action != "create" else None
    draft.status = new_status
    draft.updated_at = audit.utcnow()
    session.add(ReportEvent(draft_id=draft.id, at=draft.updated_at, user_id=user.id,
                            action=action, old_status=old, new_status=new_status,
                            comment=comment))
    return old


def _log(session: Session, user: User, draft: ReportDraft, action: str, new_status: str,
         comment: str = "", ip: str | None = None, **detail: Any) -> None:
    """The history and the audit entry (``create_report``, ``submit_report``, ...)."""
    old = _event(session, user, draft, action, new_status, comment)
    audit.record(session, action=f"{action}_report", user=user,
                 target=_target(session, draft), ip=ip,
                 detail={"report": draft.id, "format": draft.format, "from": old,
                         "to": new_status} | detail)


# --- drafting ------------------------------------------------------------------------------

def _gather(session: Session, view: WarehouseView, draft: ReportDraft) -> ReportData:
    keys = _keys(draft)
    if draft.scope == "case":
        case = draft_case(session, draft)
        assert case is not None
        return gather(view, keys, scope="case", reference=case.reference,
                      title=f"{case.reference}: {case.title}", target=f"case/{case.reference}")
    key = keys[0]
    return gather(view, keys, scope="subject", reference=key.target.replace("/", "-"),
                  title=f"Report on {key.role} {key.party_id} at {key.provider}",
                  target=key.target)


def create_draft(session: Session, view: WarehouseView, user: User, fmt: str, *,
                 subject: PartyKey | None = None, case_id: int | None = None,
                 ip: str | None = None) -> ReportDraft:
    """A new draft on one subject, or on a case's subjects as they stand now."""
    access.require(user, "draft_report")
    if fmt not in FORMATS:
        raise ReviewError(f"unknown report format {fmt!r}", value=fmt,
                          fix="one of " + ", ".join(FORMATS))
    if (subject is None) == (case_id is None):
        raise ReviewError("a report is about a subject or a case", fix="name one of them")
    now = audit.utcnow()
    draft = ReportDraft(format=fmt, status="draft", author_id=user.id, created_at=now,
                        updated_at=now)
    if subject is not None:
        access.require(user, "view_subject")
        draft.scope, draft.role, draft.provider, draft.party_id = ("subject", *subject)
        keys = [subject]
    else:
        assert case_id is not None
        access.require(user, "view_case")
        case = access.require_case(session, user, case_id)
        draft.scope, draft.case_id = "case", case.id
        keys = [PartyKey(s.role, s.provider, s.party_id)
                for s in sorted(case.subjects, key=lambda s: (s.added_at, s.id))]
    draft.subjects = json.dumps([list(k) for k in dict.fromkeys(keys)])
    data = _gather(session, view, draft)
    if fmt in ("request", "request-pdf"):
        request.facilitators(data)  # refuses a report with no facilitator now, not later
    limit = _limit(draft)
    draft.narrative_drafted = narrative.draft(data, limit) if limit else None
    draft.narrative = draft.narrative_drafted
    draft.title, draft.run_id = data.title[:400], data.run_id
    session.add(draft)
    session.flush()
    _log(session, user, draft, "create", "draft", ip=ip, run_id=data.run_id,
         subjects=[k.target for k in keys], transactions=len(data.transactions))
    session.commit()
    return draft


def edit_narrative(session: Session, user: User, draft_id: int, text: str, *,
                   ip: str | None = None) -> ReportDraft:
    """The author's edit of the narrative, while the report is a draft or returned."""
    access.require(user, "draft_report")
    draft = _draft(session, user, draft_id)
    _require_author(user, draft, "edit")
    if draft.status not in EDITABLE:
        raise ReviewError(f"report #{draft.id} is {draft.status}: only a draft or a returned "
                          "report is edited", fix="ask the approver to return it")
    limit = _limit(draft)
    if limit is None:
        raise ReviewError(f"a {draft.format} report carries no narrative",
                          fix="choose goaml, fincen, pack or pdf for a narrative")
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ReviewError("the narrative is empty", fix="write it, or keep the draft's")
    if len(text) > limit:
        raise ReviewError(f"the narrative has {len(text):,} characters; {draft.format} takes "
                          f"at most {limit:,}", fix="shorten it")
    draft.narrative = text
    _log(session, user, draft, "edit", draft.status, ip=ip, chars=len(text),
         narrative_sha256=_sha(text))
    session.commit()
    return draft


def _require_author(user: User, draft: ReportDraft, what: str) -> None:
    if draft.author_id != user.id:
        raise Forbidden(f"only the report's author may {what} it",
                        fix="draft your own report, or ask its author")


def submit(session: Session, user: User, draft_id: int, *, ip: str | None = None
           ) -> ReportDraft:
    access.require(user, "draft_report")
    draft = _draft(session, user, draft_id)
    _require_author(user, draft, "submit")
    if draft.status not in EDITABLE:
        raise ReviewError(f"report #{draft.id} is {draft.status}, not a draft")
    draft.submitted_at = audit.utcnow()
    _log(session, user, draft, "submit", "submitted", ip=ip,
         narrative_sha256=_sha(draft.narrative))
    session.commit()
    return draft


# --- review --------------------------------------------------------------------------------

def _review(session: Session, user: User, draft_id: int) -> ReportDraft:
    access.require(user, "approve_report")
    draft = _draft(session, user, draft_id)
    if draft.author_id == user.id:
        raise Forbidden("four eyes: you drafted this report, so another supervisor must "
                        "approve or return it", fix="ask another supervisor")
    if draft.status != "submitted":
        raise ReviewError(f"report #{draft.id} is {draft.status}: only a submitted report "
                          "is approved or returned")
    return draft


def approve(session: Session, user: User, draft_id: int, comment: str = "", *,
            ip: str | None = None) -> ReportDraft:
    """Approval by someone who may approve and is not the author."""
    draft = _review(session, user, draft_id)
    comment = (comment or "").strip()[:MAX_COMMENT]
    draft.reviewer_id, draft.reviewed_at, draft.review_comment = (
        user.id, audit.utcnow(), comment or None)
    _log(session, user, draft, "approve", "approved", comment, ip=ip,
         narrative_sha256=_sha(draft.narrative))
    session.commit()
    return draft


def return_draft(session: Session, user: User, draft_id: int, comment: str, *,
                 ip: str | None = None) -> ReportDraft:
    """Back to its author, with what to change (required)."""
    draft = _review(session, user, draft_id)
    comment = (comment or "").strip()
    if not comment:
        raise ReviewError("say why the report is returned", fix="write a comment for its "
                          "author")
    comment = comment[:MAX_COMMENT]
    draft.reviewer_id, draft.reviewed_at, draft.review_comment = (
        user.id, audit.utcnow(), comment)
    _log(session, user, draft, "return", "returned", comment, ip=ip)
    session.commit()
    return draft


# --- export and download -------------------------------------------------------------------

def export(session: Session, view: WarehouseView, user: User, draft_id: int,
           files_dir: Path, entity: ReportingEntity, *, schema: Path | None = None,
           ip: str | None = None) -> ReportDraft:
    """Render the approved report with its approved narrative, keep it under its SHA-256
    and record the export (``export_report``, as the command line does) in the same
    commit as the report's new status."""
    access.require(user, "export")
    draft = _draft(session, user, draft_id)
    if draft.status != "approved":
        raise ReviewError(f"report #{draft.id} is {draft.status}: only an approved report "
                          "is exported", fix="submit it, and have a supervisor who is not "
                          "its author approve it")
    run = view.latest_run()
    if run is None or run["run_id"] != draft.run_id:
        raise ReviewError(f"report #{draft.id} was drafted on detection run {draft.run_id}; "
                          "detection has run again since, so what was approved may differ "
                          "from what would be exported", fix="draft the report again")
    data = _gather(session, view, draft)
    content = render(draft.format, Rendering(
        data, view, entity, draft.narrative, rate_book(view), bom=True,
        user=user.username), schema)
    digest = hashlib.sha256(content).hexdigest()
    folder = store_dir(files_dir)
    folder.mkdir(parents=True, exist_ok=True)
    reference = data.reference.replace("/", "-")
    draft.export_filename = f"{reference}-{draft.format}{EXPORTERS[draft.format].suffix}"
    draft.exported_by, draft.exported_at = user.id, audit.utcnow()
    draft.export_sha256, draft.export_bytes = digest, len(content)
    _event(session, user, draft, "export", "exported")  # audited by write_export below
    reviewer = session.get(User, draft.reviewer_id) if draft.reviewer_id else None
    write_export(session, user, draft.format, data, content, folder / digest, ip=ip,
                 extra={"report": draft.id, "file": draft.export_filename,
                        "author": draft.author.username,
                        "approved_by": reviewer.username if reviewer else None})
    return draft


@dataclass(frozen=True)
class Download:
    draft: ReportDraft
    content: bytes


def download(session: Session, user: User, draft_id: int, files_dir: Path, *,
             ip: str | None = None) -> Download:
    """The exported bytes, checked against the hash recorded at export; audited."""
    access.require(user, "export")
    draft = _draft(session, user, draft_id)
    if draft.status != "exported" or not draft.export_sha256:
        raise NotFound(f"report #{draft.id} has not been exported",
                       fix="export it once it is approved")
    path = store_dir(files_dir) / draft.export_sha256
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"the exported file of report #{draft.id} is missing from the store",
                       file=str(path), fix=f"restore {draft.export_sha256} into "
                       f"{store_dir(files_dir)}") from exc
    if hashlib.sha256(content).hexdigest() != draft.export_sha256:
        raise ReviewError(f"the stored file of report #{draft.id} does not match its "
                          "recorded SHA-256: it was altered", file=str(path),
                          fix="restore it from a backup; tell the auditor")
    audit.record(session, action="download_report", user=user, target=_target(session, draft),
                 ip=ip,
                 detail={"report": draft.id, "sha256": draft.export_sha256,
                         "file": draft.export_filename})
    session.commit()
    return Download(draft, content)


def find_by_hash(session: Session, user: User, sha256: str) -> ReportDraft:
    """The exported report with this SHA-256 (as the audit log names it), if visible."""
    _may_read(user)
    wanted = (sha256 or "").strip().lower()
    for draft in session.scalars(select(ReportDraft).where(
            ReportDraft.export_sha256 == wanted).order_by(ReportDraft.id)):
        if _visible(session, user, draft):
            return draft
    raise NotFound("no exported report with that SHA-256 that you may see", value=sha256,
                   fix="copy the hash from the report's page or the audit log")


# --- reading -------------------------------------------------------------------------------

def list_drafts(session: Session, user: User, status: str | None = None) -> list[ReportDraft]:
    """The reports this user may see, newest first: every subject report (for whoever may
    open subjects) and the reports on the cases they may see."""
    _may_read(user)
    cases = access.visible_cases_query(user).with_only_columns(Case.id)
    query = select(ReportDraft).where(or_(
        ReportDraft.case_id.in_(cases),
        ReportDraft.case_id.is_(None) if access.can(user, "view_subject")
        else ReportDraft.id.is_(None)))
    if status:
        query = query.where(ReportDraft.status == status)
    return list(session.scalars(query.order_by(ReportDraft.id.desc())))


def get_draft(session: Session, user: User, draft_id: int, *, ip: str | None = None
              ) -> ReportDraft:
    """The report, for someone who may see it; the view is audited."""
    draft = _draft(session, user, draft_id)
    audit.record(session, action="view_report", user=user, target=_target(session, draft),
                 ip=ip,
                 detail={"report": draft.id})
    session.commit()
    return draft


def allowed(session: Session, user: User, draft: ReportDraft) -> list[str]:
    """What this user may do to the report now (the page's buttons)."""
    mine = draft.author_id == user.id
    may = []
    if mine and draft.status in EDITABLE and access.can(user, "draft_report"):
        may += ["edit", "submit"] if _limit(draft) else ["submit"]
    if not mine and draft.status == "submitted" and access.can(user, "approve_report"):
        may += ["approve", "return"]
    if draft.status == "approved" and access.can(user, "export"):
        may.append("export")
    if draft.status == "exported" and access.can(user, "export"):
        may.append("download")
    return may


def summary(data: ReportData) -> dict[str, Any]:
    """What the report covers, for its page: subjects, payments, euros, period, sources."""
    first, last = data.period
    return {"subjects": [{"target": s.key.target, "token": s.key.token,
                          "name": s.name, "country": s.country, "score": s.score,
                          "rank": s.rank, "alert_no": s.alert_no,
                          "reasons": [r["indicator"] for r in s.reasons]}
                         for s in data.subjects],
            "transactions": len(data.transactions), "eur": float(data.total_eur),
            "first": first, "last": last, "parties": len(data.parties),
            "sources": [{"path": s.path, "sha256": s.sha256, "transactions": s.transactions}
                        for s in data.sources]}


def current_summary(session: Session, view: WarehouseView, draft: ReportDraft
                    ) -> dict[str, Any]:
    """The summary from the warehouse as it is, or why it cannot be read."""
    run = view.latest_run()
    if run is None or run["run_id"] != draft.run_id:
        return {"stale": True}
    return summary(_gather(session, view, draft)) | {"stale": False}


def draft_dict(session: Session, user: User, draft: ReportDraft) -> dict[str, Any]:
    """The report as plain data (the API's answer, the page's context)."""
    case = draft_case(session, draft)
    ids = {draft.author_id, draft.reviewer_id, draft.exported_by} | {
        e.user_id for e in draft.events}
    names = dict(session.execute(select(User.id, User.username).where(
        User.id.in_([i for i in ids if i is not None]))).all())
    return {
        "id": draft.id, "format": draft.format, "scope": draft.scope,
        "case": {"id": case.id, "reference": case.reference, "title": case.title}
        if case else None,
        "subject": PartyKey(draft.role, draft.provider, draft.party_id).target
        if draft.scope == "subject" and draft.role and draft.provider and draft.party_id
        else None,
        "subjects": [k.target for k in _keys(draft)], "title": draft.title,
        "run_id": draft.run_id, "status": draft.status,
        "narrative": draft.narrative, "narrative_drafted": draft.narrative_drafted,
        "narrative_limit": _limit(draft),
        "edited": draft.narrative != draft.narrative_drafted,
        "author": names.get(draft.author_id), "created_at": draft.created_at,
        "updated_at": draft.updated_at, "submitted_at": draft.submitted_at,
        "reviewer": names.get(draft.reviewer_id) if draft.reviewer_id else None,
        "reviewed_at": draft.reviewed_at, "review_comment": draft.review_comment,
        "exported_by": names.get(draft.exported_by) if draft.exported_by else None,
        "exported_at": draft.exported_at, "export_sha256": draft.export_sha256,
        "export_bytes": draft.export_bytes, "export_filename": draft.export_filename,
        "events": [{"at": e.at, "by": names.get(e.user_id), "action": e.action,
                    "from": e.old_status, "to": e.new_status, "comment": e.comment}
                   for e in draft.events],
        "may": allowed(session, user, draft),
    }
