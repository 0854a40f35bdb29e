"""Worlds are built once per (scale, seed) and reused only when they match."""

from __future__ import annotations

import json

from sentinelle.evaluate.worlds import build_world, world_folder
from sentinelle.warehouse import open_warehouse

SCALE = 0.02


def test_world_is_built_then_reused(tmp_path):
    steps: list[str] = []
    first = build_world(tmp_path, SCALE, 1, user="tester", progress=steps.append)
    assert not first.reused and first.folder == world_folder(tmp_path, SCALE, 1)
    assert any(s.startswith("generating") for s in steps)
    with open_warehouse(first.db, read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM transactions") > 0
        assert wh.scalar("SELECT count(*) FROM referrals") > 0
    assert first.truth.exists()

    again = build_world(tmp_path, SCALE, 1, user="tester")
    assert again.reused and again.db == first.db


def test_mismatched_or_incomplete_world_is_rebuilt(tmp_path):
    world = build_world(tmp_path, SCALE, 1, user="tester")
    meta = json.loads((world.folder / "world.json").read_text("utf-8"))
    (world.folder / "world.json").write_text(json.dumps({**meta, "seed": 2}), "utf-8")
    assert not build_world(tmp_path, SCALE, 1, user="tester").reused

    world.db.unlink()  # the world is there, its warehouse is not: ingest again only
    steps: list[str] = []
    rebuilt = build_world(tmp_path, SCALE, 1, user="tester", progress=steps.append)
    assert not rebuilt.reused and rebuilt.db.exists()
    assert not any(s.startswith("generating") for s in steps)
