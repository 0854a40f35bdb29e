"""Browser tests: the real server (uvicorn on a free loopback port, in a thread) over the
small world of the web tests, driven by Playwright through Debian's Chromium.

The browser is the system's ``/usr/bin/chromium`` (``./dev test`` installs Debian's
``chromium`` package when it is missing); Playwright's own browser downloads are never
used. Without it the tests fail and name the package — in CI always; on a developer's
machine ``SENTINELLE_SKIP_BROWSER=1`` skips them instead.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from sentinelle.review import accounts
from sentinelle.review.db import open_cases
from sentinelle.web import create_app
from tests.web.conftest import PASSWORD, USERS, cheap_hashing, world

__all__ = ["CHROMIUM", "PASSWORD", "Server", "cheap_hashing", "world"]

CHROMIUM = Path("/usr/bin/chromium")
SKIP_VARIABLE = "SENTINELLE_SKIP_BROWSER"
# Every wait in these tests is bounded: a broken page fails in seconds, not minutes.
TIMEOUT_MS = 10_000


def missing_browser(what: str) -> NoReturn:
    message = (f"{what}. The browser tests need Debian's chromium at {CHROMIUM} "
               "(apt-get install chromium; ./dev test installs it when missing) and the "
               "Python package playwright (pip install -e '.[dev]').")
    if os.environ.get(SKIP_VARIABLE) == "1" and not os.environ.get("CI"):
        pytest.skip(message + f" Skipped because {SKIP_VARIABLE}=1.")
    pytest.fail(message, pytrace=False)


@dataclass
class Server:
    url: str
    folder: Path
    warehouse: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``sentinelle serve`` as it runs on a laptop: plain HTTP on the loopback address, so
    the session cookie is not marked Secure (exactly what ``serve`` does there)."""
    import uvicorn

    folder = tmp_path_factory.mktemp("browser-site")
    url = f"sqlite:///{folder / 'cases.sqlite'}"
    app = create_app(world, url, secure_cookies=False)
    with open_cases(url)[1]() as session:
        for name, role in USERS.items():
            accounts.create_user(session, name, role, PASSWORD, display_name=name.title())
        session.commit()
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", folder, world)
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing_browser(f"{CHROMIUM} does not exist (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("the Python package playwright is not installed")
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield found
        found.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test, opened on the server."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text)
              if msg.type == "error" and not _favicon(msg) else None)
    yield opened
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def _favicon(msg: Any) -> bool:
    """The browser asks for /favicon.ico by itself; the application has none (a 404)."""
    return str((msg.location or {}).get("url", "")).endswith("/favicon.ico")


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
