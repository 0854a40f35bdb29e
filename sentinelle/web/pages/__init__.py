"""The server-rendered pages. Each module is one area of the application; all of them
call the same service layer (``sentinelle.review``) as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from sentinelle.web.pages import (
    audit,
    auth,
    cases,
    model,
    network,
    queue,
    reports,
    resolution,
    search,
    subjects,
    timeline,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = tuple(
    m.router for m in (auth, queue, subjects, network, search, cases, audit, model,
                       resolution, timeline, reports))
