"""Schemathesis against the API's own OpenAPI description, in-process (ASGI): requests
generated from the schema — valid ones, and invalid ones — signed in with a session cookie
and the CSRF header. Whatever is sent, the server never answers 500, every answer conforms
to the declared schema and status codes, and every error has the one JSON error shape."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import ERROR_KEYS, Site

# Small and fixed: a few examples per route and mode, the same ones on every run.
EXAMPLES = 12
# Who calls each route: the role allowed to use it, so that most answers are not a 403.
CALLER = {"/api/audit": "aud", "/api/users": "adm"}
# Signing out would end the session the other cases use; it is tested in test_auth.py.
SKIPPED = {("POST", "/api/logout")}


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every failure answers {error, message, fix, details}, and nothing else."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["fix"] is None or isinstance(body["fix"], str), body
    assert isinstance(body["details"], list), body
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, error_shape]


def run_operation(operation: Any, mode: GenerationMode, auth: dict[str, Any]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call(headers={"X-CSRF-Token": auth["csrf"]},
                             cookies={"sentinelle_session": auth["cookie"]})
        case.validate_response(response, checks=CHECKS)

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_description(site: Site, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", site.app)
    auth: dict[str, dict[str, Any]] = {}
    for name in ("sue", "aud", "adm"):
        client = site.client(name)
        auth[name] = {"csrf": client.csrf,
                      "cookie": client.http.cookies.get("sentinelle_session")}
    tested, failures = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        try:
            run_operation(operation, mode, auth[CALLER.get(operation.path, "sue")])
        except Unsatisfiable:  # a route that takes no input has no invalid one
            assert mode == GenerationMode.NEGATIVE, operation.path
            continue
        # Every route's problem at once, not just the first (a FailureGroup is a
        # BaseExceptionGroup).
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
        tested.append(operation.path)
    assert failures == [], "\n\n".join(failures)
    assert "/api/network/{role}/{provider}/{party_id}" in tested and len(tested) > 15
