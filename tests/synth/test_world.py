"""generate_world: the files, their layout, determinism, the truth's coverage."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sentinelle.errors import SentinelleError
from sentinelle.model import load_table
from sentinelle.synth import TRUTH_COLUMNS, generate_world
from tests.synth.conftest import Loaded


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", scale=0.05, seed=3)
    b = generate_world(tmp_path / "b", scale=0.05, seed=3)
    c = generate_world(tmp_path / "c", scale=0.05, seed=4)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert a.rows == b.rows
    for name in ("transactions.csv", "referrals.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert c.rows["transactions.csv"] > 0


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate_world(tmp_path, scale=0.02, seed=1, progress=lambda *a: calls.append(a))
    steps = [c[0] for c in calls]
    assert "Writing transactions.csv" in steps
    assert all(0 <= done <= total for _, done, total in calls)
    assert calls[-1] == ("Done", 1, 1)


@pytest.mark.parametrize("scale", [0, -1.0])
def test_a_scale_that_is_not_positive_is_refused(tmp_path: Path, scale: float) -> None:
    with pytest.raises(SentinelleError, match="scale"):
        generate_world(tmp_path, scale=scale)


def test_files_have_the_canonical_headers(world: Loaded) -> None:
    paths = world.summary.paths
    for name, columns in (("transactions.csv", load_table("transactions").column_names),
                          ("referrals.csv", load_table("referrals").column_names),
                          ("truth.csv", TRUTH_COLUMNS)):
        with paths[name].open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == columns


def test_summary_counts_match_the_files(world: Loaded) -> None:
    s = world.summary
    assert s.rows["transactions.csv"] == world.one("SELECT count(*) FROM transactions")
    assert s.rows["referrals.csv"] == world.one("SELECT count(*) FROM referrals")
    assert s.rows["truth.csv"] == world.one("SELECT count(*) FROM truth")
    assert sum(s.transactions.values()) == s.rows["transactions.csv"]
    meta = json.loads(s.paths["world.json"].read_text(encoding="utf-8"))
    assert meta["seed"] == 7 and meta["scale"] == 0.2
    assert meta["rows"] == s.rows
    assert meta["calibration"]["buyer_median_eur"]["source"].startswith("AIC")


def test_truth_covers_every_id_exactly_once(world: Loaded) -> None:
    for side, column, table in (("sender", "sender_id", "transactions"),
                                ("beneficiary", "beneficiary_id", "transactions"),
                                ("referral", "referral_id", "referrals")):
        in_data = {r for (r,) in world.rows(f"SELECT DISTINCT {column} FROM {table}")}
        truth = [r for (r,) in world.rows(
            f"SELECT party_id FROM truth WHERE side = '{side}'")]  # noqa: S608 - constants
        assert len(truth) == len(set(truth))
        assert set(truth) == in_data
    assert world.one("SELECT count(*) FROM truth WHERE role NOT IN "
                     "('buyer', 'facilitator', 'legit')") == 0


def test_one_person_many_records(world: Loaded) -> None:
    # A buyer registered twice; a facilitator under relatives' names.
    multi = dict(world.rows("""
        SELECT side || ':' || role, count(*) FROM (
            SELECT side, role, person_id FROM truth WHERE side <> 'referral'
            GROUP BY ALL HAVING count(*) > 1) GROUP BY 1"""))
    assert multi.get("sender:buyer", 0) >= 1
    assert multi.get("beneficiary:facilitator", 0) >= 1


def test_ids_are_opaque(world: Loaded) -> None:
    rows = world.rows("SELECT party_id, side FROM truth WHERE side <> 'referral'")
    for party, side in rows:
        assert len(party) == 8 and party[0] == {"sender": "S", "beneficiary": "B"}[side]
        assert party[1:].isdigit()
    # Sorted by id, roles are interleaved: the id says nothing about the role.
    roles = [r for (r,) in world.rows(
        "SELECT role FROM truth WHERE side = 'sender' ORDER BY party_id")]
    first_buyer = roles.index("buyer")
    assert first_buyer < len(roles) - roles.count("buyer")


def test_the_ingest_accepts_every_row(world: Loaded, tmp_path: Path) -> None:
    from sentinelle.ingest import ingest_paths
    from sentinelle.warehouse import open_warehouse

    wh = open_warehouse(tmp_path / "wh.duckdb", memory_limit="1GB", threads=2)
    try:
        for table in ("transactions", "referrals"):
            [report] = ingest_paths(wh, table, [world.summary.paths[f"{table}.csv"]],
                                    user="test")
            assert report.status == "ingested", report.message
            assert report.quarantined == 0
            assert report.accepted == world.summary.rows[f"{table}.csv"]
    finally:
        wh.close()


@pytest.mark.slow
def test_scale_one_is_about_two_hundred_thousand_rows(tmp_path: Path) -> None:
    summary = generate_world(tmp_path, scale=1.0, seed=0)
    assert 160_000 <= summary.rows["transactions.csv"] <= 240_000
