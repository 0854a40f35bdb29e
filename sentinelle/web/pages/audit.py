"""The auditor's page (the audit log, filtered) and the administrator's list of users."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentinelle.errors import ReviewError
from sentinelle.review import access, accounts, audit
from sentinelle.web.context import DB, SignedIn
from sentinelle.web.templating import render

router = APIRouter()
PER_PAGE = 100


def parse_when(text: str | None, name: str) -> datetime | None:
    """A date or date-time typed in a filter (UTC)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ReviewError(f"{name} {text!r} is not a date", fix="write YYYY-MM-DD or "
                          "YYYY-MM-DDTHH:MM (UTC)") from None


def audit_filters(user: str, action: str, since: str, until: str,
                  target: str) -> dict[str, object]:
    return {"user": user.strip() or None, "action": action.strip() or None,
            "since": parse_when(since.strip(), "since"),
            "until": parse_when(until.strip(), "until"), "target": target.strip() or None}


@router.get("/audit")
def audit_page(request: Request, auth: SignedIn, session: DB, user: str = "",
               action: str = "", since: str = "", until: str = "", target: str = "",
               page: int = 1) -> Response:
    access.require(auth.user, "view_audit")
    filters = audit_filters(user, action, since, until, target)
    page = max(page, 1)
    total = audit.count(session, **filters)  # type: ignore[arg-type]
    rows = audit.entries(session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
                         **filters)  # type: ignore[arg-type]
    audit.record(session, action="view_audit", user=auth.user, ip=auth.ip,
                 detail={k: str(v) for k, v in filters.items() if v is not None})
    session.commit()
    given = {"user": user, "action": action, "since": since, "until": until,
             "target": target}
    kept = {k: v for k, v in given.items() if v}
    return render(request, "audit.html", auth, rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PER_PAGE)), given=given,
                  url=lambda p: "/audit?" + urlencode({**kept, "page": p}))


@router.get("/admin/users")
def users_page(request: Request, auth: SignedIn, session: DB) -> Response:
    access.require(auth.user, "manage_users")
    users = accounts.list_users(session)
    audit.record(session, action="view_users", user=auth.user, ip=auth.ip)
    session.commit()
    return render(request, "users.html", auth, users=users)
