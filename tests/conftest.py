"""Shared fixtures: small canonical files written by the tests themselves (fictitious people)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sentinelle.model import load_table
from sentinelle.warehouse import Warehouse, open_warehouse

TXN_COLUMNS = load_table("transactions").column_names
REF_COLUMNS = load_table("referrals").column_names


def txn(i: int = 1, **overrides: str) -> dict[str, str]:
    """One valid canonical transaction; override any column."""
    row = {
        "txn_id": f"T{i:06d}",
        "timestamp": f"2024-03-{(i % 28) + 1:02d}T23:{i % 60:02d}:05+01:00",
        "amount": "25.00",
        "currency": "EUR",
        "channel": "remittance",
        "sender_id": f"S{i % 7:04d}",
        "sender_name": "Martin Dubois",
        "sender_birth_date": "1971-05-14",
        "sender_country": "FR",
        "sender_phone": "+33 6 12 34 56 78",
        "sender_email": "m.dubois@example.org",
        "sender_account": "FR76 3000 6000 0112 3456 7890 189",
        "beneficiary_id": f"B{i % 5:04d}",
        "beneficiary_name": "DELA CRUZ Maria",
        "beneficiary_country": "PH",
        "beneficiary_city": "Cebu City",
        "beneficiary_phone": "0917 555 0142",
        "beneficiary_account": "PH-GC-09175550142",
        "description": "family support",
        "provider": "ExampleRemit",
    }
    row.update(overrides)
    return row


def referral(i: int = 1, **overrides: str) -> dict[str, str]:
    row = {
        "referral_id": f"CT-{i:05d}",
        "source": "NCMEC",
        "received_at": "2024-11-02",
        "subject_role": "buyer",
        "subject_name": "DUBOIS Martin",
        "subject_birth_date": "1971-05-14",
        "subject_email": "M.Dubois@example.org",
        "subject_phone": "+33612345678",
        "subject_account": "",
        "subject_country": "FR",
        "summary": "Placeholder summary.",
    }
    row.update(overrides)
    return row


def viewfs_uri(spark: Any, directory: Path) -> str:
    """A ``viewfs://`` URI for ``directory``: Hadoop's mount table over a local directory,
    a file system Sentinelle reaches only through Hadoop (as HDFS or S3, which need a
    network the tests have not). One mount table per directory (Hadoop caches a file
    system by its authority)."""
    table = "m" + hashlib.md5(str(directory).encode()).hexdigest()[:12]
    spark._jsc.hadoopConfiguration().set(f"fs.viewfs.mounttable.{table}.link./data",
                                         directory.as_uri())
    return f"viewfs://{table}/data"


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = open_warehouse(tmp_path / "test.duckdb", memory_limit="1GB", threads=2)
    yield warehouse
    warehouse.close()


@pytest.fixture
def make_csv(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
        return write_csv(tmp_path / name, rows, columns)

    return make
