"""The JSON API under ``/api``: the same service layer as the pages, for scripts and
other tools. Signed in with the same cookie (``POST /api/login``); every write sends the
session's CSRF token in the ``X-CSRF-Token`` header. Errors have one shape (see
``sentinelle.web.errors``); the OpenAPI description is at ``/api/openapi.json``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from sentinelle.review import (
    access,
    accounts,
    audit,
    cases,
    judgements,
    network,
    queue,
    timeline,
)
from sentinelle.review.models import User
from sentinelle.review.search import search
from sentinelle.review.subjects import PartyKey, subject_page
from sentinelle.web.context import (
    DB,
    SESSION_COOKIE,
    ApiWriter,
    SignedIn,
    Warehouse,
    clear_cookie,
    client_ip,
    set_cookie,
    state,
)
from sentinelle.web.pages import reports as report_pages
from sentinelle.web.pages.cases import RowId, download

__all__ = ["router"]


class ErrorBody(BaseModel):
    """Every failure's one shape (``sentinelle.web.errors``), declared for the OpenAPI
    description so that a client, and schemathesis, can hold the API to it."""

    error: str
    message: str
    fix: str | None
    details: list[str]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in (
        (400, "the request cannot be carried out as asked"),
        (401, "not signed in, or the session has ended"),
        (403, "the role does not allow it, or the CSRF token is missing"),
        (404, "no such party, case or file, or one the user may not see"),
        (409, "detection has not been run on the warehouse"),
        (422, "the request does not validate; details says which field and why"),
        (429, "too many failed sign-ins"),
        (503, "the warehouse is busy or missing"))}

router = APIRouter(prefix="/api", responses=ERRORS)

Role = Literal["buyer", "facilitator"]
Decision = Literal["escalate", "false_positive", "needs_information"]
Status = Literal["new", "assigned", "escalated", "false_positive", "needs_information"]
CaseStatus = Literal["open", "investigating", "referred", "closed"]


class Party(BaseModel):
    role: Role
    provider: str = Field(min_length=1, max_length=200)
    party_id: str = Field(min_length=1, max_length=200)

    def key(self) -> PartyKey:
        return PartyKey(self.role, self.provider, self.party_id)


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class AssignRequest(BaseModel):
    keys: list[Party] = Field(min_length=1, max_length=1000)
    assignee: str | None = Field(None, description="a username; null takes the alerts back")


class DisposeRequest(BaseModel):
    keys: list[Party] = Field(min_length=1, max_length=1000)
    decision: Decision
    reason: str = Field("", max_length=10_000, description="required: why")


class JudgementRequest(BaseModel):
    a: str = Field(min_length=1, max_length=300, description="a record id (er_records)")
    b: str = Field(min_length=1, max_length=300, description="the other record id")
    verdict: Literal["same", "not_same", "unsure"]
    reason: str = Field("", max_length=2000, description="required: why")


class UndoRequest(BaseModel):
    reason: str = Field("", max_length=2000, description="required: why")


class CaseRequest(BaseModel):
    title: str = Field(max_length=300)
    subjects: list[Party] = Field(default_factory=list, max_length=1000)


class MemberRequest(BaseModel):
    username: str = Field(max_length=64)


class NoteRequest(BaseModel):
    text: str = Field(max_length=100_000)


class StatusRequest(BaseModel):
    status: CaseStatus
    reason: str = Field("", max_length=10_000)


def _user(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "active": user.active,
            "permissions": sorted(access.PERMISSIONS.get(user.role, set()))}


# --- signing in --------------------------------------------------------------------------

@router.post("/login", tags=["session"])
def login(request: Request, body: Credentials, session: DB) -> JSONResponse:
    """Sign in: sets the session cookie and returns the CSRF token for writes."""
    ip = client_ip(request)
    user = accounts.authenticate(session, body.username, body.password, ip=ip)
    token, login_session = accounts.start_session(session, user, ip=ip)
    session.commit()
    response = JSONResponse({"user": _user(user), "csrf_token": login_session.csrf_token})
    set_cookie(response, SESSION_COOKIE, token, state(request).secure_cookies)
    return response


@router.post("/logout", tags=["session"])
def logout(request: Request, auth: ApiWriter, session: DB) -> JSONResponse:
    accounts.end_session(session, auth.token)
    session.commit()
    response = JSONResponse({"signed_out": True})
    clear_cookie(response, SESSION_COOKIE, state(request).secure_cookies)
    return response


@router.get("/me", tags=["session"])
def me(auth: SignedIn) -> dict[str, Any]:
    return {"user": _user(auth.user), "csrf_token": auth.csrf}


# --- the queue ------------------------------------------------------------------------------

@router.get("/alerts", tags=["queue"])
def alerts(auth: SignedIn, session: DB, view: Warehouse, role: Role | None = None,
           min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
           corridor: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
           status: Status | None = None,
           assignee: Annotated[str | None, Query(
               description="a username, 'me', or 'none' for unassigned")] = None,
           sort: Literal["score", "rank", "eur", "payments", "last_payment"] = "score",
           order: Literal["asc", "desc"] | None = None,
           page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
           per_page: Annotated[int, Query(ge=1, le=queue.MAX_PER_PAGE)] = 50) -> dict[str, Any]:
    """One page of the alert queue, filtered and sorted."""
    f = queue.QueueFilter(role=role, min_score=min_score, corridor=corridor, status=status,
                          assignee=auth.user.username if assignee == "me" else assignee,
                          sort=sort, descending=None if order is None else order == "desc",
                          page=page, per_page=per_page)
    return queue.list_alerts(session, view, auth.user, f).as_dict()


@router.post("/alerts/assign", tags=["queue"])
def assign(body: AssignRequest, auth: ApiWriter, session: DB,
           view: Warehouse) -> dict[str, Any]:
    n = queue.assign(session, view, auth.user, [k.key() for k in body.keys], body.assignee,
                     ip=auth.ip)
    return {"assigned": n, "assignee": body.assignee}


@router.post("/alerts/dispose", tags=["queue"])
def dispose(body: DisposeRequest, auth: ApiWriter, session: DB,
            view: Warehouse) -> dict[str, Any]:
    n = queue.dispose(session, view, auth.user, [k.key() for k in body.keys], body.decision,
                      body.reason, ip=auth.ip)
    return {"decided": n, "decision": body.decision}


# --- subjects and search ----------------------------------------------------------------------

@router.get("/subjects/{role}/{provider}/{party_id}", tags=["subjects"])
def subject(role: Role, provider: str, party_id: str, auth: SignedIn, session: DB,
            view: Warehouse,
            evidence: Annotated[int, Query(ge=0, le=1000)] = 25) -> dict[str, Any]:
    """Everything about one party; the view is audited."""
    return subject_page(session, view, auth.user, PartyKey.of(role, provider, party_id),
                        ip=auth.ip, evidence_limit=evidence).as_dict()


@router.get("/search", tags=["subjects"])
def search_parties(auth: SignedIn, session: DB, view: Warehouse,
                   q: Annotated[str, Query(min_length=1, max_length=200)],
                   role: Role | None = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Parties by name (any order, small misspellings), phone, account, email or id."""
    return search(session, view, auth.user, q, role=role, limit=limit, ip=auth.ip).as_dict()


