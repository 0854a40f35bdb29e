"""One JSON error shape for every failure under /api, and what the warehouse's lock
means for the server: busy while a writer runs, new results as soon as it is done."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentinelle.detect import detect, load_catalogue
from sentinelle.review.reader import WarehouseReader
from sentinelle.warehouse import open_warehouse
from tests.web.conftest import Site, assert_error_shape, make_site

KEY = {"role": "buyer", "provider": "Kestrel Remit", "party_id": "NOPE"}

# (who, method, path, keyword arguments, status, error)
FAILING_CALLS = [
    ("nobody", "GET", "/api/alerts", {}, 401, "AuthError"),
    ("nobody", "POST", "/api/login", {"json": {"username": "x", "password": "y"}}, 401,
     "AuthError"),
    ("ana", "GET", "/api/no-such-route", {}, 404, "NotFound"),
    ("nobody", "GET", "/api/no-such-route", {}, 404, "NotFound"),
    ("ana", "DELETE", "/api/alerts", {}, 405, "ReviewError"),
    ("ana", "GET", "/api/alerts?min_score=2", {}, 422, "ReviewError"),
    ("ana", "GET", "/api/alerts?sort=name", {}, 422, "ReviewError"),
    ("ana", "GET", "/api/alerts?page=0", {}, 422, "ReviewError"),
    ("ana", "POST", "/api/alerts/dispose", {"content": b"not json",
                                            "headers": {"content-type": "application/json"}},
     422, "ReviewError"),
    ("ana", "POST", "/api/alerts/dispose", {"json": {"keys": [], "decision": "escalate"}},
     422, "ReviewError"),
    ("ana", "POST", "/api/alerts/dispose", {"json": {"keys": [KEY], "decision": "escalate",
                                                     "reason": "why"}}, 404, "NotFound"),
    ("ana", "POST", "/api/alerts/dispose", {"json": {"keys": [KEY], "decision": "maybe",
                                                     "reason": "why"}}, 422, "ReviewError"),
    ("ana", "GET", "/api/subjects/victim/P/1", {}, 422, "ReviewError"),
    ("ana", "GET", "/api/subjects/buyer/Kestrel%20Remit/NOPE", {}, 404, "NotFound"),
    ("ana", "GET", "/api/cases/999", {}, 404, "NotFound"),
    ("ana", "GET", "/api/cases/abc", {}, 422, "ReviewError"),
    ("ana", "POST", "/api/cases", {"json": {"title": "  "}}, 400, "ReviewError"),
    ("ana", "GET", "/api/audit", {}, 403, "Forbidden"),
    ("aud", "GET", "/api/alerts", {}, 403, "Forbidden"),
    ("ana", "POST", "/api/alerts/assign", {"json": {"keys": [KEY]}, "csrf": False}, 403,
     "Forbidden"),
    ("ana", "GET", "/api/search", {}, 422, "ReviewError"),
]


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status", "error"),
                         FAILING_CALLS, ids=[f"{c[1]} {c[2]} {c[4]}" for c in FAILING_CALLS])
def test_every_failure_has_the_one_shape(site: Site, as_user, who: str, method: str,
                                         path: str, kwargs: dict, status: int,
                                         error: str) -> None:
    client = site.client() if who == "nobody" else as_user(who)
    kwargs = dict(kwargs)
    csrf = kwargs.pop("csrf", True)
    body = assert_error_shape(client.api(method, path, csrf=csrf, **kwargs), status, error)
    if status == 422 and "dispose" not in path and "cases" not in path:
        assert body["details"], body  # which field, and why


def test_pages_answer_errors_as_pages(site: Site, as_user) -> None:
    page = as_user("ana").get("/cases/999")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no case #999" in page.text
    assert as_user("ana").get("/no-such-page").status_code == 404


@pytest.fixture()
def private_site(world: Path, tmp_path: Path) -> Site:
    """A site over a copy of the warehouse, which the test may lock or re-detect."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(world, copy)
    return make_site(tmp_path, copy)


def test_a_busy_warehouse_answers_503_then_recovers(private_site: Site) -> None:
    state = private_site.app.state.sentinelle
    state.reader = WarehouseReader(private_site.warehouse, wait_s=0.3, linger_s=0)
    client = private_site.client("ana")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(30)", str(private_site.warehouse)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        busy = client.get("/api/alerts")
        body = assert_error_shape(busy, 503, "WarehouseBusy")
        assert "ingestion or detection" in body["message"] and busy.headers["retry-after"]
        page = client.get("/queue")
        assert page.status_code == 503 and "try again" in page.text
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 10
    while client.get("/api/alerts").status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get("/api/alerts").status_code == 200


def test_new_detection_results_show_without_a_restart(private_site: Site) -> None:
    client = private_site.client("ana")
    before = client.get("/api/alerts").json()["total"]
    with open_warehouse(private_site.warehouse, memory_limit="1GB", threads=2) as wh:
        detect(wh, load_catalogue(params=["alert_threshold=0.95"]), user="test")
    after = client.get("/api/alerts").json()
    assert after["total"] < before
    assert all(a["score"] >= 0.95 for a in after["alerts"])
