"""Reports in the application (four eyes): the list, a new draft from a subject or a case,
and one report — its narrative, what it covers, its history, and the buttons its status and
the user's role allow. ``add_api_routes`` answers the same under ``/api/reports`` as JSON. Both
call ``sentinelle.review.reports``, which checks and audits everything."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sentinelle.errors import ReviewError
from sentinelle.report.entity import ReportingEntity, load_entity
from sentinelle.report.export import EXPORTERS
from sentinelle.review import access, audit, reports
from sentinelle.review.models import REPORT_STATUSES, ReportDraft, User
from sentinelle.review.subjects import PartyKey
from sentinelle.settings import resolve
from sentinelle.web.context import DB, ApiWriter, FormWriter, SignedIn, Warehouse, state
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

__all__ = ["add_api_routes", "router"]

router = APIRouter()
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Sha256 = Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]
ReportStatus = Literal["draft", "submitted", "returned", "approved", "exported"]
assert set(REPORT_STATUSES) == set(get_args(ReportStatus)), "the API lists every status"


def reporting_entity() -> ReportingEntity:
    """The reporting-entity settings the ``reporting_entity`` setting names (goAML and
    FinCEN need them; the other formats take the defaults)."""
    path = resolve().get("reporting_entity")
    return load_entity(FilePath(path) if path else None)


def _attachment(found: reports.Download) -> Response:
    """Always as an attachment, never rendered in the browser."""
    name = found.draft.export_filename or f"report-{found.draft.id}"
    return Response(found.content, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-SHA256": found.draft.export_sha256 or ""})


def _listed(session: Session, user: User, status: str | None, ip: str | None) -> list[ReportDraft]:
    found = reports.list_drafts(session, user, status)
    # The list names subjects and cases: audited like any other view.
    audit.record(session, action="list_reports", user=user, ip=ip,
                 detail={"status": status} if status else {})
    session.commit()
    return found


# --- pages ---------------------------------------------------------------------------------

@router.get("/reports")
def report_list(request: Request, auth: SignedIn, session: DB,
                status: str | None = None) -> Response:
    wanted = status if status in REPORT_STATUSES else None
    return render(request, "reports.html", auth, statuses=REPORT_STATUSES, wanted=wanted,
                  drafts=[reports.draft_dict(session, auth.user, d)
                          for d in _listed(session, auth.user, wanted, auth.ip)],
                  new=None)


@router.get("/reports/new")
def report_new_form(request: Request, auth: SignedIn, session: DB,
                    case: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    subject: str | None = None) -> Response:
    """Choose the format of a report on a subject (its token) or a case (its number)."""
    access.require(auth.user, "draft_report")
    about: dict[str, Any]
    if case is not None:
        found = access.require_case(session, auth.user, case)
        about = {"case": found.id, "label": f"case {found.reference}: {found.title}"}
    elif subject:
        key = PartyKey.parse(subject)
        about = {"subject": key.token, "label": f"{key.role} {key.party_id} at {key.provider}"}
    else:
        raise ReviewError("a report is about a subject or a case",
                          fix="start from a subject's page or a case's page")
    return render(request, "reports.html", auth, statuses=REPORT_STATUSES, wanted=None,
                  drafts=[], new=about,
                  formats=[(name, EXPORTERS[name].help) for name in reports.FORMATS])


@router.post("/reports/new")
def report_new(auth: FormWriter, session: DB, view: Warehouse,
               format: Annotated[str, Form()] = "", case: Annotated[str, Form()] = "",
               subject: Annotated[str, Form()] = "") -> Response:
    if case and not case.isdigit():
        raise ReviewError(f"{case!r} is not a case number")
    draft = reports.create_draft(
        session, view, auth.user, format, case_id=int(case) if case else None,
        subject=PartyKey.parse(subject) if subject else None, ip=auth.ip)
    return redirect(f"/reports/{draft.id}", f"report #{draft.id} drafted")


@router.get("/reports/exports/{sha256}")
def report_by_hash(request: Request, sha256: Sha256, auth: SignedIn, session: DB) -> Response:
    draft = reports.find_by_hash(session, auth.user, sha256)
    return _attachment(reports.download(session, auth.user, draft.id,
                                        state(request).files_dir, ip=auth.ip))


@router.get("/reports/{draft_id}")
def report_page(request: Request, draft_id: RowId, auth: SignedIn, session: DB,
                view: Warehouse) -> Response:
    draft = reports.get_draft(session, auth.user, draft_id, ip=auth.ip)
    return render(request, "report.html", auth, r=reports.draft_dict(session, auth.user, draft),
                  covers=reports.current_summary(session, view, draft),
                  help=EXPORTERS[draft.format].help)


@router.post("/reports/{draft_id}/narrative")
def report_edit(draft_id: RowId, auth: FormWriter, session: DB,
                text: Annotated[str, Form()] = "") -> Response:
    reports.edit_narrative(session, auth.user, draft_id, text, ip=auth.ip)
    return redirect(f"/reports/{draft_id}", "narrative saved")


@router.post("/reports/{draft_id}/submit")
def report_submit(draft_id: RowId, auth: FormWriter, session: DB) -> Response:
    reports.submit(session, auth.user, draft_id, ip=auth.ip)
    return redirect(f"/reports/{draft_id}", "submitted for approval")


@router.post("/reports/{draft_id}/approve")
def report_approve(draft_id: RowId, auth: FormWriter, session: DB,
                   comment: Annotated[str, Form()] = "") -> Response:
    reports.approve(session, auth.user, draft_id, comment, ip=auth.ip)
    return redirect(f"/reports/{draft_id}", "approved")


@router.post("/reports/{draft_id}/return")
def report_return(draft_id: RowId, auth: FormWriter, session: DB,
                  comment: Annotated[str, Form()] = "") -> Response:
    reports.return_draft(session, auth.user, draft_id, comment, ip=auth.ip)
    return redirect(f"/reports/{draft_id}", "returned to its author")


@router.post("/reports/{draft_id}/export")
def report_export(request: Request, draft_id: RowId, auth: FormWriter, session: DB,
                  view: Warehouse) -> Response:
    draft = reports.export(session, view, auth.user, draft_id, state(request).files_dir,
                           reporting_entity(), ip=auth.ip)
    return redirect(f"/reports/{draft_id}", f"exported (SHA-256 {draft.export_sha256})")


@router.get("/reports/{draft_id}/download")
def report_download(request: Request, draft_id: RowId, auth: SignedIn,
                    session: DB) -> Response:
    return _attachment(reports.download(session, auth.user, draft_id,
                                        state(request).files_dir, ip=auth.ip))


# --- the JSON API (added under /api by sentinelle.web.api) --------------------------------

class Subject(BaseModel):
    role: Literal["buyer", "facilitator"]
    provider: str = Field(min_length=1, max_length=200)
    party_id: str = Field(min_length=1, max_length=200)


class DraftRequest(BaseModel):
    format: Literal[reports.FORMATS]  # type: ignore[valid-type]
    case_id: int | None = Field(None, ge=1, le=2**31 - 1, description="a case, or ...")
    subject: Subject | None = Field(None, description="... one subject")


class NarrativeRequest(BaseModel):
    text: str = Field(max_length=200_000)


class CommentRequest(BaseModel):
    comment: str = Field("", max_length=reports.MAX_COMMENT,
                         description="required to return a report")


def api_list(auth: SignedIn, session: DB, status: ReportStatus | None = None
             ) -> dict[str, Any]:
    """The reports one may see, newest first (filtered by status)."""
    return {"reports": [reports.draft_dict(session, auth.user, d)
                        for d in _listed(session, auth.user, status, auth.ip)]}


def api_create(body: DraftRequest, auth: ApiWriter, session: DB,
               view: Warehouse) -> dict[str, Any]:
    """Draft a report on a case (``case_id``) or a subject (``subject``)."""
    key = PartyKey(body.subject.role, body.subject.provider, body.subject.party_id) \
        if body.subject else None
    draft = reports.create_draft(session, view, auth.user, body.format, subject=key,
                                 case_id=body.case_id, ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_by_hash(request: Request, sha256: Sha256, auth: SignedIn, session: DB) -> Response:
    """An exported report's bytes, found by the SHA-256 the audit log names."""
    return report_by_hash(request, sha256, auth, session)


