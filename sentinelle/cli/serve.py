"""``sentinelle serve``: the investigators' web application (pages and JSON API)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from sentinelle.cli.common import DbOption, console
from sentinelle.errors import SentinelleError
from sentinelle.review import accounts
from sentinelle.review import db as case_db
from sentinelle.review.audit import cli_actor
from sentinelle.settings import resolve
from sentinelle.warehouse.connection import require_existing

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEMO_USER = "demo"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but the "
                                      "loopback address needs HTTPS (--certfile, or a "
                                      "proxy).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="The case database: postgresql://USER@HOST/DB for a team "
        "(default: a SQLite file beside the warehouse).")] = None,
    files: Annotated[Path | None, typer.Option(
        help="Folder for files attached to cases (default: case-files beside the case "
        "database).")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="When the case database has no account yet, create the supervisor "
        "account 'demo' with a random password, and print it.")] = False,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) for HTTPS.")]
    = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM) for HTTPS.")]
    = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Server processes; more than one lets pages render on several cores "
        "at once (each reads the warehouse and the case database on its own).")] = 1,
) -> None:
    """Start the web application: the alert queue, subjects, search, cases, the audit log."""
    import uvicorn

    from sentinelle.web import create_app

    settings = resolve({"db": str(db) if db else None})
    warehouse = Path(settings["db"])
    require_existing(warehouse)
    if bool(certfile) != bool(keyfile):
        raise SentinelleError("HTTPS needs both --certfile and --keyfile")
    url = case_db.database_url(database_url, warehouse)
    revision = case_db.upgrade(url)
    console.print(f"Case database {case_db.safe_url(url)} at revision {revision}.")
    if demo:
        _demo_account(url, settings["user"])
    https = certfile is not None
    local = host in LOOPBACK
    secure = https or not local
    app = create_app(warehouse, url, files, secure_cookies=secure)
    if local and not https:
        console.print("Listening on this machine only, over plain HTTP: the session cookie "
                      "is sent without the Secure flag.")
    elif not https:
        console.print("[yellow]Cookies are marked Secure: browsers send them over HTTPS "
                      "only. Put an HTTPS proxy in front, or give --certfile and --keyfile.")
    scheme = "https" if https else "http"
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Sentinelle is serving [b]{scheme}://{shown}:{port}/[/] — Ctrl+C stops it.")
    cert, key = (str(certfile) if certfile else None), (str(keyfile) if keyfile else None)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", ssl_certfile=cert,
                    ssl_keyfile=key)
        return
    from sentinelle.web.app import worker_environment

    os.environ.update(worker_environment(warehouse, url, files, secure))
    uvicorn.run("sentinelle.web.app:app_from_environment", factory=True, workers=workers,
                host=host, port=port, log_level="warning", ssl_certfile=cert, ssl_keyfile=key)


def _demo_account(url: str, os_user: str) -> None:
    """The demo's one account, only on an empty case database (never a known password)."""
    engine, sessions = case_db.open_cases(url)
    try:
        with sessions() as session:
            if accounts.list_users(session):
                console.print("The case database already has accounts: no demo account "
                              "created.")
                return
            password = secrets.token_urlsafe(15)
            while accounts.password_problems(password, DEMO_USER):
                password = secrets.token_urlsafe(15)
            accounts.create_user(session, DEMO_USER, "supervisor", password,
                                 display_name="Demo supervisor", by=cli_actor(os_user))
            session.commit()
    finally:
        engine.dispose()
    console.print(f"Demo account: [b]{DEMO_USER}[/] / [b]{password}[/] (supervisor; the "
                  "password is shown once — sentinelle users reset demo to change it).",
                  highlight=False)
