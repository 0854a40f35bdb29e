"""``sentinelle serve``: migrations first, the demo account, cookies and the address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.review import audit
from sentinelle.review.db import open_cases

runner = CliRunner()


@pytest.fixture()
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setenv("COLUMNS", "200")
    return calls


def test_serve_on_this_machine_with_a_demo_account(world: Path, tmp_path: Path,
                                                   served: list[dict[str, Any]]) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    result = runner.invoke(app, ["serve", "--db", str(world), "--database-url", url,
                                 "--demo", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert "without the Secure flag" in result.output
    password = result.output.split("Demo account: demo / ")[1].split(" ")[0]
    assert len(password) >= 12
    (call,) = served
    assert call["host"] == "127.0.0.1" and call["port"] == 8123
    state = call["app"].state.sentinelle
    assert state.secure_cookies is False
    assert state.files_dir == tmp_path / "case-files"
    with open_cases(url)[1]() as session:
        created = audit.entries(session, action="create_user")
    assert [(e.target, e.role) for e in created] == [("user/demo", "cli")]
    again = runner.invoke(app, ["serve", "--db", str(world), "--database-url", url,
                                "--demo"])
    assert "already has accounts" in again.output and "Demo account" not in again.output


def test_serving_beyond_this_machine_keeps_cookies_secure(world: Path, tmp_path: Path,
                                                          served: list[dict[str, Any]]
                                                          ) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    result = runner.invoke(app, ["serve", "--db", str(world), "--database-url", url,
                                 "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert "HTTPS" in result.output
    assert served[0]["app"].state.sentinelle.secure_cookies is True


def test_serve_needs_a_warehouse(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0 and not served