def api_get(draft_id: RowId, auth: SignedIn, session: DB, view: Warehouse) -> dict[str, Any]:
    draft = reports.get_draft(session, auth.user, draft_id, ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft) | {
        "covers": reports.current_summary(session, view, draft)}


def api_edit(draft_id: RowId, body: NarrativeRequest, auth: ApiWriter,
             session: DB) -> dict[str, Any]:
    draft = reports.edit_narrative(session, auth.user, draft_id, body.text, ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_submit(draft_id: RowId, auth: ApiWriter, session: DB) -> dict[str, Any]:
    draft = reports.submit(session, auth.user, draft_id, ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_approve(draft_id: RowId, auth: ApiWriter, session: DB,
                body: CommentRequest | None = None) -> dict[str, Any]:
    draft = reports.approve(session, auth.user, draft_id, body.comment if body else "",
                            ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_return(draft_id: RowId, auth: ApiWriter, session: DB,
               body: CommentRequest | None = None) -> dict[str, Any]:
    draft = reports.return_draft(session, auth.user, draft_id,
                                 body.comment if body else "", ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_export(request: Request, draft_id: RowId, auth: ApiWriter, session: DB,
               view: Warehouse) -> dict[str, Any]:
    """Export an approved report: rendered, kept under its SHA-256, audited."""
    draft = reports.export(session, view, auth.user, draft_id, state(request).files_dir,
                           reporting_entity(), ip=auth.ip)
    return reports.draft_dict(session, auth.user, draft)


def api_download(request: Request, draft_id: RowId, auth: SignedIn,
                 session: DB) -> Response:
    return report_download(request, draft_id, auth, session)


_API: tuple[tuple[str, str, Any, dict[str, Any]], ...] = (
    ("GET", "", api_list, {}),
    ("POST", "", api_create, {"status_code": 201}),
    ("GET", "/exports/{sha256}", api_by_hash, {"response_class": Response}),
    ("GET", "/{draft_id}", api_get, {}),
    ("POST", "/{draft_id}/narrative", api_edit, {}),
    ("POST", "/{draft_id}/submit", api_submit, {}),
    ("POST", "/{draft_id}/approve", api_approve, {}),
    ("POST", "/{draft_id}/return", api_return, {}),
    ("POST", "/{draft_id}/export", api_export, {}),
    ("GET", "/{draft_id}/download", api_download, {"response_class": Response}),
)


def add_api_routes(api: APIRouter) -> None:
    """Add ``/reports…`` to the JSON API's router, which gives them its prefix and its
    declared error answers."""
    for method, path, endpoint, options in _API:
        api.add_api_route("/reports" + path, endpoint, methods=[method], tags=["reports"],
                          **options)
