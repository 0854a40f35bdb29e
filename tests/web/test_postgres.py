"""The web application over a PostgreSQL case database, as a team runs it: the same pages
and API, the same decisions, cases and audit chain as on the default SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentinelle.review import accounts, audit
from sentinelle.review.db import current_revision, head_revision, open_cases
from sentinelle.web import create_app
from tests.pg import fresh_database
from tests.web.conftest import PASSWORD, USERS, Site, form_token


@pytest.fixture(scope="module")
def pg_site(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with fresh_database() as url:
        app = create_app(world, url, linger_s=0)  # migrates the empty database first
        engine, sessions = open_cases(url)
        with sessions() as session:
            for name, role in USERS.items():
                accounts.create_user(session, name, role, PASSWORD, display_name=name.title())
            session.commit()
        engine.dispose()
        yield Site(app, url, tmp_path_factory.mktemp("pg-site"), world)
        # Close the application's pool before the database is dropped.
        app.state.sentinelle.sessions.kw["bind"].dispose()


def test_migrated_to_the_latest_revision(pg_site: Site) -> None:
    assert current_revision(pg_site.url) == head_revision()


def test_decide_open_a_case_and_audit_on_postgresql(pg_site: Site) -> None:
    sue = pg_site.client("sue")
    alerts = sue.get("/api/alerts", params={"role": "buyer", "per_page": 2}).json()["alerts"]
    assert alerts
    done = sue.api("POST", "/api/alerts/dispose", json={
        "keys": [alerts[0]["key"]], "decision": "escalate", "reason": "placeholder reason"})
    assert done.status_code == 200, done.text

    page = sue.get("/cases")
    made = sue.post_form("/cases", {"title": "Placeholder case",
                                    "csrf_token": form_token(page.text)}, csrf=False)
    assert made.status_code == 303, made.text
    case_page = sue.get(made.headers["location"].split("?")[0])
    assert case_page.status_code == 200 and "Placeholder case" in case_page.text

    outsider = pg_site.client("bob")
    case_id = made.headers["location"].split("/")[2].split("?")[0]
    assert outsider.get(f"/cases/{case_id}").status_code == 404

    engine, sessions = open_cases(pg_site.url)
    with sessions() as session:
        report = audit.verify(session)
        actions = {e.action for e in audit.entries(session, limit=200)}
    engine.dispose()
    assert report.ok, report.problems
    assert {"login", "dispose", "create_case", "view_case"} <= actions
