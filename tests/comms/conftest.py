"""Helpers for the communications tests: the fixtures folder and one-call ingestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinelle.comms import Options, get, ingest_file
from sentinelle.ingest import FileReport
from sentinelle.warehouse import Warehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "comms"
REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "whatsapp"


def load(wh: Warehouse, fmt: str, path: Path, **options: object) -> FileReport:
    return ingest_file(wh, get(fmt), path, Options(**options),  # type: ignore[arg-type]
                       user="tester")


def records(fmt: str, path: Path, **options: object) -> list:
    return list(get(fmt).read(path, Options(**options)))  # type: ignore[arg-type]


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