@router.get("/network/{role}/{provider}/{party_id}", tags=["subjects"])
def subject_network(role: Role, provider: str, party_id: str, auth: SignedIn, session: DB,
                    view: Warehouse,
                    hops: Annotated[int, Query(ge=1, le=network.MAX_HOPS)] = 2,
                    max_nodes: Annotated[int, Query(ge=2, le=network.MAX_NODES)] = 150
                    ) -> dict[str, Any]:
    """A party's neighbourhood as nodes and edges (capped; the view is audited)."""
    return network.network(session, view, auth.user, PartyKey.of(role, provider, party_id),
                           hops=hops, max_nodes=max_nodes, ip=auth.ip).as_dict()


# --- the timeline ------------------------------------------------------------------------------

EventKind = Literal["payment", "message", "voice_call", "video_call", "payment_message",
                    "system", "referral", "note"]


@router.get("/timeline/{role}/{provider}/{party_id}", tags=["subjects"])
def party_timeline(role: Role, provider: str, party_id: str, auth: SignedIn, session: DB,
                   view: Warehouse, kind: Annotated[list[EventKind] | None, Query()] = None,
                   start: date | None = None, end: date | None = None,
                   limit: Annotated[int, Query(ge=1, le=timeline.MAX_EVENTS)]
                   = timeline.MAX_EVENTS) -> dict[str, Any]:
    """A party's or subject's payments, messages, calls, referrals and case notes, oldest
    first, times in UTC (the view is audited)."""
    return timeline.party_timeline(
        session, view, auth.user, PartyKey.of(role, provider, party_id),
        filters=timeline.Filters.parse(kind, _day(start), _day(end)), ip=auth.ip,
        limit=limit).as_dict()


