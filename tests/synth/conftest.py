"""One small synthetic world per session, loaded into DuckDB for the checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from sentinelle.synth import EUR_PER_UNIT, WorldSummary, generate_world

SCALE = 0.2  # about 40,000 transactions: enough buyers for the calibration checks


@dataclass
class Loaded:
    summary: WorldSummary
    db: duckdb.DuckDBPyConnection

    def rows(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()

    def one(self, sql: str) -> object:
        return self.db.execute(sql).fetchone()[0]  # type: ignore[index]


def load(summary: WorldSummary) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    for name in ("transactions", "referrals", "truth"):
        db.read_csv(str(summary.paths[f"{name}.csv"]), all_varchar=True, header=True
                    ).create(name)
    db.execute("CREATE TABLE rates (currency VARCHAR, eur DOUBLE)")
    db.executemany("INSERT INTO rates VALUES (?, ?)", list(EUR_PER_UNIT.items()))
    # Each transaction with the truth about both ends, the euro amount and the local hour
    # read from the timestamp itself (its offset is the sender's).
    db.execute("""
        CREATE VIEW t AS
        SELECT x.*, CAST(x.amount AS DOUBLE) * r.eur AS eur,
               CAST(substr(x.timestamp, 12, 2) AS INTEGER) AS hour,
               CAST(substr(x.timestamp, 9, 2) AS INTEGER) AS dom,
               CAST(substr(x.timestamp, 6, 2) AS INTEGER) AS month,
               s.role AS s_role, s.cohort AS s_cohort, s.person_id AS s_person,
               b.role AS b_role, b.cohort AS b_cohort, b.person_id AS b_person
        FROM transactions x
        JOIN rates r USING (currency)
        JOIN truth s ON s.party_id = x.sender_id AND s.side = 'sender'
        JOIN truth b ON b.party_id = x.beneficiary_id AND b.side = 'beneficiary'
    """)
    return db


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    out: Path = tmp_path_factory.mktemp("world")
    summary = generate_world(out, scale=SCALE, seed=7)
    db = load(summary)
    yield Loaded(summary, db)
    db.close()
