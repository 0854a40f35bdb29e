"""The reporting-entity settings: declared once, every problem listed at once, and the
table in docs/reports.md generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.errors import SettingsError
from sentinelle.report.entity import ENTITY_FIELDS, example_yaml, fields_table, load_entity
from sentinelle.report.export import EXPORTERS
from tests.report.conftest import ENTITY

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def test_the_fixture_and_the_example_satisfy_both_filers(tmp_path):
    for path in (ENTITY, tmp_path / "example.yaml"):
        if not path.exists():
            path.write_text(example_yaml(), "utf-8")
        entity = load_entity(path)
        entity.require("goaml")
        entity.require("fincen")
    assert set(entity.values) == {f.key for f in ENTITY_FIELDS}


def test_every_problem_is_listed_at_once(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("goaml:\n  rentity_id: first\n  bogus: 1\n  report_code: XYZ\n"
                    "fincen: {human_trafficking: maybe}\n", "utf-8")
    with pytest.raises(SettingsError) as err:
        load_entity(path)
    assert err.value.file == str(path)
    assert len(err.value.details) == 4
    assert any("goaml.bogus" in d for d in err.value.details)
    assert any("goaml.rentity_id" in d and "'first'" in d for d in err.value.details)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("name: x\ngoaml: [unclosed\n", "utf-8")
    with pytest.raises(SettingsError) as err:
        load_entity(path)
    assert err.value.line is not None and err.value.file == str(path)


def test_docs_hold_the_settings_table_and_name_every_format():
    text = DOC.read_text("utf-8")
    table = text.split("<!-- entity-settings -->\n")[1].split("<!-- /entity-settings -->")[0]
    assert table == fields_table(), "regenerate the table from sentinelle.report.entity"
    for name in EXPORTERS:
        assert f"sentinelle report {name}" in text, name
