"""docs/mappings.md stays true: its key table is the loader's declaration, and every
shipped mapping is documented and reads its own fixture."""

from __future__ import annotations

import re
from pathlib import Path

from sentinelle.ingest.mapfile import KEYS, shipped

DOC = Path(__file__).parents[2] / "docs" / "mappings.md"


def test_the_key_table_matches_the_declaration():
    documented = re.findall(r"^\| `([a-z_.*]+)` \|", DOC.read_text(), flags=re.M)
    keys = [k.path for k in KEYS]
    assert documented[:len(keys)] == keys
    for key in KEYS:
        assert f"| `{key.path}` | {key.kind} | {key.meaning} |" in DOC.read_text(), key.path


def test_every_shipped_mapping_is_documented():
    text = DOC.read_text()
    for name in shipped():
        assert f"| `{name}` |" in text, name
