"""Signing in and out. The sign-in form carries its own CSRF token (a random value set
in a cookie by the form's page, sent back in a hidden field), since there is no session
yet; every other form carries the session's token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sentinelle.errors import AuthError
from sentinelle.review import access, accounts
from sentinelle.web.context import (
    DB,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    FormWriter,
    SignedIn,
    clear_cookie,
    client_ip,
    login_csrf_ok,
    set_cookie,
    state,
)
from sentinelle.web.errors import status_for
from sentinelle.web.pages.common import local_path
from sentinelle.web.templating import NAV, render

router = APIRouter()


@router.get("/")
def home(auth: SignedIn) -> RedirectResponse:
    """The first page the role may open: the queue, or the audit log, or the users."""
    first = next((path for _, path, action in NAV if access.can(auth.user, action)), "/login")
    return RedirectResponse(first, status_code=303)


def _login_form(request: Request, next_path: str, username: str = "",
                problem: AuthError | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    page = render(request, "login.html", None, status, login_token=token, next=next_path,
                  username=username, problem=problem)
    set_cookie(page, LOGIN_COOKIE, token, state(request).secure_cookies, path="/login",
               max_age=3600)
    return page


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return _login_form(request, local_path(next))


@router.post("/login")
def login(request: Request, session: DB, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    target = local_path(next)
    if not login_csrf_ok(request, csrf_token):
        return _login_form(request, target, username, AuthError(
            "the sign-in form had expired", fix="sign in again on this page"), 403)
    ip = client_ip(request)
    try:
        user = accounts.authenticate(session, username, password, ip=ip)
    except AuthError as exc:
        return _login_form(request, target, username, exc, status_for(exc))
    token, _ = accounts.start_session(session, user, ip=ip)
    session.commit()
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, SESSION_COOKIE, token, state(request).secure_cookies)
    clear_cookie(response, LOGIN_COOKIE, state(request).secure_cookies, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: DB, auth: FormWriter) -> Response:
    accounts.end_session(session, auth.token)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, SESSION_COOKIE, state(request).secure_cookies)
    return response
