"""What every request needs: the application's state, a case-database session, the
warehouse, the signed-in user, and the CSRF check.

Who is signed in comes from the session cookie (HTTP-only, SameSite=Strict, Secure unless
the server is bound to the loopback address). A write needs the session's CSRF token as
well: in a form's hidden ``csrf_token`` field, or in the ``X-CSRF-Token`` header of an API
call. The check is a dependency of every write route, so no route can forget it (a test
walks the routes to make sure).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker

from sentinelle.errors import AuthError, Forbidden
from sentinelle.review import accounts
from sentinelle.review.models import LoginSession, User
from sentinelle.review.reader import WarehouseReader, WarehouseView

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "DB", "LOGIN_COOKIE", "SESSION_COOKIE", "ApiWriter",
           "AppState", "Auth", "FormWriter", "SignedIn", "Warehouse", "clear_cookie",
           "client_ip", "login_csrf_ok", "set_cookie", "state"]

SESSION_COOKIE = "sentinelle_session"
LOGIN_COOKIE = "sentinelle_login"  # the sign-in form's own CSRF token (double submit)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class AppState:
    reader: WarehouseReader
    sessions: sessionmaker[Session]
    files_dir: Path
    secure_cookies: bool
    templates: Environment


def state(request: Request) -> AppState:
    found: AppState = request.app.state.sentinelle
    return found


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _db(request: Request) -> Iterator[Session]:
    session = state(request).sessions()
    try:
        yield session
    finally:
        session.close()


def _warehouse(request: Request) -> Iterator[WarehouseView]:
    with state(request).reader.open() as view:
        yield view


DB = Annotated[Session, Depends(_db)]
Warehouse = Annotated[WarehouseView, Depends(_warehouse)]


@dataclass
class Auth:
    """The signed-in user and their browser session."""

    user: User
    login: LoginSession
    token: str
    ip: str | None

    @property
    def csrf(self) -> str:
        return self.login.csrf_token


def _signed_in(request: Request, session: DB) -> Auth:
    token = request.cookies.get(SESSION_COOKIE)
    login = accounts.session_for_token(session, token) if token else None
    if login is None:
        raise AuthError("you are not signed in, or your session has ended",
                        fix="sign in again")
    session.commit()  # session_for_token may have noted the session's last use
    return Auth(login.user, login, token or "", client_ip(request))


SignedIn = Annotated[Auth, Depends(_signed_in)]


def _same(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _csrf_refused() -> Forbidden:
    return Forbidden("the request's security token (CSRF) is missing or does not match "
                     "this session", fix="reload the page and try again; API clients send "
                     f"the token from /api/login or /api/me in the {CSRF_HEADER} header")


async def _form_writer(request: Request, auth: SignedIn) -> Auth:
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not _same(auth.csrf, given if isinstance(given, str) else None):
        raise _csrf_refused()
    return auth


def _api_writer(request: Request, auth: SignedIn) -> Auth:
    if not _same(auth.csrf, request.headers.get(CSRF_HEADER)):
        raise _csrf_refused()
    return auth


FormWriter = Annotated[Auth, Depends(_form_writer)]
ApiWriter = Annotated[Auth, Depends(_api_writer)]


def login_csrf_ok(request: Request, given: str | None) -> bool:
    """The sign-in form carries the random value its page set in a cookie."""
    expected = request.cookies.get(LOGIN_COOKIE)
    return bool(expected) and _same(expected or "", given)


def set_cookie(response: Response, name: str, value: str, secure: bool, *, path: str = "/",
               max_age: int | None = None) -> None:
    """HTTP-only (no script reads it), SameSite=Strict (no other site sends it)."""
    response.set_cookie(name, value, max_age=max_age, path=path, secure=secure,
                        httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str, secure: bool, *, path: str = "/") -> None:
    response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="strict")
