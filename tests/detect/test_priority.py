"""Subjects by priority (detect/priority.py): children at risk now first, the reasons add
up to the priority, and the order follows the declared points."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.detect import detect, load_catalogue
from sentinelle.detect.priority import ACTIVE_DAYS, POINTS, as_of_default, prioritise
from sentinelle.ingest import ingest_paths
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse

SCALE, SEED = 0.05, 7


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("priority")
    generate_world(folder / "w", SCALE, SEED)
    path = folder / "w.duckdb"
    with open_warehouse(path, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv"], user="test")
        detect(wh, load_catalogue(), user="test")
    return path


def test_every_alerted_subject_once_highest_first(db: Path) -> None:
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ranked = prioritise(wh)
        alerted = wh.scalar("SELECT count(DISTINCT (provider, party_id)) FROM det_alerts")
    assert len(ranked) == alerted > 0
    assert [p.rank for p in ranked] == list(range(1, len(ranked) + 1))
    assert [p.priority for p in ranked] == sorted((p.priority for p in ranked), reverse=True)


def test_the_reasons_add_up_to_the_priority(db: Path) -> None:
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ranked = prioritise(wh)
    for p in ranked:
        points = [float(m) for r in p.reasons for m in re.findall(r"\(\+(\d+)\)$", r)]
        assert len(points) == len(p.reasons)
        # Each reason shows its points rounded to a whole number.
        assert sum(points) == pytest.approx(p.priority, abs=0.5 * len(points) + 1e-9)
        assert any(r.startswith(f"score {p.score:.2f}") for r in p.reasons)


def test_children_at_risk_now_come_first(db: Path) -> None:
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ranked = prioritise(wh)
        now = as_of_default(wh)
        assert now is not None
        active = {(p, i) for p, i in wh.execute(
            "SELECT provider, party_id FROM det_alerts WHERE role = 'facilitator' "
            "AND last_payment_at >= ?", [now - timedelta(days=ACTIVE_DAYS)]).fetchall()}
    at_risk = [p for p in ranked if p.at_risk_now]
    assert at_risk, "no subject at risk now on this world"
    for p in ranked:
        if "facilitator" in p.roles and (p.provider, p.party_id) in active:
            assert p.at_risk_now and p.at_risk_now.startswith("received money")
    # At risk now is worth more than anything but the score can make up: a subject at
    # risk now is never below one that is not with the same or a lower score.
    for risky in at_risk:
        for calm in ranked:
            if not calm.at_risk_now and calm.score <= risky.score \
                    and len(calm.referral_sources) <= len(risky.referral_sources):
                assert risky.priority > calm.priority


def test_a_late_day_makes_nobody_active(db: Path) -> None:
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        now = as_of_default(wh)
        assert now is not None
        later = prioritise(wh, now + timedelta(days=10 * ACTIVE_DAYS))
    assert later and not any(p.at_risk_now for p in later)
    assert all(not any(r.startswith("last payment") for r in p.reasons) for p in later)
    assert POINTS["at_risk_now"] > 0


def test_the_command_lists_them_with_reasons(db: Path) -> None:
    result = CliRunner().invoke(app, ["subjects", "--db", str(db), "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    assert len(lines) == 3 and '"reasons"' in lines[0]
    table = CliRunner().invoke(app, ["subjects", "--db", str(db), "--limit", "2"])
    assert table.exit_code == 0 and "by priority" in table.output
