"""The application factory: the pages, the JSON API, the local assets, one error handler.

Nothing is fetched from elsewhere: the styles and the one small script are served from
``sentinelle/web/static``, FastAPI's interactive documentation (which loads from a CDN) is
switched off, and the Content-Security-Policy tells the browser to load nothing from
any other origin.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from sentinelle.review import db as case_db
from sentinelle.review.reader import WarehouseReader
from sentinelle.web import api, errors, pages
from sentinelle.web.context import AppState
from sentinelle.web.templating import environment

__all__ = ["ROUTERS", "STATIC", "create_app", "default_files_dir"]

# Every route of the application, API first: a test walks them (CSRF on every write).
ROUTERS = (api.router, *pages.ROUTERS)

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def default_files_dir(url: str, warehouse: Path) -> Path:
    """Case files live beside a SQLite case database, else beside the warehouse."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database).resolve().parent / "case-files"
    return warehouse.resolve().parent / "case-files"


def create_app(warehouse: Path, database_url: str | None = None,
               files_dir: Path | None = None, secure_cookies: bool = True,
               linger_s: float | None = None) -> FastAPI:
    """The web application over a warehouse and a case database (migrated first).

    ``database_url`` is None for a SQLite file beside the warehouse; ``files_dir`` holds
    the attached files (default: ``case-files`` beside the case database); ``linger_s``
    how long the warehouse stays open after the last request (default: the setting
    ``web_linger_ms``).
    """
    url = case_db.database_url(database_url, Path(warehouse))
    _, sessions = case_db.open_cases(url)
    app = FastAPI(title="Sentinelle", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="The investigators' application: alert queue, subjects, "
                              "search, cases and the audit log. Errors always have the "
                              "shape {error, message, fix, details}.")
    app.state.sentinelle = AppState(
        reader=(WarehouseReader(Path(warehouse)) if linger_s is None
                else WarehouseReader(Path(warehouse), linger_s=linger_s)),
        sessions=sessions,
        files_dir=Path(files_dir) if files_dir else default_files_dir(url, Path(warehouse)),
        secure_cookies=secure_cookies, templates=environment())
    errors.install(app)

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]
                               ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router, include_in_schema=router is api.router)
    return app


# How `sentinelle serve --workers N` hands its options to each worker process: uvicorn
# starts every worker from an import string, so the options travel as environment variables.
WORKER_ENV = {"warehouse": "SENTINELLE_WEB_WAREHOUSE",
              "database_url": "SENTINELLE_WEB_DATABASE_URL",
              "files_dir": "SENTINELLE_WEB_FILES", "secure_cookies": "SENTINELLE_WEB_SECURE"}


def worker_environment(warehouse: Path, database_url: str, files_dir: Path | None,
                       secure_cookies: bool) -> dict[str, str]:
    env = {WORKER_ENV["warehouse"]: str(warehouse), WORKER_ENV["database_url"]: database_url,
           WORKER_ENV["secure_cookies"]: "1" if secure_cookies else "0"}
    if files_dir is not None:
        env[WORKER_ENV["files_dir"]] = str(files_dir)
    return env


def app_from_environment() -> FastAPI:
    """The application of one worker process, from ``worker_environment``."""
    files = os.environ.get(WORKER_ENV["files_dir"])
    return create_app(Path(os.environ[WORKER_ENV["warehouse"]]),
                      os.environ[WORKER_ENV["database_url"]],
                      Path(files) if files else None,
                      secure_cookies=os.environ.get(WORKER_ENV["secure_cookies"]) != "0")
