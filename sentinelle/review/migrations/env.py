"""Alembic's environment, run by ``sentinelle.review.db.upgrade`` (no alembic.ini).

``db.upgrade`` hands over an open connection inside its own transaction; a developer's
``alembic.command.revision(db.alembic_config(url), ..., autogenerate=True)`` gets one made
from the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sentinelle.review.models import Base


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from sentinelle.review.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "no database URL in the Alembic configuration"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the case database migrations run online only (sentinelle db upgrade)")
run_migrations_online()
