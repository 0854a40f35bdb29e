"""Docs that tests keep true: the reference pages are what the declarations generate."""

from __future__ import annotations

from pathlib import Path

from sentinelle.cli import app
from sentinelle.docgen import pages
from sentinelle.model import tables
from sentinelle.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_generated_pages_are_committed_and_current():
    for name, text in pages(app).items():
        assert (DOCS / name).read_text("utf-8") == text, f"docs/{name}: run sentinelle docs build"


def test_every_column_and_setting_is_documented():
    model = (DOCS / "model.md").read_text("utf-8")
    for table in tables():
        for field in table.fields:
            assert f"| `{field.name}` |" in model
    settings = (DOCS / "settings.md").read_text("utf-8")
    for s in SETTINGS:
        assert s.env_var in settings


def test_readme_opens_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    head = readme[: readme.index("\n## ")] if "\n## " in readme else readme
    assert "./dev demo" in head and "./dev test" in head


def test_benchmarks_page_gives_the_command_for_each_figure():
    text = (DOCS / "benchmarks.md").read_text("utf-8")
    assert "python bench/ingest.py" in text


def test_every_page_the_readme_links_exists():
    import re

    readme = (DOCS.parent / "README.md").read_text("utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)\)", readme)
    assert links, "the README links no documentation"
    missing = [link for link in links if not (DOCS.parent / link).exists()]
    assert missing == []
