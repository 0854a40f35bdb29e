"""Search by name, phone, account, email or id."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentinelle.review import access
from sentinelle.review.search import search
from sentinelle.web.context import DB, SignedIn, Warehouse
from sentinelle.web.templating import render

router = APIRouter()


@router.get("/search")
def search_page(request: Request, auth: SignedIn, session: DB, view: Warehouse,
                q: str = "", role: str = "") -> Response:
    access.require(auth.user, "search")
    found = search(session, view, auth.user, q, role=role or None, ip=auth.ip) \
        if q.strip() else None
    return render(request, "search.html", auth, q=q, role=role, found=found)
