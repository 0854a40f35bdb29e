"""Synthetic worlds for measuring detection, each ingested into its own warehouse file.

A world is kept in a cache folder, one subfolder per (scale, seed), and reused when it
and its warehouse are complete and were made for that scale and seed: generating and
ingesting are most of a benchmark's time, and the same seed gives the same files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sentinelle.errors import SentinelleError
from sentinelle.warehouse import open_warehouse

WAREHOUSE = "warehouse.duckdb"


@dataclass(frozen=True)
class World:
    scale: float
    seed: int
    folder: Path  # transactions.csv, referrals.csv, truth.csv, world.json
    db: Path  # the warehouse holding that world's transactions and referrals
    reused: bool  # True when found complete in the cache, nothing rebuilt

    @property
    def truth(self) -> Path:
        return self.folder / "truth.csv"


def world_folder(cache: Path, scale: float, seed: int) -> Path:
    return Path(cache) / f"scale{scale:g}-seed{seed}"


def build_world(cache: Path, scale: float, seed: int, *, user: str,
                progress: Callable[[str], None] = lambda _: None,
                memory_limit: str = "3GB", threads: int = 0) -> World:
    """The world for (``scale``, ``seed``), generated and ingested unless the cache holds it."""
    folder = world_folder(cache, scale, seed)
    db = folder / WAREHOUSE
    rows = _world_rows(folder, scale, seed)
    if rows is not None and _warehouse_holds(db, rows):
        return World(scale, seed, folder, db, reused=True)
    if rows is None:
        from sentinelle.synth import generate_world

        shutil.rmtree(folder, ignore_errors=True)
        progress("generating")
        generate_world(folder, scale=scale, seed=seed,
                       progress=lambda step, *_: progress(f"generating: {step}"))
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    _ingest(folder, db, user, progress, memory_limit, threads)
    return World(scale, seed, folder, db, reused=False)


def _world_rows(folder: Path, scale: float, seed: int) -> dict[str, int] | None:
    """Rows per file when ``folder`` holds a complete world for this scale and seed.

    world.json is written last, so its presence means the generator finished."""
    try:
        meta = json.loads((folder / "world.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("seed") != seed or meta.get("scale") != scale:
        return None
    rows = meta.get("rows", {})
    if not all((folder / name).exists() for name in ("transactions.csv", "referrals.csv",
                                                    "truth.csv")):
        return None
    return {str(k): int(v) for k, v in rows.items()}


def _warehouse_holds(db: Path, rows: dict[str, int]) -> bool:
    """Both files ingested in full: the rows read equal the rows the world wrote."""
    if not db.exists():
        return False
    try:
        with open_warehouse(db, read_only=True) as wh:
            read = dict(wh.execute("SELECT table_name, sum(rows_read) FROM ingest_files "
                                   "GROUP BY table_name").fetchall())
    except (duckdb.Error, SentinelleError):  # half-written or foreign: rebuild it
        return False
    return (read.get("transactions") == rows.get("transactions.csv")
            and read.get("referrals") == rows.get("referrals.csv"))


def _ingest(folder: Path, db: Path, user: str, progress: Callable[[str], None],
            memory_limit: str, threads: int) -> None:
    from sentinelle.ingest import ingest_paths

    with open_warehouse(db, memory_limit, threads) as wh:
        for table in ("transactions", "referrals"):
            def step(what: str, table: str = table) -> None:
                progress(f"ingesting {table}: {what}")

            step("reading")
            reports = ingest_paths(wh, table, [folder / f"{table}.csv"], user=user,
                                   progress=step)
            refused = [r for r in reports if r.status == "refused"]
            if refused:
                raise SentinelleError(f"the synthetic {table} file was refused: "
                                      f"{refused[0].message}", file=str(refused[0].path))
