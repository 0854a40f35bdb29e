"""The case database: where it lives, its migrations, and the log's append-only triggers."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from sentinelle.errors import ReviewError
from sentinelle.review import audit, db
from sentinelle.review.models import Base


@pytest.mark.parametrize(("given", "warehouse", "expected"), [
    ("postgresql://u@h:5432/cases", None, "postgresql+psycopg://u@h:5432/cases"),
    ("postgres://u@h/cases", None, "postgresql+psycopg://u@h/cases"),
    ("postgresql+psycopg://u@h/cases", None, "postgresql+psycopg://u@h/cases"),
    ("sqlite:////srv/cases.sqlite", None, "sqlite:////srv/cases.sqlite"),
])
def test_database_url_accepts_sqlite_and_postgresql(given, warehouse, expected):
    assert db.database_url(given, warehouse) == expected


def test_the_default_is_a_sqlite_file_beside_the_warehouse(tmp_path, monkeypatch):
    warehouse = tmp_path / "team" / "sentinelle.duckdb"
    assert db.database_url(None, warehouse) == \
        f"sqlite:///{tmp_path / 'team' / db.DEFAULT_CASE_DB}"
    monkeypatch.chdir(tmp_path)
    assert db.database_url(None) == f"sqlite:///{tmp_path / db.DEFAULT_CASE_DB}"


@pytest.mark.parametrize("given", ["mysql://u:secret@h/cases", "postgresql+psycopg2://h/c",
                                   "not a url"])
def test_other_databases_are_refused_with_the_password_hidden(given):
    with pytest.raises(ReviewError, match="SQLite or PostgreSQL") as caught:
        db.database_url(given)
    assert "secret" not in str(caught.value)


def test_migrations_build_exactly_the_declared_model(url):
    engine = db.make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert set(inspect(conn).get_table_names()) >= set(Base.metadata.tables)
    engine.dispose()
    assert db.current_revision(url) == db.head_revision()
    assert db.upgrade(url) == db.head_revision()  # a second upgrade changes nothing


def test_an_empty_database_has_no_revision_and_migrates_both_ways(empty_url):
    assert db.current_revision(empty_url) is None
    assert db.upgrade(empty_url) == db.head_revision()
    engine = db.make_engine(empty_url)
    with engine.connect() as conn:
        config = db.alembic_config(empty_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
        assert not set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
    engine.dispose()
    assert db.upgrade(empty_url) == db.head_revision()


def test_the_audit_log_refuses_update_and_delete(session):
    audit.record(session, action="login")
    session.commit()
    statements = ["UPDATE audit_log SET action = 'nothing' WHERE seq = 1",
                  "DELETE FROM audit_log WHERE seq = 1"]
    if session.get_bind().dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert audit.verify(session).entries == 1


def test_sqlite_settings(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
    engine.dispose()


def test_open_cases_migrates_or_refuses_a_database_that_is_behind(tmp_path):
    warehouse = tmp_path / "sentinelle.duckdb"
    with pytest.raises(ReviewError, match="no case database") as missing:
        db.open_cases(None, warehouse, upgrade_first=False)
    assert "sentinelle db upgrade" in str(missing.value)
    (tmp_path / db.DEFAULT_CASE_DB).touch()
    with pytest.raises(ReviewError, match="revision") as behind:
        db.open_cases(None, warehouse, upgrade_first=False)
    assert "sentinelle db upgrade" in str(behind.value)
    engine, sessions = db.open_cases(None, warehouse)
    with sessions() as session:
        assert audit.verify(session).ok
    engine.dispose()
    with pytest.raises(ReviewError, match="folder"):
        db.open_cases(None, tmp_path / "nowhere" / "w.duckdb")


def test_migrations_need_no_alembic_ini(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not Path("alembic.ini").exists()
    assert db.upgrade(f"sqlite:///{tmp_path / 'c.sqlite'}") == db.head_revision()
