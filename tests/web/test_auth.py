"""Signing in and out, the session cookie, throttling, and CSRF on every write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from sentinelle.web.app import ROUTERS
from sentinelle.web.errors import API_PREFIX
from tests.web.conftest import PASSWORD, Site, assert_error_shape, form_token, make_site


def _cookie(response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert found, response.headers
    return found[0]


def test_page_sign_in_sets_a_strict_http_only_secure_cookie(site: Site) -> None:
    client = site.client()
    page = client.get("/queue", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fqueue"
    form = client.get("/login?next=/queue")
    login_cookie = _cookie(form, "sentinelle_login").lower()
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    done = client.http.post("/login", data={
        "username": "ana", "password": PASSWORD, "csrf_token": form_token(form.text),
        "next": "/queue"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/queue"
    cookie = _cookie(done, "sentinelle_session").lower()
    for flag in ("httponly", "samesite=strict", "secure", "path=/"):
        assert flag in cookie, cookie
    assert client.get("/queue").status_code == 200


def test_sign_in_refuses_an_offsite_next_address(site: Site) -> None:
    client = site.client()
    form = client.get("/login")
    done = client.http.post("/login", data={
        "username": "ana", "password": PASSWORD, "csrf_token": form_token(form.text),
        "next": "//evil.example/x"}, follow_redirects=False)
    assert done.headers["location"] == "/"


def test_sign_in_form_without_its_token_is_refused(site: Site) -> None:
    client = site.client()
    done = client.http.post("/login", data={"username": "ana", "password": PASSWORD},
                            follow_redirects=False)
    assert done.status_code == 403 and "expired" in done.text
    assert "sentinelle_session" not in done.headers.get("set-cookie", "")


def test_wrong_password_answers_401_in_the_error_shape(site: Site) -> None:
    client = site.client()
    response = client.http.post("/api/login", json={"username": "ana",
                                                    "password": "not the password"})
    body = assert_error_shape(response, 401, "AuthError")
    assert "wrong username or password" in body["message"]
    page = client.http.post("/login", data={
        "username": "ana", "password": "nope nope nope", "csrf_token": form_token(
            client.get("/login").text)})
    assert page.status_code == 401 and "wrong username or password" in page.text


def test_repeated_failures_are_throttled_with_429(world: Path,
                                                  tmp_path_factory: pytest.TempPathFactory
                                                  ) -> None:
    site = make_site(tmp_path_factory.mktemp("throttle"), world)
    client = site.client()
    codes = [client.http.post("/api/login", json={"username": "bob", "password": "wrong"
                                                  " password!"}).status_code
             for _ in range(5)]
    assert codes == [401] * 5
    locked = client.http.post("/api/login", json={"username": "bob", "password": PASSWORD})
    body = assert_error_shape(locked, 429, "AuthError")
    assert "too many" in body["message"] and locked.headers["retry-after"]


def test_sign_out_ends_the_session(site: Site) -> None:
    client = site.client("ana")
    assert client.get("/api/me").status_code == 200
    out = client.post_form("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert_error_shape(client.get("/api/me"), 401, "AuthError")


def test_api_write_without_the_csrf_header_is_refused(site: Site) -> None:
    client = site.client("ana")
    first = client.get("/api/alerts?per_page=1").json()["alerts"][0]["key"]
    response = client.api("POST", "/api/alerts/assign", csrf=False,
                          json={"keys": [first], "assignee": "ana"})
    assert_error_shape(response, 403, "Forbidden")
    wrong = client.http.post("/api/alerts/assign", headers={"X-CSRF-Token": "x" * 43},
                             json={"keys": [first], "assignee": "ana"})
    assert_error_shape(wrong, 403, "Forbidden")


def _write_routes() -> list[tuple[str, str]]:
    found = []
    for route in (r for router in ROUTERS for r in router.routes):
        assert isinstance(route, APIRoute)
        for method in route.methods - {"GET", "HEAD"}:
            if route.path not in ("/login", f"{API_PREFIX}/login"):
                found.append((method, route.path))
    return sorted(found)


def test_every_write_route_requires_the_csrf_token(site: Site) -> None:
    """Walks the routes, so a new write route that forgets the check fails here."""
    client = site.client("sue")
    routes = _write_routes()
    assert len(routes) >= 15
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "1", path.replace("{role}", "buyer"))
        if path.startswith(API_PREFIX):
            response = client.api(method, url, csrf=False, json={})
        else:
            response = client.post_form(url, {"title": "x", "reason": "y"}, csrf=False)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "CSRF" in response.text, (method, path)
