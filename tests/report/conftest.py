"""Two warehouses for the report tests, each ingested and detected once per test run:

- a small synthetic world (``sentinelle synth``), whose alerts give realistic subjects;
- a hand-made one whose fictitious people have names in many scripts (combining marks,
  right-to-left, CJK, emoji) and whose descriptions look like spreadsheet formulas.

Each has a SQLite case database beside it with one account per role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from argon2 import PasswordHasher

from sentinelle.detect import detect, load_catalogue
from sentinelle.ingest import ingest_paths
from sentinelle.review import accounts
from sentinelle.review.db import open_cases
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from tests.conftest import txn, write_csv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
ENTITY = FIXTURES / "entity.yaml"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
GOAML_XSD = REFERENCE / "goaml" / "goAMLSchema-5.0.2.xsd"
FINCEN_XSD = REFERENCE / "fincen" / "EFL_SARXBatchSchema.xsd"
PASSWORD = "correct horse battery staple"
USERS = {"ana": "analyst", "bob": "analyst", "ivy": "investigator", "aud": "auditor"}

# Fictitious names in several scripts: a decomposed diaeresis (combining mark), Arabic and
# Hebrew (right to left), Chinese, and an emoji.
SENDER_NAMES = ["Zoe\u0308 A\u030angstro\u0308m", "محمد الحسيني", "Martin Dubois",
                "Łukasz Żółć", "Ελένη Παπαδοπούλου", "Jean-Luc O'Neil", "Ana María Núñez"]
BENEFICIARY_NAMES = ["李 小龍", "Ma. Liza 🌸 Dela Cruz", "עדי כהן", "DELA CRUZ Maria",
                     "Nguyễn Thị Ánh"]
# What a spreadsheet would run as a formula if written as it is.
DESCRIPTIONS = ['=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3", "@SUM(A1)",
                "family support"]


@dataclass
class World:
    warehouse: Path
    cases_url: str

    @contextmanager
    def view(self) -> Iterator[WarehouseView]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        try:
            yield WarehouseView(con)
        finally:
            con.close()

    def alert(self, role: str, n: int = 0) -> PartyKey:
        with self.view() as v:
            row = v.rows("SELECT role, provider, party_id FROM det_alerts WHERE role = ? "
                         "ORDER BY alert_no LIMIT 1 OFFSET ?", [role, n])[0]
        return PartyKey(*row)


@pytest.fixture(scope="session", autouse=True)
def cheap_hashing() -> Iterator[None]:
    """Argon2 at production cost takes ~50 ms a hash."""
    saved = accounts.HASHER
    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    accounts.HASHER = saved


def _finish(folder: Path, db: Path) -> World:
    url = f"sqlite:///{folder / 'sentinelle-cases.sqlite'}"
    engine, sessions = open_cases(url)
    with sessions() as session:
        for name, role in USERS.items():
            accounts.create_user(session, name, role, PASSWORD, display_name=name.title())
        session.commit()
    engine.dispose()
    return World(db, url)


@pytest.fixture(scope="session")
def synth_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("report-world")
    generate_world(folder / "w", 0.05, 7)
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        detect(wh, load_catalogue(), user="test")
    return _finish(folder, db)


@pytest.fixture(scope="session")
def unicode_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("report-unicode")
    rows = [txn(i, sender_name=SENDER_NAMES[i % 7], beneficiary_name=BENEFICIARY_NAMES[i % 5],
                sender_email=f"person{i % 7}@example.org",
                sender_phone=f"+33 6 12 34 56 {70 + i % 7:02d}",
                beneficiary_phone=f"0917 555 01{40 + i % 5:02d}",
                beneficiary_account=f"PH-GC-0917555{i % 5:04d}",
                sender_account=f"FR76 3000 6000 0112 3456 7890 1{i % 7:02d}",
                description=DESCRIPTIONS[i % 5]) for i in range(1, 41)]
    path = write_csv(folder / "transactions.csv", rows)
    db = folder / "u.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [path], user="test")
        detect(wh, load_catalogue(), user="test")
    return _finish(folder, db)
