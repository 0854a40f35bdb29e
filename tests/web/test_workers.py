"""`sentinelle serve --workers N`: each worker process builds the same application from the
options the command hands it through the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.web.app import app_from_environment, worker_environment
from tests.web.conftest import Site


@pytest.mark.parametrize("secure", [True, False])
def test_a_worker_builds_the_application_from_its_environment(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secure: bool) -> None:
    env = worker_environment(site.warehouse, site.url, tmp_path / "files", secure)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = app_from_environment()
    state = app.state.sentinelle
    assert state.reader.path == site.warehouse
    assert state.secure_cookies is secure
    assert state.files_dir == tmp_path / "files"
    assert "/api/openapi.json" in {getattr(r, "path", "") for r in app.routes}
