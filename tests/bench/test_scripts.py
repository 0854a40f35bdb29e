"""The benchmark scripts still run (on a tiny world), so their figures stay reproducible."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ingest_benchmark_runs_and_reconciles(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--scale", "0.02", "--no-write",
         "--data", str(tmp_path)], capture_output=True, text=True, timeout=600, check=True)
    assert "DuckDB alone" in result.stdout and "Ratio" in result.stdout
    assert "quarantined 0" in result.stdout and "writing" in result.stdout


@pytest.mark.slow
def test_synth_benchmark_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "synth.py"), "--scale", "0.02", "--no-write"],
        capture_output=True, text=True, timeout=600, check=True)
    assert "| 0.02 |" in result.stdout


@pytest.mark.slow
def test_outofcore_benchmark_runs_and_reconciles(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "outofcore.py"), "--providers", "2",
         "--scale", "0.02", "--no-write", "--keep", "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=True)
    # Two providers' files, every row accepted, both keys unique across providers.
    assert "2 providers' exports" in result.stdout and "quarantined 0" in result.stdout
    assert "| `sentinelle detect` |" in result.stdout and "prepare payments" in result.stdout
    # A third provider's export appended to the kept warehouse: its own keys, all accepted.
    appended = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "outofcore.py"), "--providers", "2",
         "--scale", "0.02", "--no-write", "--append", "3", "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=True).stdout
    read = re.search(r"Rows: read ([0-9,]+) = accepted ([0-9,]+) \+ quarantined 0; "
                     r"the warehouse went from ([0-9,]+) to ([0-9,]+)", appended)
    assert read, appended
    n, accepted, before, after = (int(g.replace(",", "")) for g in read.groups())
    assert n == accepted > 0 and after == before + n
