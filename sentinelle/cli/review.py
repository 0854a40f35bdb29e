"""``sentinelle db``, ``users`` and ``audit``: the case database from the server's shell.

What an administrator does here is written to the audit log under their operating-system
name (the ``user`` setting) with the role ``cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable
from sqlalchemy.orm import Session

from sentinelle.cli.common import DbOption, console
from sentinelle.errors import ReviewError
from sentinelle.review import accounts, audit
from sentinelle.review import db as case_db
from sentinelle.review.models import ROLES
from sentinelle.settings import resolve

db_app = typer.Typer(help="The case database (accounts, decisions, cases, audit log).",
                     no_args_is_help=True)
users_app = typer.Typer(help="Accounts of the web application.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

UrlOption = Annotated[str | None, typer.Option(
    "--database-url", help="postgresql://USER@HOST:PORT/NAME for a team's database (the "
    "password from ~/.pgpass or PGPASSWORD); default: a SQLite file "
    "sentinelle-cases.sqlite beside the warehouse.")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input "
    "instead of asking for it.")]


def _url(database_url_: str | None, db: Path | None) -> str:
    warehouse = Path(resolve({"db": str(db) if db else None})["db"])
    return case_db.database_url(database_url_, warehouse)


@contextmanager
def _cases(database_url_: str | None, db: Path | None,
           create: bool = True) -> Iterator[tuple[Session, audit.Actor]]:
    """A session on the case database (migrated first when ``create``), and who acts."""
    engine, sessions = case_db.open_cases(_url(database_url_, db), upgrade_first=create)
    try:
        with sessions() as session:
            yield session, audit.cli_actor(resolve()["user"])
    finally:
        engine.dispose()


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@db_app.command("upgrade")
def db_upgrade(database_url: UrlOption = None, db: DbOption = None) -> None:
    """Create the case database, or bring it to this version's schema (migrations)."""
    url = _url(database_url, db)
    revision = case_db.upgrade(url)
    console.print(f"The case database {case_db.safe_url(url)} is at revision {revision}.")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (lower-cased).")],
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(ROLES) + ".")],
    name: Annotated[str | None, typer.Option(help="Name shown in the application.")] = None,
    password_stdin: PasswordStdin = False,
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """Create an account (the password is asked twice, or read with --password-stdin)."""
    if role not in ROLES:
        raise ReviewError(f"unknown role {role!r}", fix="one of " + ", ".join(ROLES))
    password = _password(password_stdin)
    with _cases(database_url, db) as (session, actor):
        user = accounts.create_user(session, username, role, password, name, by=actor)
        session.commit()
        console.print(f"Created {user.username} ({user.role}).")


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The account to disable.")],
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """Stop an account signing in and end its sessions (nothing it did is removed)."""
    with _cases(database_url, db, create=False) as (session, actor):
        user = accounts.disable_user(session, username, by=actor)
        session.commit()
        console.print(f"{user.username} is disabled; its open sessions have ended.")


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument(help="The account to enable again.")],
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """Let a disabled account sign in again."""
    with _cases(database_url, db, create=False) as (session, actor):
        user = accounts.enable_user(session, username, by=actor)
        session.commit()
        console.print(f"{user.username} is enabled.")


@users_app.command("reset")
def users_reset(
    username: Annotated[str, typer.Argument(help="The account whose password to replace.")],
    password_stdin: PasswordStdin = False,
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """Set a new password; lifts a lock and ends the account's open sessions."""
    with _cases(database_url, db, create=False) as (session, actor):
        accounts.reset_password(session, username, _password(password_stdin), by=actor)
        session.commit()
        console.print(f"The password of {username.strip().lower()} is reset.")


@users_app.command("list")
def users_list(database_url: UrlOption = None, db: DbOption = None) -> None:
    """Every account: role, whether active, lock, creation."""
    with _cases(database_url, db, create=False) as (session, actor):
        users = accounts.list_users(session)
        audit.record(session, action="list_users", user=actor)
        session.commit()
    table = RichTable(title="Accounts")
    for col in ("username", "name", "role", "active", "locked until (UTC)", "created (UTC)"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.display_name, u.role, "yes" if u.active else "no",
                      f"{u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "",
                      f"{u.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


def _checkpoint(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ReviewError("--expect-last takes SEQ:HASH", value=value,
                          fix="give it as printed by an earlier sentinelle audit verify")
    return int(seq), digest.lower()


@audit_app.command("verify")
def audit_verify(
    expect_last: Annotated[str | None, typer.Option(
        "--expect-last", help="SEQ:HASH of an entry written down earlier (printed by a "
        "previous verify): detects entries cut off the end.")] = None,
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """Walk the hash chain; name every altered, inserted or deleted entry (exit 1 if any)."""
    expected = _checkpoint(expect_last)
    with _cases(database_url, db, create=False) as (session, actor):
        report = audit.verify(session, expect_last=expected)
        audit.record(session, action="verify_audit", user=actor,
                     detail={"entries": report.entries, "problems": len(report.problems)})
        session.commit()
    if report.ok:
        console.print(f"The audit log is intact: {report.entries:,} entries.")
        if report.checkpoint:
            console.print(f"Write down the last entry to detect later deletions at the end "
                          f"(--expect-last): {report.checkpoint}", soft_wrap=True)
        return
    console.print(f"[bold red]The audit log is broken[/] ({report.entries:,} entries, "
                  f"{len(report.problems)} problems):")
    for problem in report.problems:
        console.print(f"  - {problem}", markup=False, highlight=False)
    raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    user: Annotated[str | None, typer.Option(help="Only this username.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (login, "
                                               "view_subject, ...).")] = None,
    target: Annotated[str | None, typer.Option(help="Only targets containing this.")] = None,
    limit: Annotated[int, typer.Option(help="Entries to show, newest first.")] = 50,
    database_url: UrlOption = None,
    db: DbOption = None,
) -> None:
    """The latest audit entries, newest first."""
    with _cases(database_url, db, create=False) as (session, actor):
        rows = audit.entries(session, user=user, action=action, target=target, limit=limit)
        audit.record(session, action="view_audit", user=actor,
                     detail={"user": user, "action": action, "target": target,
                             "limit": limit})
        session.commit()
    table = RichTable(title="Audit log (newest first)")
    for col in ("#", "at (UTC)", "user", "role", "action", "target", "detail", "address"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.username, e.role, e.action,
                      e.target, "" if e.detail == "{}" else e.detail, e.ip)
    console.print(table)
