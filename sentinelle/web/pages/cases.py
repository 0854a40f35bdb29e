"""Cases: the list, a new case, and one case with its members, subjects, notes, files
and status history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from sentinelle.review import access, cases
from sentinelle.review.models import CASE_STATUSES, User
from sentinelle.review.subjects import PartyKey
from sentinelle.web.context import DB, FormWriter, SignedIn, Warehouse, state
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()
# Row numbers in the case database (a 32-bit integer on PostgreSQL): a larger one names
# nothing, and must be refused before it reaches the database driver.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/cases")
def case_list(request: Request, auth: SignedIn, session: DB) -> Response:
    return render(request, "cases.html", auth, cases=cases.list_cases(session, auth.user))


@router.post("/cases")
def case_new(auth: FormWriter, session: DB, title: Annotated[str, Form()] = "") -> Response:
    case = cases.create_case(session, auth.user, title, ip=auth.ip)
    return redirect(f"/cases/{case.id}", f"case {case.reference} opened")


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, auth: SignedIn, session: DB) -> Response:
    case = cases.get_case(session, auth.user, case_id, ip=auth.ip)
    editable = access.can_edit_case(session, auth.user, case)
    return render(request, "case.html", auth, case=cases.case_dict(session, case),
                  editable=editable, statuses=CASE_STATUSES,
                  candidates=cases.candidate_members(session, case) if editable else [],
                  max_mib=cases.MAX_FILE_BYTES // 2**20)


@router.post("/cases/{case_id}/members")
def member_add(case_id: RowId, auth: FormWriter, session: DB,
               username: Annotated[str, Form()] = "") -> Response:
    cases.add_member(session, auth.user, case_id, username, ip=auth.ip)
    return redirect(f"/cases/{case_id}", f"{username} added")


@router.post("/cases/{case_id}/members/remove")
def member_remove(case_id: RowId, auth: FormWriter, session: DB,
                  username: Annotated[str, Form()] = "") -> Response:
    cases.remove_member(session, auth.user, case_id, username, ip=auth.ip)
    return redirect(f"/cases/{case_id}", f"{username} removed")


@router.post("/cases/{case_id}/subjects")
def subject_add(case_id: RowId, auth: FormWriter, session: DB, view: Warehouse,
                key: Annotated[str, Form()] = "") -> Response:
    party = PartyKey.parse(key)
    cases.add_subject(session, view, auth.user, case_id, party, ip=auth.ip)
    return redirect(f"/cases/{case_id}", f"{party.party_id} added")


@router.post("/cases/{case_id}/notes")
def note_add(case_id: RowId, auth: FormWriter, session: DB,
             text: Annotated[str, Form()] = "") -> Response:
    cases.add_note(session, auth.user, case_id, text, ip=auth.ip)
    return redirect(f"/cases/{case_id}", "note added")


@router.post("/cases/{case_id}/files")
def file_add(request: Request, case_id: RowId, auth: FormWriter, session: DB,
             file: Annotated[UploadFile, File()]) -> Response:
    stored = cases.attach_file(session, auth.user, case_id, file.filename or "", file.file,
                               file.content_type or "", state(request).files_dir,
                               ip=auth.ip)
    return redirect(f"/cases/{case_id}", f"{stored.filename} stored (SHA-256 "
                    f"{stored.sha256[:12]}…)")


@router.get("/cases/{case_id}/files/{file_id}")
def file_get(request: Request, case_id: RowId, file_id: RowId, auth: SignedIn,
             session: DB) -> Response:
    return download(request, case_id, file_id, auth.user, session, auth.ip)


def download(request: Request, case_id: int, file_id: int, user: User, session: Session,
             ip: str | None) -> Response:
    """Always as an attachment, never rendered: an uploaded page must not run here."""
    found = cases.open_file(session, user, case_id, file_id, state(request).files_dir, ip=ip)
    return FileResponse(found.path, filename=found.record.filename,
                        media_type="application/octet-stream",
                        content_disposition_type="attachment",
                        headers={"X-Content-SHA256": found.record.sha256})


@router.post("/cases/{case_id}/status")
def status_change(case_id: RowId, auth: FormWriter, session: DB,
                  status: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "") -> Response:
    cases.change_status(session, auth.user, case_id, status, reason, ip=auth.ip)
    return redirect(f"/cases/{case_id}", f"status: {status}")
