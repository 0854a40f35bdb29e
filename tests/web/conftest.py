"""The web application in-process: a small synthetic world, ingested and detected once per
test run, and per test module an application over it with a fresh SQLite case database
and one account per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sentinelle.detect import detect, load_catalogue
from sentinelle.ingest import ingest_paths
from sentinelle.resolve import resolve
from sentinelle.review import accounts
from sentinelle.review.db import open_cases
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from sentinelle.web import create_app

SCALE, SEED = 0.05, 7
RESOLVED_SCALE = 0.1  # large enough for merged facilitators among the alerts
PASSWORD = "correct horse battery staple"
# One account per role, and a second analyst and investigator who are on no case.
USERS = {"ana": "analyst", "bob": "analyst", "ivy": "investigator", "ian": "investigator",
         "sue": "supervisor", "aud": "auditor", "adm": "admin"}
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_hashing() -> Iterator[None]:
    """Argon2 at production cost takes ~50 ms a hash; the tests sign in many times."""
    saved = accounts.HASHER
    accounts.HASHER = CHEAP_HASHER
    yield
    accounts.HASHER = saved


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of a small world after detection (about 2 s)."""
    folder = tmp_path_factory.mktemp("web-world")
    generate_world(folder / "w", SCALE, SEED)
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        detect(wh, load_catalogue(), user="test")
    return db


@pytest.fixture(scope="session")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A world detected on parties (the counts kept), then resolved and detected again."""
    folder = tmp_path_factory.mktemp("resolved")
    generate_world(folder / "w", RESOLVED_SCALE, SEED)
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        before = detect(wh, load_catalogue(), user="test")
        parties = dict(wh.execute(
            "SELECT role || '/' || provider || '/' || party_id, payments FROM det_scores"
        ).fetchall())
        resolve(wh, user="test", threads=2)
        after = detect(wh, load_catalogue(), user="test", subjects=True)
    return {"db": db, "folder": folder, "before": before, "after": after, "parties": parties}


@dataclass
class Site:
    app: FastAPI
    url: str
    folder: Path
    warehouse: Path

    def client(self, username: str | None = None) -> Client:
        client = Client(TestClient(self.app, base_url="https://testserver"))
        if username:
            client.login(username)
        return client

    def sessions(self) -> Any:
        return open_cases(self.url)[1]


class Client:
    """A browser: its own cookies, and the CSRF token of its session once signed in."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> Any:
        response = self.http.post("/api/login", json={"username": username,
                                                      "password": password})
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.http.get(path, **kw)

    def post_form(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True,
                  **kw: Any) -> Any:
        fields = dict(data or {})
        if csrf:
            fields["csrf_token"] = self.csrf
        return self.http.post(path, data=fields, follow_redirects=False, **kw)

    def api(self, method: str, path: str, csrf: bool = True, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        headers |= kw.pop("headers", {})
        return self.http.request(method, path, headers=headers, **kw)


def make_site(folder: Path, warehouse: Path) -> Site:
    url = f"sqlite:///{folder / 'cases.sqlite'}"
    # The tests read and write the warehouse file themselves between requests, in this
    # process: the application lets go of it as soon as each request ends.
    app = create_app(warehouse, url, linger_s=0)
    with open_cases(url)[1]() as session:
        for name, role in USERS.items():
            accounts.create_user(session, name, role, PASSWORD, display_name=name.title())
        session.commit()
    return Site(app, url, folder, warehouse)


@pytest.fixture(scope="module")
def site(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("site"), world)


@pytest.fixture(scope="module")
def as_user(site: Site) -> Callable[[str], Client]:
    """A signed-in client per username, made once per module."""
    made: dict[str, Client] = {}

    def get(username: str) -> Client:
        if username not in made:
            made[username] = site.client(username)
        return made[username]

    return get


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


ERROR_KEYS = {"error", "message", "fix", "details"}


def assert_error_shape(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["fix"] is None or isinstance(body["fix"], str)
    assert isinstance(body["details"], list)
    if error:
        assert body["error"] == error, body
    return dict(body)
