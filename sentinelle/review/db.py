"""Where the case database lives, how to connect to it, and its migrations.

A SQLite file beside the warehouse by default (one investigator, one laptop); PostgreSQL
for a team (``--database-url postgresql://…``). The schema is built only by the Alembic
migrations in ``sentinelle/review/migrations`` — never by ``create_all`` — so that the
append-only triggers on the audit log exist wherever the tables do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from sentinelle.errors import ReviewError

__all__ = [
    "DEFAULT_CASE_DB",
    "alembic_config",
    "current_revision",
    "database_url",
    "head_revision",
    "make_engine",
    "open_cases",
    "safe_url",
    "session_factory",
    "upgrade",
]

DEFAULT_CASE_DB = "sentinelle-cases.sqlite"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# Any constant: two servers starting at once against one PostgreSQL database take turns
# to migrate instead of both creating the tables.
_MIGRATION_LOCK = 0x5E471E11E


def database_url(url: str | None, db_path: Path | None = None) -> str:
    """The SQLAlchemy URL of the case database.

    ``None`` means a SQLite file named ``sentinelle-cases.sqlite`` beside the warehouse file
    ``db_path`` (or in the current folder). ``postgresql://`` is given the psycopg 3 driver.
    """
    if url is None:
        folder = db_path.parent if db_path is not None else Path(".")
        return f"sqlite:///{(folder / DEFAULT_CASE_DB).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.drivername not in ("sqlite", "sqlite+pysqlite",
                                                   "postgresql+psycopg"):
        raise ReviewError(
            "the case database must be SQLite or PostgreSQL",
            value=safe_url(url) if parsed is not None else url,
            fix="use postgresql://USER@HOST:PORT/DATABASE or sqlite:///PATH, or leave "
                "--database-url out for a SQLite file beside the warehouse",
        )
    return url


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    """An engine with each backend's settings for many short transactions from a few users."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL: pages read while another request writes; writers still take turns.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (a page renders after saving)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic's configuration, built here: no alembic.ini is needed, installed or not."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates '%': a percent-encoded password must survive it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def upgrade(url: str) -> str:
    """Apply every migration up to the latest; return the revision the database is at."""
    engine = make_engine(url)
    try:
        return _upgrade(engine, url)
    finally:
        engine.dispose()


def _upgrade(engine: Engine, url: str) -> str:
    config = alembic_config(url)
    with engine.connect() as conn:
        _exclusive(conn)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
        revision = MigrationContext.configure(conn).get_current_revision()
    assert revision is not None
    return revision


def _exclusive(conn: Connection) -> None:
    """One migrator at a time, and the whole upgrade in one transaction on both backends."""
    if conn.dialect.name == "sqlite":
        # pysqlite does not wrap DDL in a transaction by itself; SQLite can.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")


def current_revision(url: str) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def open_cases(
    url: str | None = None, db_path: Path | None = None, upgrade_first: bool = True
) -> tuple[Engine, sessionmaker[Session]]:
    """Connect to the case database, migrating it first (or refusing one that is behind)."""
    url = database_url(url, db_path)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        if upgrade_first and not path.parent.is_dir():
            raise ReviewError("the folder for the case database does not exist",
                              file=str(path.parent), fix="create it, or pass --database-url")
        if not upgrade_first and not path.exists():
            raise ReviewError("there is no case database here", file=str(path),
                              fix="sentinelle db upgrade (or pass --db / --database-url)")
    engine = make_engine(url)
    try:
        if upgrade_first:
            _upgrade(engine, url)
        else:
            with engine.connect() as conn:
                at = MigrationContext.configure(conn).get_current_revision()
            if at != head_revision():
                raise ReviewError(
                    f"the case database is at revision {at or '(none)'}, this version of "
                    f"Sentinelle needs {head_revision()}",
                    value=safe_url(url), fix="sentinelle db upgrade",
                )
    except Exception:
        engine.dispose()
        raise
    return engine, session_factory(engine)
