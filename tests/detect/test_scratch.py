"""Detection's intermediate tables kept in a scratch database file (DuckDBEngine.scratch)
rather than in memory: the same results, nothing left behind, the session as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.detect import detect, load_catalogue
from sentinelle.detect import run as detect_run
from sentinelle.errors import WarehouseError
from sentinelle.ingest import ingest_paths
from sentinelle.resolve import resolve
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from sentinelle.warehouse.connection import Warehouse, drop_lookup_indexes
from sentinelle.warehouse.engine import TABLE_BYTES_PER_PAYMENT, DuckDBEngine, _bytes
from tests.detect.test_engines import TABLES, _differences, _read


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scratch")
    generate_world(folder / "w", 0.05, 7)
    with open_warehouse(folder / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        resolve(wh, user="test", threads=2)
    return folder / "w.duckdb"


def _session(wh: Warehouse) -> tuple[object, ...]:
    return (wh.scalar("SELECT current_setting('search_path')"),
            wh.scalar("SELECT current_setting('checkpoint_threshold')"),
            sorted(r[0] for r in wh.execute("SELECT database_name FROM duckdb_databases() "
                                            "WHERE NOT internal").fetchall()))


@pytest.mark.parametrize("subjects", [False, True], ids=["parties", "subjects"])
def test_tables_on_disk_give_what_tables_in_memory_give(world: Path, subjects: bool) -> None:
    tables = [t for t in TABLES if t != "det_subject_parties" or subjects]
    with open_warehouse(world, memory_limit="1GB", threads=2) as wh:
        before = _session(wh)
        detect(wh, load_catalogue(), user="test", subjects=subjects, on_disk=False)
        in_memory = _read(wh.con, {}, tables)
        detect(wh, load_catalogue(), user="test", subjects=subjects, on_disk=True)
        on_disk = _read(wh.con, {}, tables)
        assert _session(wh) == before
        # Nothing of the run is left in memory either: its tables were in the file.
        assert not wh.scalar("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                             "AND table_name IN ('det_payments', 'det_new_scores')")
    assert not world.with_name(world.name + ".scratch").exists()
    assert all(in_memory[t] for t in ("det_scores", "det_alerts", "det_evidence"))
    assert _differences(in_memory, on_disk) == []


def test_a_failed_run_removes_its_scratch_file(world: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("stopped half way")

    monkeypatch.setattr(detect_run, "_evidence", fail)
    with open_warehouse(world, memory_limit="1GB", threads=2) as wh:
        before = _session(wh)
        with pytest.raises(RuntimeError, match="half way"):
            detect(wh, load_catalogue(), user="test", on_disk=True)
        assert _session(wh) == before
    assert not world.with_name(world.name + ".scratch").exists()


def test_an_intermediate_table_may_not_hide_behind_a_warehouse_table(world: Path) -> None:
    with open_warehouse(world, memory_limit="1GB", threads=2) as wh:
        wh.execute("CREATE TABLE det_payments AS SELECT 1 AS x")
        try:
            with pytest.raises(WarehouseError, match="det_payments"):
                detect(wh, load_catalogue(), user="test", on_disk=True)
        finally:
            wh.execute("DROP TABLE det_payments")


def test_the_file_is_chosen_when_the_tables_would_not_fit_in_memory(world: Path) -> None:
    chosen = []
    with open_warehouse(world, memory_limit="100MB", threads=2) as wh:
        engine = DuckDBEngine(wh)
        for rows in (1_000, 10_000_000):
            with engine.scratch(rows):
                chosen.append(engine._main is not None)
    assert 10_000_000 * TABLE_BYTES_PER_PAYMENT > 100e6 > 1_000 * TABLE_BYTES_PER_PAYMENT
    assert chosen == [False, True]


@pytest.mark.parametrize(("shown", "size"), [("5.5 GiB", 5.5 * 2**30),
                                             ("953.6 MiB", 953.6 * 2**20),
                                             ("0 bytes", 0), ("2 GB", 2e9)])
def test_memory_limit_is_read_as_duckdb_shows_it(shown: str, size: float) -> None:
    assert _bytes(shown) == size
    with pytest.raises(WarehouseError, match="shows|showed"):
        _bytes("lots")


def test_lookup_indexes_built_beside_a_scratch_file_are_checkpointed(world: Path) -> None:
    """Checkpoints are held off while the scratch file is attached; an index is held in
    memory until one writes it, so building the lookup indexes checkpoints at once (at
    100 million payments they took the whole memory_limit otherwise)."""
    wal = world.with_name(world.name + ".wal")
    with open_warehouse(world, memory_limit="1GB", threads=2) as wh:
        drop_lookup_indexes(wh)
        engine = DuckDBEngine(wh)
        with engine.scratch(1, on_disk=True):
            engine.index(only=["transactions"])
            assert not wal.exists() or wal.stat().st_size == 0
        assert {"transactions_sender_id", "transactions_beneficiary_id"} <= {
            n for (n,) in wh.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
