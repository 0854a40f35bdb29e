"""``sentinelle db``, ``users`` and ``audit`` on both backends, attributed to the
operating-system user."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.errors import NotFound, ReviewError
from sentinelle.review import audit, db
from tests.review.conftest import PASSWORD, drop_append_only

runner = CliRunner()
ENV = {"SENTINELLE_USER": "ops.admin", "COLUMNS": "250"}


def cli(url: str, *args: str, input: str | None = None):
    return runner.invoke(app, [*args, "--database-url", url], input=input, env=ENV)


def test_db_upgrade(empty_url):
    result = cli(empty_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"is at revision {db.head_revision()}" in result.output
    assert db.current_revision(empty_url) == db.head_revision()


def test_db_upgrade_beside_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTINELLE_DB", str(tmp_path / "w.duckdb"))
    result = runner.invoke(app, ["db", "upgrade"], env=ENV)
    assert result.exit_code == 0, result.output
    assert (tmp_path / db.DEFAULT_CASE_DB).exists()


def test_users_add_list_disable_enable_reset(empty_url):
    added = cli(empty_url, "users", "add", "Alice", "--role", "investigator", "--name",
                "Alice Martin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "Created alice (investigator)" in added.output
    assert PASSWORD not in added.output
    piped = cli(empty_url, "users", "add", "bob", "--role", "auditor", "--password-stdin",
                input=f"{PASSWORD}\n")
    assert piped.exit_code == 0, piped.output
    listed = cli(empty_url, "users", "list")
    assert listed.exit_code == 0, listed.output
    assert "Alice Martin" in listed.output and "auditor" in listed.output
    assert cli(empty_url, "users", "disable", "bob").exit_code == 0
    assert " no " in cli(empty_url, "users", "list").output
    assert cli(empty_url, "users", "enable", "bob").exit_code == 0
    reset = cli(empty_url, "users", "reset", "alice", "--password-stdin",
                input="another long passphrase\n")
    assert reset.exit_code == 0, reset.output
    engine, sessions = db.open_cases(empty_url, upgrade_first=False)
    with sessions() as session:
        lines = [(e.username, e.role, e.action, e.target)
                 for e in reversed(audit.entries(session))]
    engine.dispose()
    assert lines == [
        ("ops.admin", "cli", "create_user", "user/alice"),
        ("ops.admin", "cli", "create_user", "user/bob"),
        ("ops.admin", "cli", "list_users", ""),
        ("ops.admin", "cli", "disable_user", "user/bob"),
        ("ops.admin", "cli", "list_users", ""),
        ("ops.admin", "cli", "enable_user", "user/bob"),
        ("ops.admin", "cli", "reset_password", "user/alice"),
    ]


def test_users_add_refuses_what_is_wrong(empty_url):
    mismatch = cli(empty_url, "users", "add", "carol", "--role", "analyst",
                   input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0, mismatch.output  # asked again
    assert "do not match" in mismatch.output
    short = cli(empty_url, "users", "add", "dave", "--role", "analyst", "--password-stdin",
                input="short\n")
    assert isinstance(short.exception, ReviewError)
    assert "at least 12" in str(short.exception)
    role = cli(empty_url, "users", "add", "erin", "--role", "boss", "--password-stdin",
               input=f"{PASSWORD}\n")
    assert isinstance(role.exception, ReviewError) and "auditor" in str(role.exception)
    missing = cli(empty_url, "users", "disable", "nobody")
    assert isinstance(missing.exception, NotFound)


def test_commands_that_read_do_not_create_a_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    for args in (["audit", "verify"], ["users", "list"]):
        result = cli(url, *args)
        assert isinstance(result.exception, ReviewError), result.output
        assert "sentinelle db upgrade" in str(result.exception)
    assert not (tmp_path / "none.sqlite").exists()


def test_audit_verify_and_show(url, session):
    for i in range(12):
        audit.record(session, action="view_subject", target=f"buyer/R/S{i}")
    audit.record(session, action="search", detail={"q": "DELA CRUZ"})
    session.commit()
    ok = cli(url, "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "intact: 13 entries" in ok.output
    checkpoint = ok.output.strip().split()[-1]
    assert checkpoint.startswith("13:") and len(checkpoint) == 3 + 64
    shown = cli(url, "audit", "show", "--action", "search", "--limit", "5")
    assert shown.exit_code == 0, shown.output
    assert "DELA CRUZ" in shown.output and "buyer/R/S" not in shown.output
    by_user = cli(url, "audit", "show", "--user", "ops.admin")
    assert "verify_audit" in by_user.output and "view_subject" not in by_user.output

    drop_append_only(session)
    session.execute(text("UPDATE audit_log SET target = 'buyer/R/other' WHERE seq = 4"))
    session.execute(text("DELETE FROM audit_log WHERE seq = 7"))
    session.execute(text("DELETE FROM audit_log WHERE seq > 12"))
    session.commit()
    broken = cli(url, "audit", "verify", "--expect-last", checkpoint)
    assert broken.exit_code == 1, broken.output
    assert "The audit log is broken (11 entries, 3 problems)" in broken.output
    for problem in ("entry 4 was altered", "entry 8 does not follow entry 6: entry 7 was "
                    "deleted", "entries after 12 were deleted"):
        assert f"  - {problem}" in broken.output


@pytest.mark.parametrize("value", ["12", "x:" + "a" * 64, "3:abc"])
def test_audit_verify_expects_seq_and_hash(url, value):
    result = cli(url, "audit", "verify", "--expect-last", value)
    assert isinstance(result.exception, ReviewError)
    assert "SEQ:HASH" in str(result.exception)
