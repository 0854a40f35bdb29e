"""The synthetic world's calls and messages: the other files unchanged, sessions found."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.pairing import pair_sessions
from sentinelle.ingest import ingest_paths
from sentinelle.synth import comms as synth_comms
from sentinelle.synth.world import generate_world
from sentinelle.warehouse import open_warehouse

SCALE, SEED = 0.02, 5


def test_comms_leave_the_other_files_byte_identical(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    with_comms = generate_world(tmp_path / "with", scale=SCALE, seed=SEED)
    monkeypatch.setattr(synth_comms, "write_comms", lambda *_: 0)
    without = generate_world(tmp_path / "without", scale=SCALE, seed=SEED)
    for name in ("transactions.csv", "referrals.csv", "truth.csv"):
        assert (with_comms.paths[name].read_bytes() ==
                without.paths[name].read_bytes()), name
    assert with_comms.rows["comms.csv"] > 0


def test_buyers_hold_more_sessions_than_the_decoy_families(tmp_path: Path):
    world = generate_world(tmp_path / "w", scale=SCALE, seed=SEED)
    with open_warehouse(tmp_path / "w.duckdb", memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [world.paths["transactions.csv"]], user="t")
        report = ingest_file(wh, get("csv"), world.paths["comms.csv"], Options(), user="t")
        assert report.quarantined == 0 and report.accepted == world.rows["comms.csv"]
        run = pair_sessions(wh)
        sessions = dict(wh.execute("SELECT party_id, sessions FROM comm_session_parties "
                                   "WHERE role = 'buyer'").fetchall())
    with world.paths["truth.csv"].open(encoding="utf-8", newline="") as fh:
        role = {r["party_id"]: r["role"] for r in csv.DictReader(fh) if r["side"] == "sender"}
    assert run.sessions > 0
    of_buyers = [n for p, n in sessions.items() if role.get(p) == "buyer"]
    of_others = [n for p, n in sessions.items() if role.get(p) != "buyer"]
    assert of_buyers and of_others  # family calls are decoys: some pair too
    # A buyer pays for session after session; a family's call after a remittance is rare.
    assert sum(of_buyers) / len(of_buyers) > 2 * sum(of_others) / len(of_others)
