"""A subject's page, and what can be done from it: decide, assign, add to a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from sentinelle.errors import ReviewError
from sentinelle.review import cases, queue
from sentinelle.review.models import DECISIONS
from sentinelle.review.subjects import PartyKey, subject_page
from sentinelle.web.context import DB, FormWriter, SignedIn, Warehouse
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()
PATH = "/subjects/{role}/{provider}/{party_id}"


def _path(key: PartyKey) -> str:
    return "/subjects/" + key.token


@router.get(PATH)
def subject(request: Request, role: str, provider: str, party_id: str, auth: SignedIn,
            session: DB, view: Warehouse) -> Response:
    key = PartyKey.of(role, provider, party_id)
    data = subject_page(session, view, auth.user, key, ip=auth.ip)
    total = data.base + sum(c["contribution"] for c in data.contributions)
    return render(request, "subject.html", auth, s=data, total=total,
                  decisions=list(DECISIONS), users=queue.assignable_users(session),
                  open_cases=cases.editable_cases(session, auth.user))


@router.post(PATH + "/decide")
def decide(role: str, provider: str, party_id: str, auth: FormWriter, session: DB,
           view: Warehouse, decision: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = "") -> Response:
    key = PartyKey.of(role, provider, party_id)
    queue.dispose(session, view, auth.user, [key], decision, reason, ip=auth.ip)
    return redirect(_path(key), f"marked {decision.replace('_', ' ')}")


@router.post(PATH + "/assign")
def assign(role: str, provider: str, party_id: str, auth: FormWriter, session: DB,
           view: Warehouse, assignee: Annotated[str, Form()] = "") -> Response:
    key = PartyKey.of(role, provider, party_id)
    queue.assign(session, view, auth.user, [key], assignee or None, ip=auth.ip)
    return redirect(_path(key), f"assigned to {assignee}" if assignee else "unassigned")


@router.post(PATH + "/case")
def add_to_case(role: str, provider: str, party_id: str, auth: FormWriter, session: DB,
                view: Warehouse, case_id: Annotated[str, Form()] = "",
                title: Annotated[str, Form()] = "") -> Response:
    """Into an open case (``case_id``), or into a new one (``title``)."""
    key = PartyKey.of(role, provider, party_id)
    if case_id:
        if not case_id.isdigit():
            raise ReviewError(f"{case_id!r} is not a case number")
        cases.add_subject(session, view, auth.user, int(case_id), key, ip=auth.ip)
        return redirect(f"/cases/{int(case_id)}", f"{key.party_id} added")
    case = cases.create_case(session, auth.user, title, subjects=[key], view=view, ip=auth.ip)
    return redirect(f"/cases/{case.id}", f"case {case.reference} opened")
