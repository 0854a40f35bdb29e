"""A killed ingest (kill -9, a real subprocess) leaves the warehouse as it was before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentinelle.warehouse import open_warehouse
from tests.conftest import txn, write_csv

SNAPSHOT = """SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM quarantine),
                     (SELECT count(*) FROM ingest_files), (SELECT count(*) FROM cleaning_notes),
                     (SELECT coalesce(sum(amount), 0) FROM transactions)"""


def _ingest_cmd(db: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "sentinelle", "ingest", "transactions", str(path),
            "--db", str(db)]


def _snapshot(db: Path) -> tuple:
    with open_warehouse(db) as wh:
        return wh.execute(SNAPSHOT).fetchone()


def _first_file(tmp_path: Path, db: Path) -> tuple:
    first = write_csv(tmp_path / "first.csv", [txn(i) for i in range(1, 101)])
    subprocess.run(_ingest_cmd(db, first), check=True, capture_output=True)
    return _snapshot(db)


def test_kill_before_commit_leaves_the_warehouse_as_before(tmp_path):
    db = tmp_path / "w.duckdb"
    before = _first_file(tmp_path, db)
    rows = [txn(i, txn_id=f"K{i}") for i in range(20_000)] + [txn(5, amount="bad")]
    second = write_csv(tmp_path / "second.csv", rows)
    marker = tmp_path / "holding"
    env = dict(os.environ, SENTINELLE_HOLD_BEFORE_COMMIT=str(marker))
    proc = subprocess.Popen(_ingest_cmd(db, second), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, "the ingest ended before reaching the commit"
        assert time.monotonic() < deadline, "the ingest never reached the commit"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _snapshot(db) == before
    # And the same file then ingests completely.
    subprocess.run(_ingest_cmd(db, second), check=True, capture_output=True)
    after = _snapshot(db)
    assert after[0] == before[0] + 20_000 and after[2] == 2


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5, 2.5, 4.0])
def test_kill_at_any_moment_leaves_the_file_all_or_nothing(tmp_path, delay):
    db = tmp_path / "w.duckdb"
    before = _first_file(tmp_path, db)
    rows = [txn(i, txn_id=f"K{i}") for i in range(100_000)]
    second = write_csv(tmp_path / "second.csv", rows)
    proc = subprocess.Popen(_ingest_cmd(db, second), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    now = _snapshot(db)
    complete = (before[0] + 100_000, before[1], 2)
    assert now == before or now[:3] == complete
