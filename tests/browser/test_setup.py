"""Without Chromium the browser tests fail and name the package; a developer may skip them
with SENTINELLE_SKIP_BROWSER=1, but CI never does."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SKIP_VARIABLE, missing_browser

CASES = [
    # (description, environment, expected outcome)
    ("by default the tests fail", {}, pytest.fail.Exception),
    ("a developer may skip them", {SKIP_VARIABLE: "1"}, pytest.skip.Exception),
    ("CI never skips them", {SKIP_VARIABLE: "1", "CI": "true"}, pytest.fail.Exception),
]


@pytest.mark.parametrize(("environment", "outcome"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_missing_browser_is_named(monkeypatch: pytest.MonkeyPatch,
                                    environment: dict[str, str], outcome: type) -> None:
    monkeypatch.delenv(SKIP_VARIABLE, raising=False)
    monkeypatch.delenv("CI", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(outcome) as raised:
        missing_browser("/usr/bin/chromium does not exist")
    assert "apt-get install chromium" in str(raised.value)
    assert "playwright" in str(raised.value)
