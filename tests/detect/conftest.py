"""Score hand-made payments: each test writes a few transactions, runs detection and reads
what every indicator measured for every party."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sentinelle.detect import detect, load_catalogue
from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import Warehouse, open_warehouse
from tests.conftest import REF_COLUMNS, TXN_COLUMNS, txn, write_csv


@dataclass
class Party:
    score: float
    base: float
    rank: int
    reasons: str
    value: dict[str, float] = field(default_factory=dict)
    strength: dict[str, float] = field(default_factory=dict)
    contribution: dict[str, float] = field(default_factory=dict)


@dataclass
class Scored:
    wh: Warehouse
    parties: dict[tuple[str, str], Party]

    def __call__(self, role: str, party_id: str) -> Party:
        return self.parties[(role, party_id)]


def payment(n: int, sender: str, beneficiary: str, when: str, amount: str = "25.00",
            **more: str) -> dict[str, str]:
    """A transfer from ``sender`` to ``beneficiary``; the other columns are placeholders."""
    return txn(n, sender_id=sender, beneficiary_id=beneficiary, timestamp=when, amount=amount,
               **more)


@pytest.fixture
def score(tmp_path: Path) -> Callable[..., Scored]:
    opened: list[Warehouse] = []

    def run(rows: list[dict[str, str]], referrals: list[dict[str, str]] | None = None,
            params: list[str] | None = None, extra: list[Path] | None = None) -> Scored:
        folder = tmp_path / f"case{len(opened)}"
        folder.mkdir()
        wh = open_warehouse(folder / "w.duckdb", memory_limit="1GB", threads=2)
        opened.append(wh)
        ingest_paths(wh, "transactions", [write_csv(folder / "t.csv", rows, TXN_COLUMNS)],
                     user="test")
        if referrals:
            ingest_paths(wh, "referrals",
                         [write_csv(folder / "r.csv", referrals, REF_COLUMNS)], user="test")
        detect(wh, load_catalogue(extra, params), user="test")
        parties = {
            (role, pid): Party(score, base, rank, reasons)
            for role, pid, score, base, rank, reasons in wh.execute(
                "SELECT role, party_id, score, base, rank, reasons FROM det_scores").fetchall()}
        for role, pid, ind, value, strength, contribution in wh.execute(
                "SELECT role, party_id, indicator, value, strength, contribution "
                "FROM det_contributions").fetchall():
            p = parties[(role, pid)]
            p.value[ind], p.strength[ind], p.contribution[ind] = value, strength, contribution
        return Scored(wh, parties)

    yield run  # type: ignore[misc]
    for wh in opened:
        wh.close()
