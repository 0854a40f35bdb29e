"""The case database on both backends: every test that takes ``url`` or ``session`` runs
once on a SQLite file and once on PostgreSQL (127.0.0.1:5432, user postgres), each in a
fresh database (a schema of its own on PostgreSQL, inside one database per test run)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from sentinelle.review import accounts, db
from sentinelle.review.models import Base, User
from tests.pg import fresh_database

BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery staple"

# Argon2 at its production cost takes ~50 ms a hash; the tests hash hundreds of times.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "HASHER", CHEAP_HASHER)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of its own for this test run, dropped at the end."""
    with fresh_database() as url:
        yield url


def _pg_url(base: str, schema: str) -> str:
    # Not waiting for each commit to reach the disk makes the tests three times faster;
    # nothing here needs to survive a crash of the server.
    return f"{base}?options=" + quote(f"-csearch_path={schema} -csynchronous_commit=off")


def _pg(base: str) -> psycopg.Connection:
    return psycopg.connect(base.replace("+psycopg", ""), autocommit=True,
                           options="-csynchronous_commit=off")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty case database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.sqlite'}"
        return
    base: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    with _pg(base) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_url(base, schema)
    finally:
        with _pg(base) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def pg_migrated(pg_database: str) -> str:
    """One migrated schema, emptied after each test rather than migrated again."""
    with _pg(pg_database) as conn:
        conn.execute("CREATE SCHEMA migrated")
    url = _pg_url(pg_database, "migrated")
    db.upgrade(url)
    return url


def _empty_pg(base: str) -> None:
    with _pg(base) as conn:
        triggers = conn.execute("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON "
                                "c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = "
                                "c.relnamespace WHERE n.nspname = 'migrated' AND "
                                "c.relname = 'audit_log' AND NOT t.tgisinternal").fetchone()
        if triggers != (3,):  # a test dropped them: start again
            conn.execute("DROP SCHEMA migrated CASCADE")
            conn.execute("CREATE SCHEMA migrated")
            db.upgrade(_pg_url(base, "migrated"))
            return
        # The append-only triggers refuse TRUNCATE, except to a superuser replicating.
        conn.execute("SET session_replication_role = replica")
        tables = ", ".join(f"migrated.{t}" for t in Base.metadata.tables)
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty case database migrated to the latest revision."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
        db.upgrade(url)
        yield url
        return
    url = request.getfixturevalue("pg_migrated")
    yield url
    _empty_pg(request.getfixturevalue("pg_database"))


@pytest.fixture
def cases(url: str) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine, factory = db.open_cases(url, upgrade_first=False)
    yield engine, factory
    engine.dispose()


@pytest.fixture
def session(cases: tuple[Engine, sessionmaker[Session]]) -> Iterator[Session]:
    with cases[1]() as s:
        yield s


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def make(username: str, role: str = "analyst", password: str = PASSWORD) -> User:
        user = accounts.create_user(session, username, role, password)
        session.commit()
        return user

    return make


def drop_append_only(session: Session) -> None:
    """What a privileged hand would do before tampering with the log."""
    if session.get_bind().dialect.name == "sqlite":
        statements = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    else:
        statements = [f"DROP TRIGGER audit_log_no_{op} ON audit_log"
                      for op in ("update", "delete", "truncate")]
    for statement in statements:
        session.execute(text(statement))
    session.commit()
