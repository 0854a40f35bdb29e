"""The server-rendered pages. Each module is one area of the application; all of them
call the same service layer (``sentinelle.review``) as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from sentinelle.web.pages import audit, auth, cases, queue, search, subjects

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for module in (auth, queue, subjects, search, cases, audit):
    router.include_router(module.router)
