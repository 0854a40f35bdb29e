"""CSV safe against formula injection (OWASP), UTF-8 with or without a byte-order mark,
names in any script read back unchanged."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from sentinelle.report.csvsafe import COLUMNS, neutralise, render_csv, write_rows
from sentinelle.report.export import gather_subject
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, DESCRIPTIONS, SENDER_NAMES


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"),
    ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tlead", "'\tlead"),
    ("\rlead", "'\rlead"),
    ("  =1+1", "'  =1+1"),  # leading spaces do not disarm a formula everywhere
    ("family support", "family support"),
    ("a=b", "a=b"),
    ("", ""),
    (None, ""),
    (Decimal("-25.50"), "-25.50"),  # numbers the exporter writes stay numbers
    (-3, "-3"),
    ("李 小龍", "李 小龍"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def _read(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_every_field_quoted_and_header_neutralised():
    out = write_rows(["=h"], [["x"], [Decimal("1.5")]])
    assert out == b'"\'=h"\r\n"x"\r\n"1.5"\r\n'


def test_transactions_read_back_safe_and_unchanged(unicode_world):
    with unicode_world.view() as view:
        data = gather_subject(view, PartyKey("facilitator", "ExampleRemit", "B0001"))
    plain, bom = render_csv(data), render_csv(data, bom=True)
    assert bom == b"\xef\xbb\xbf" + plain and not plain.startswith(b"\xef\xbb\xbf")
    rows = _read(plain)
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(data.transactions)
    assert {r["sender_name"] for r in rows} == set(SENDER_NAMES)
    assert {r["beneficiary_name"] for r in rows} == {BENEFICIARY_NAMES[1]}
    for row in rows:
        assert not row["description"].startswith(("=", "+", "-", "@"))
        assert row["description"].lstrip("'") in DESCRIPTIONS
        assert row["source_sha256"] == data.sources[0].sha256 and row["source_line"]
    # Every payment to B0001 is described "+1+1" (the world's i % 5 == 1).
    assert {r["description"] for r in rows} == {"'" + DESCRIPTIONS[1]}
