"""One local Spark session for every Spark test of a run: starting one takes seconds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sentinelle.warehouse.spark import local_session

    where: Path = tmp_path_factory.mktemp("spark")
    session = local_session(where)
    yield session
    session.stop()