@router.get("/cases/{case_id}/timeline", tags=["cases"])
def case_timeline(case_id: RowId, auth: SignedIn, session: DB, view: Warehouse,
                  kind: Annotated[list[EventKind] | None, Query()] = None,
                  start: date | None = None, end: date | None = None,
                  limit: Annotated[int, Query(ge=1, le=timeline.MAX_EVENTS)]
                  = timeline.MAX_EVENTS) -> dict[str, Any]:
    """Every subject of a case and its notes on one axis (members and supervisors)."""
    return timeline.case_timeline(
        session, view, auth.user, case_id,
        filters=timeline.Filters.parse(kind, _day(start), _day(end)), ip=auth.ip,
        limit=limit).as_dict()


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- entity resolution -----------------------------------------------------------------------

@router.get("/resolution/pairs", tags=["resolution"])
def resolution_pairs(auth: SignedIn, session: DB, view: Warehouse,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> dict[str, Any]:
    """The pairs of records the model is unsure of and nobody has judged, the most
    uncertain first, and those over the review band that clustering kept apart."""
    return judgements.uncertain_pairs(session, view, auth.user, limit=limit, offset=offset,
                                      ip=auth.ip)


@router.get("/resolution/pair", tags=["resolution"])
def resolution_pair(auth: SignedIn, session: DB, view: Warehouse,
                    a: Annotated[str, Query(min_length=1, max_length=300)],
                    b: Annotated[str, Query(min_length=1, max_length=300)]) -> dict[str, Any]:
    """Two records side by side, the model's explanation field by field, and the
    judgements made on the pair; the view is audited."""
    return judgements.pair_view(session, view, auth.user, a, b, ip=auth.ip).as_dict()


@router.post("/resolution/judgements", tags=["resolution"], status_code=201)
def resolution_judge(body: JudgementRequest, auth: ApiWriter, session: DB,
                     view: Warehouse) -> dict[str, Any]:
    """Judge a pair: the same person, not the same, or unsure (with a reason)."""
    made = judgements.judge(session, view, auth.user, body.a, body.b, body.verdict,
                            body.reason, ip=auth.ip)
    return {"id": made.id, "record_l": made.record_l, "record_r": made.record_r,
            "verdict": made.verdict}


@router.post("/resolution/judgements/{judgement_id}/undo", tags=["resolution"])
def resolution_undo(judgement_id: RowId, body: UndoRequest, auth: ApiWriter,
                    session: DB) -> dict[str, Any]:
    """Undo a judgement (kept in the history, with who, when and why)."""
    made = judgements.undo(session, auth.user, judgement_id, body.reason, ip=auth.ip)
    return {"id": made.id, "undone_at": made.undone_at}


# --- cases ---------------------------------------------------------------------------------

def _summary(case: Any) -> dict[str, Any]:
    return {"id": case.id, "reference": case.reference, "title": case.title,
            "status": case.status, "created_at": case.created_at,
            "subjects": len(case.subjects), "members": len(case.members)}


@router.get("/cases", tags=["cases"])
def case_list(auth: SignedIn, session: DB) -> dict[str, Any]:
    return {"cases": [_summary(c) for c in cases.list_cases(session, auth.user)]}


@router.post("/cases", tags=["cases"], status_code=201)
def case_new(body: CaseRequest, auth: ApiWriter, session: DB,
             view: Warehouse) -> dict[str, Any]:
    case = cases.create_case(session, auth.user, body.title,
                             subjects=[k.key() for k in body.subjects], view=view,
                             ip=auth.ip)
    return cases.case_dict(session, case)


@router.get("/cases/{case_id}", tags=["cases"])
def case_get(case_id: RowId, auth: SignedIn, session: DB) -> dict[str, Any]:
    return cases.case_dict(session, cases.get_case(session, auth.user, case_id, ip=auth.ip))


def _fresh(session: DB, case_id: int, user: User) -> dict[str, Any]:
    session.expire_all()
    return cases.case_dict(session, access.require_case(session, user, case_id))


@router.post("/cases/{case_id}/members", tags=["cases"])
def member_add(case_id: RowId, body: MemberRequest, auth: ApiWriter,
               session: DB) -> dict[str, Any]:
    cases.add_member(session, auth.user, case_id, body.username, ip=auth.ip)
    return _fresh(session, case_id, auth.user)


@router.delete("/cases/{case_id}/members/{username}", tags=["cases"])
def member_remove(case_id: RowId, username: str, auth: ApiWriter,
                  session: DB) -> dict[str, Any]:
    cases.remove_member(session, auth.user, case_id, username, ip=auth.ip)
    return _fresh(session, case_id, auth.user)


@router.post("/cases/{case_id}/subjects", tags=["cases"])
def subject_add(case_id: RowId, body: Party, auth: ApiWriter, session: DB,
                view: Warehouse) -> dict[str, Any]:
    cases.add_subject(session, view, auth.user, case_id, body.key(), ip=auth.ip)
    return _fresh(session, case_id, auth.user)


@router.post("/cases/{case_id}/notes", tags=["cases"])
def note_add(case_id: RowId, body: NoteRequest, auth: ApiWriter,
             session: DB) -> dict[str, Any]:
    cases.add_note(session, auth.user, case_id, body.text, ip=auth.ip)
    return _fresh(session, case_id, auth.user)


@router.post("/cases/{case_id}/status", tags=["cases"])
def status_change(case_id: RowId, body: StatusRequest, auth: ApiWriter,
                  session: DB) -> dict[str, Any]:
    cases.change_status(session, auth.user, case_id, body.status, body.reason, ip=auth.ip)
    return _fresh(session, case_id, auth.user)


@router.post("/cases/{case_id}/files", tags=["cases"], status_code=201)
def file_add(request: Request, case_id: RowId, file: Annotated[UploadFile, File()],
             auth: ApiWriter, session: DB) -> dict[str, Any]:
    """Attach a file (multipart/form-data, field ``file``): stored once under its SHA-256."""
    stored = cases.attach_file(session, auth.user, case_id, file.filename or "", file.file,
                               file.content_type or "", state(request).files_dir,
                               ip=auth.ip)
    return {"id": stored.id, "filename": stored.filename, "sha256": stored.sha256,
            "size": stored.size}


@router.get("/cases/{case_id}/files/{file_id}", tags=["cases"],
            response_class=Response)
def file_get(request: Request, case_id: RowId, file_id: RowId, auth: SignedIn,
             session: DB) -> Response:
    return download(request, case_id, file_id, auth.user, session, auth.ip)


# --- audit and accounts ---------------------------------------------------------------------

@router.get("/audit", tags=["audit"])
def audit_log(auth: SignedIn, session: DB, user: str | None = None,
              action: str | None = None, since: datetime | None = None,
              until: datetime | None = None, target: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """The audit log, newest first (the auditor's)."""
    access.require(auth.user, "view_audit")
    filters: dict[str, Any] = {"user": user, "action": action, "since": since,
                               "until": until, "target": target}
    total = audit.count(session, **filters)
    rows = audit.entries(session, limit=limit, offset=offset, **filters)
    audit.record(session, action="view_audit", user=auth.user, ip=auth.ip,
                 detail={k: str(v) for k, v in filters.items() if v is not None})
    session.commit()
    return {"total": total, "entries": [
        {"seq": e.seq, "at": e.at, "username": e.username, "role": e.role,
         "action": e.action, "target": e.target, "detail": json.loads(e.detail), "ip": e.ip,
         "hash": e.hash} for e in rows]}


@router.get("/users", tags=["accounts"])
def users(auth: SignedIn, session: DB) -> dict[str, Any]:
    access.require(auth.user, "manage_users")
    found = accounts.list_users(session)
    audit.record(session, action="view_users", user=auth.user, ip=auth.ip)
    session.commit()
    return {"users": [_user(u) | {"created_at": u.created_at, "locked_until": u.locked_until}
                      for u in found]}


# --- reports (four eyes): the routes live beside their pages -----------------------------

report_pages.add_api_routes(router)
