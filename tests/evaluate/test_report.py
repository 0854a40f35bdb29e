"""The benchmark page: sections replaced in place, seeds written compactly."""

from __future__ import annotations

import pytest

from sentinelle.evaluate.report import seeds_text, write_section


def test_section_is_appended_then_replaced_leaving_others(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- bench:other -->\nkept\n<!-- /bench:other -->\n")
    write_section(page, "detection", "## Detection quality\n\nfirst")
    write_section(page, "detection", "## Detection quality\n\nsecond")
    text = page.read_text()
    assert text.count("<!-- bench:detection -->") == 1
    assert "second" in text and "first" not in text and "kept" in text


def test_section_on_a_new_page(tmp_path):
    page = tmp_path / "new.md"
    write_section(page, "detection", "body")
    assert page.read_text().startswith("# Benchmarks\n")


@pytest.mark.parametrize(("seeds", "text"), [
    ([1, 2, 3, 4, 5], "1–5"), ([900], "900"), ([1, 3, 4, 5, 9], "1, 3–5, 9")])
def test_seeds_text(seeds, text):
    assert seeds_text(seeds) == text
