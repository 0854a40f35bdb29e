from __future__ import annotations

import pytest

from sentinelle.errors import SettingsError
from sentinelle.settings import SETTINGS, resolve


def test_defaults_environment_then_overrides(monkeypatch):
    monkeypatch.setenv("SENTINELLE_DB", "/data/env.duckdb")
    monkeypatch.setenv("SENTINELLE_THREADS", "2")
    values = resolve({"provider": "Bank X"})
    assert values["db"] == "/data/env.duckdb"
    assert values["threads"] == 2
    assert values["provider"] == "Bank X"
    assert values["memory_limit"] == "3GB"
    assert resolve({"db": "cli.duckdb"})["db"] == "cli.duckdb"


def test_every_problem_is_reported_at_once(monkeypatch):
    monkeypatch.setenv("SENTINELLE_THREADS", "many")
    with pytest.raises(SettingsError) as info:
        resolve({"colour": "blue"})
    text = str(info.value)
    assert "SENTINELLE_THREADS='many'" in text and "'colour'" in text


def test_every_setting_has_help_and_a_default():
    for s in SETTINGS:
        assert s.help and s.default is not None
