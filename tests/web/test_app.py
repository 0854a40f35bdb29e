"""Offline by construction: every asset is local, nothing names another site, and the
browser is told to load nothing from anywhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sentinelle.web.app import STATIC
from sentinelle.web.templating import TEMPLATES
from tests.web.conftest import Site

EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
ASSETS = sorted(p for folder in (TEMPLATES, STATIC) for p in folder.rglob("*")
                if p.is_file())


def test_there_are_templates_and_static_files() -> None:
    names = {p.name for p in ASSETS}
    assert {"base.html", "queue.html", "subject.html", "style.css", "app.js"} <= names


@pytest.mark.parametrize("path", ASSETS, ids=lambda p: p.name)
def test_no_asset_names_another_site(path: Path) -> None:
    text = path.read_text("utf-8")
    assert "http://" not in text and "https://" not in text, path
    assert not EXTERNAL.search(text), (path, EXTERNAL.search(text))


def test_rendered_pages_load_nothing_from_elsewhere(site: Site, as_user) -> None:
    client = as_user("sue")
    first = client.get("/api/alerts?per_page=1").json()["alerts"][0]["token"]
    for path in ("/login", "/queue", f"/subjects/{first}", "/search?q=maria", "/cases"):
        page = client.get(path)
        assert page.status_code == 200, path
        for url in re.findall(r'(?:src|href|action)="([^"]+)"', page.text):
            assert url.startswith(("/", "#")), (path, url)
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "http" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"


def test_the_static_files_are_served(site: Site) -> None:
    client = site.client()
    for name in ("style.css", "app.js"):
        assert client.get(f"/static/{name}").status_code == 200


def test_the_api_is_described_and_the_cdn_documentation_is_off(site: Site) -> None:
    client = site.client()
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/alerts", "/api/alerts/assign", "/api/alerts/dispose",
            "/api/subjects/{role}/{provider}/{party_id}", "/api/search", "/api/cases",
            "/api/cases/{case_id}", "/api/audit"} <= paths
    assert all(p.startswith("/api/") for p in paths)  # the pages are not API
    for path in ("/docs", "/redoc"):
        assert client.get(path).status_code == 404


def test_every_api_route_is_documented(site: Site) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "web.md").read_text("utf-8")
    spec = site.client().get("/api/openapi.json").json()
    missing = [f"{method.upper()} {path}" for path, methods in spec["paths"].items()
               for method in methods if f"`{method.upper()} {path}`" not in docs]
    assert missing == [], "document these in docs/web.md"
