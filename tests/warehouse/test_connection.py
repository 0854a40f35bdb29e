from __future__ import annotations

import pytest

from sentinelle.errors import SettingsError, WarehouseError
from sentinelle.model import tables
from sentinelle.warehouse import open_warehouse
from sentinelle.warehouse.columns import column_compression, table_columns


def test_new_warehouse_has_every_declared_column(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        for table in tables():
            got = [r[0] for r in wh.execute(f"DESCRIBE {table.name}").fetchall()]
            assert got == [name for name, _ in table_columns(table)]
        assert wh.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == "1"


def test_unique_text_is_stored_with_zstd_and_codes_as_duckdb_chooses(tmp_path):
    """The DDL's compression choices reach the file (columns.py says why)."""
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        wh.execute("""INSERT INTO transactions (txn_id, sender_phone, currency, sender_name)
            SELECT 'T' || i, '+3361234' || i, 'EUR', 'name ' || (i % 50) FROM range(5000) r(i)""")
        wh.execute("CHECKPOINT")
        stored = dict(wh.execute(
            "SELECT DISTINCT column_name, compression FROM pragma_storage_info('transactions') "
            "WHERE segment_type = 'VARCHAR' AND column_name IN "
            "('txn_id', 'sender_phone', 'currency', 'sender_name')").fetchall())
    chosen = column_compression(next(t for t in tables() if t.name == "transactions"))
    assert {c for c in stored if c in chosen} == {"txn_id", "sender_phone"}
    assert stored["txn_id"] == stored["sender_phone"] == "ZSTD"
    assert stored["currency"] != "ZSTD" and stored["sender_name"] != "ZSTD"


def test_reopening_keeps_the_data(tmp_path):
    path = tmp_path / "w.duckdb"
    with open_warehouse(path) as wh:
        wh.execute("INSERT INTO meta VALUES ('probe', 'kept')")
    with open_warehouse(path, read_only=True) as wh:
        assert wh.scalar("SELECT value FROM meta WHERE key = 'probe'") == "kept"


def test_a_missing_warehouse_read_only_says_how_to_make_one(tmp_path):
    with pytest.raises(WarehouseError) as info:
        open_warehouse(tmp_path / "none.duckdb", read_only=True)
    assert "sentinelle ingest" in str(info.value)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    with open_warehouse(path) as wh:
        wh.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WarehouseError, match="schema version 99"):
        open_warehouse(path)


@pytest.mark.parametrize("bad", ["lots", "3 parsecs", "1GB; DROP TABLE meta"])
def test_memory_limit_must_be_a_size(tmp_path, bad):
    with pytest.raises(SettingsError):
        open_warehouse(tmp_path / "w.duckdb", memory_limit=bad)
