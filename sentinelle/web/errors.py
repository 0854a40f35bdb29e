"""Errors, in one place: one status per kind of error and one JSON shape.

Every failure under ``/api`` — a SentinelleError from the service layer, a request that
does not validate, a route that does not exist, an unexpected crash — answers

    {"error": "NotFound", "message": "...", "fix": "..." | null, "details": ["..."]}

built from ``SentinelleError.as_dict()``. A page answers the same message as HTML, and
sends a visitor who is not signed in to the sign-in page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sentinelle.errors import (
    AuthError,
    DetectionError,
    Forbidden,
    NotFound,
    ReviewError,
    SentinelleError,
    WarehouseError,
)
from sentinelle.review.reader import WarehouseBusy
from sentinelle.web.templating import render

__all__ = ["API_PREFIX", "error_body", "install", "status_for"]

API_PREFIX = "/api"
SHAPE = ("error", "message", "fix", "details")
log = logging.getLogger("sentinelle.web")

# First match wins: subclasses before their parents.
STATUS: tuple[tuple[type[SentinelleError], int], ...] = (
    (WarehouseBusy, 503),
    (AuthError, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (ReviewError, 400),
    (DetectionError, 409),
    (WarehouseError, 503),
)


def status_for(exc: SentinelleError) -> int:
    if isinstance(exc, AuthError) and _is_throttle(exc):
        return 429
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def _is_throttle(exc: AuthError) -> bool:
    # accounts.authenticate says so in words; a lock-out is a throttle too.
    text = exc.message.lower()
    return "too many" in text or "locked" in text


def error_body(exc: SentinelleError) -> dict[str, Any]:
    full = exc.as_dict()
    return {key: full[key] for key in SHAPE}


def _as_error(exc: Exception) -> tuple[SentinelleError, int]:
    if isinstance(exc, SentinelleError):
        return exc, status_for(exc)
    if isinstance(exc, RequestValidationError):
        details = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                   for e in exc.errors()]
        return ReviewError("the request is not valid", details=details,
                           fix="see the API description at /api/openapi.json"), 422
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return NotFound("there is no such page", fix="see /api/openapi.json for the "
                            "API's routes"), 404
        if exc.status_code == 405:
            return ReviewError("this address does not take that method"), 405
        return ReviewError(str(exc.detail)), exc.status_code
    log.exception("unexpected error", exc_info=exc)
    return SentinelleError("something went wrong on the server",
                           fix="try again; if it persists, the server log says why"), 500


async def handle(request: Request, exc: Exception) -> Response:
    error, status = _as_error(exc)
    path = request.url.path
    headers = {"Retry-After": "5"} if status in (429, 503) else None
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return JSONResponse(error_body(error), status_code=status, headers=headers)
    if status == 401 and path != "/login":
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    page = render(request, "error.html", None, status, error=error_body(error),
                  code=status)
    if headers:
        page.headers.update(headers)
    return page


def install(app: FastAPI) -> None:
    for kind in (SentinelleError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handle)
