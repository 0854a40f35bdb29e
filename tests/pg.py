"""The real PostgreSQL server the tests use (127.0.0.1:5432, user postgres, trust
authentication; `.ci/run` starts it when it is down): a database of its own per use."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                           connect_timeout=3, autocommit=True)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database (its SQLAlchemy URL), dropped afterwards; the test is skipped
    with the reason when the server cannot be reached."""
    try:
        conn = admin()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER} "
                    f"({str(exc).strip()}); the PostgreSQL variant of this test is skipped")
    name = f"sentinelle_test_{secrets.token_hex(4)}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
