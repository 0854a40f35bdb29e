"""Entity resolution on a small synthetic world, with two referrals written for the test:
one about a known sender (name reversed and misspelt, same phone), one about nobody."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.errors import SentinelleError, SettingsError
from sentinelle.ingest import ingest_paths
from sentinelle.resolve import cluster_quality, resolve, world_truth
from sentinelle.resolve.linkage import M
from sentinelle.settings import resolve as resolve_settings
from sentinelle.synth import generate_world
from sentinelle.warehouse import Warehouse, open_warehouse
from tests.conftest import referral, write_csv

# Seed 7 is in neither benchmark family (tuning 1-5, held-out 101-105).
SCALE, SEED = 0.1, 7
# Measured on this world when the model was first declared (docs/resolve.md): pairwise
# precision 0.90, recall 0.68, adjusted Rand 0.78 (38 true pairs). The floors sit a margin
# below, so that a harmless change in the generator passes and a real loss fails. Raise
# them as the model improves (issue 5 targets precision 0.98, recall 0.95).
FLOOR = {"pairwise_precision": 0.8, "pairwise_recall": 0.6, "adjusted_rand": 0.7}
# Blocking must keep the pairs compared proportional to the records, never their square.
PAIRS_PER_RECORD = 1.0

KNOWN = "referral:Interpol:IP-TEST-1"
NOBODY = "referral:Interpol:IP-TEST-2"
MISTYPED = "referral:Interpol:IP-TEST-3"
TWO_TIPS = ("referral:Interpol:IP-TEST-4", "referral:Europol:EP-TEST-5")


def _a_sender(world: Path) -> dict[str, str]:
    with (world / "transactions.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            first, _, last = row["sender_name"].partition(" ")
            if row["sender_phone"] and first.isalpha() and last.isalpha() and len(first) > 4:
                return row
    raise AssertionError("no sender with a plain two-word name")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("world")
    generate_world(folder / "w", SCALE, SEED)
    sender = _a_sender(folder / "w")
    first, _, last = sender["sender_name"].partition(" ")
    typo = first[0] + first[2] + first[1] + first[3:]  # two letters swapped
    extra = write_csv(folder / "extra_referrals.csv", [
        referral(1, referral_id="IP-TEST-1", source="Interpol", subject_name=f"{last.upper()} "
                 f"{typo}", subject_birth_date="", subject_email="",
                 subject_phone=sender["sender_phone"], subject_country=sender["sender_country"]),
        referral(2, referral_id="IP-TEST-2", source="Interpol", subject_name="Zebulon "
                 "Quartermaine", subject_birth_date="1933-01-01", subject_email="",
                 subject_phone="+33699999999", subject_country="FR"),
        # The sender's name with a letter of the surname doubled, and nothing else.
        referral(3, referral_id="IP-TEST-3", source="Interpol",
                 subject_name=f"{first} {last[:2]}{last[1:]}", subject_birth_date="",
                 subject_email="", subject_phone="", subject_country=sender["sender_country"]),
        # Two agencies' tips about one man the provider never served: an initial and a
        # surname with two letters swapped, the full name; only the birth date agrees.
        referral(4, referral_id="IP-TEST-4", source="Interpol", subject_name="BRIGTHWATER O",
                 subject_birth_date="1950-05-05", subject_email="", subject_phone="",
                 subject_country="FR"),
        referral(5, referral_id="EP-TEST-5", source="Europol",
                 subject_name="Octave Brightwater", subject_birth_date="1950-05-05",
                 subject_email="", subject_phone="", subject_country="FR"),
    ])
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [folder / "w" / "transactions.csv"], user="test")
        ingest_paths(wh, "referrals", [folder / "w" / "referrals.csv", extra], user="test")
        resolve(wh, user="test", threads=2)
    yield folder, sender


def _open(folder: Path) -> Warehouse:
    return open_warehouse(folder / "w.duckdb", read_only=True)


def _pair(wh: Warehouse, a: str, b: str, columns: str) -> list[tuple[Any, ...]]:
    """``columns`` of the scored pair of records ``a`` and ``b``: er_pairs as ``p``, the
    name's level as ``n``."""
    return wh.execute(f"""
        SELECT {columns} FROM er_pairs p
        JOIN er_levels n ON n.field = 'name' AND n.gamma = p.gamma_name
        WHERE ? IN (record_id_l, record_id_r) AND ? IN (record_id_l, record_id_r)""",
                      [a, b]).fetchall()


def test_blocking_keeps_the_pair_count_bounded(world: tuple[Path, dict[str, str]]) -> None:
    with _open(world[0]) as wh:
        records = wh.scalar("SELECT count(*) FROM er_records")
        pairs = wh.scalar("SELECT count(*) FROM er_pairs")
    assert records > 3000
    assert pairs <= PAIRS_PER_RECORD * records, (pairs, records)


def test_the_same_man_under_a_misspelt_reversed_name_is_one_subject_with_reasons(
        world: tuple[Path, dict[str, str]]) -> None:
    folder, sender = world
    sender_id = f"sender:{sender['provider']}:{sender['sender_id']}"
    with _open(folder) as wh:
        subjects = dict(wh.execute("SELECT record_id, subject_id FROM er_clusters "
                                   "WHERE record_id IN (?, ?)", [sender_id, KNOWN]).fetchall())
        pair = _pair(wh, sender_id, KNOWN, "p.match_probability, p.mw_phone, p.mw_name, "
                     "n.label")
    assert subjects[sender_id] == subjects[KNOWN]
    [(probability, phone, name, label)] = pair
    assert probability >= 0.9 and phone > 5 and name > 0, pair
    # A level for a misspelling, not an exact match nor "all other comparisons".
    assert label != "missing" and "other" not in label.lower() and "exact" not in label.lower()


def test_a_mistyped_name_nobody_carries_is_looked_for_one_slip_away(
        world: tuple[Path, dict[str, str]]) -> None:
    """The tip names the sender with a letter doubled, and carries no other field: no
    payment record has that name, so it is paired with the names one slip from it."""
    folder, sender = world
    sender_id = f"sender:{sender['provider']}:{sender['sender_id']}"
    with _open(folder) as wh:
        near = dict(wh.execute("SELECT record_id, near FROM er_records WHERE record_id IN "
                               "(?, ?)", [sender_id, MISTYPED]).fetchall())
        pair = _pair(wh, sender_id, MISTYPED, "p.blocked_on, n.label")
        unseen = wh.scalar("SELECT count(*) FROM er_records WHERE kind <> 'referral' "
                           "AND near IS NOT NULL AND NOT list_contains(near, record_id)")
    assert sender_id in near[MISTYPED] and MISTYPED in near[MISTYPED]
    assert near[sender_id] == [sender_id]
    assert pair == [("near", "one letter apart")]
    assert unseen == 0  # a payment record's list is only ever its own id


def test_two_tips_sharing_only_a_birth_date_are_compared_and_joined(
        world: tuple[Path, dict[str, str]]) -> None:
    with _open(world[0]) as wh:
        pair = _pair(wh, *TWO_TIPS, "p.blocked_on, p.match_probability")
        subjects = wh.execute("SELECT DISTINCT subject_id FROM er_clusters WHERE record_id "
                              "IN (?, ?)", list(TWO_TIPS)).fetchall()
        payments = wh.scalar("""
            SELECT count(*) FROM er_pairs p
            JOIN er_records l ON l.record_id = p.record_id_l
            JOIN er_records r ON r.record_id = p.record_id_r
            WHERE p.blocked_on = 'birth_date+country'
              AND (l.kind <> 'referral' OR r.kind <> 'referral')""")
    [(blocked_on, probability)] = pair
    assert blocked_on == "birth_date+country" and probability >= 0.9, pair
    assert len(subjects) == 1
    assert payments == 0  # the rule pairs two referrals, never a payment record


def test_different_people_stay_apart(world: tuple[Path, dict[str, str]]) -> None:
    folder = world[0]
    with _open(folder) as wh:
        alone = wh.scalar("SELECT cluster_size FROM er_clusters WHERE record_id = ?", [NOBODY])
        # A household's phone shared by two people under other names is no merge (a
        # facilitator collecting under a relative's name is: the truth tells them apart).
        shared = wh.execute(f"""
            SELECT record_id_l, record_id_r FROM er_pairs
            WHERE gamma_phone = {len(M["phone"]) - 1} -- the same phone
              AND gamma_name IN (0, {len(M["name"]) - 3}) -- other given names
              AND match_probability >= 0.9""").fetchall()
        records = {r: (k, i) for r, k, i in
                   wh.execute("SELECT record_id, kind, source_id FROM er_records").fetchall()}
    truth = world_truth(folder / "w", records)
    assert alone == 1
    assert shared, "a facilitator's relatives' names are merged on her phone"
    assert [(a, b) for a, b in shared if a in truth and b in truth
            and truth[a] != truth[b]] == []


def test_subject_ids_are_stable_across_runs(world: tuple[Path, dict[str, str]],
                                             tmp_path: Path) -> None:
    folder = world[0]
    with _open(folder) as wh:
        before = wh.execute("SELECT record_id, subject_id FROM er_clusters").fetchall()
    copy = tmp_path / "again.duckdb"
    copy.write_bytes((folder / "w.duckdb").read_bytes())
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        run = resolve(wh, user="test", threads=2)
        after = wh.execute("SELECT record_id, subject_id FROM er_clusters").fetchall()
        runs = wh.scalar("SELECT count(*) FROM er_runs")
    assert run.run_id == 2 and runs == 2
    assert sorted(after) == sorted(before)


def test_quality_floor_on_a_small_world(world: tuple[Path, dict[str, str]]) -> None:
    folder = world[0]
    with _open(folder) as wh:
        predicted = dict(wh.execute("SELECT record_id, subject_id FROM er_clusters").fetchall())
        records = {r: (k, i) for r, k, i in
                   wh.execute("SELECT record_id, kind, source_id FROM er_records").fetchall()}
    quality = cluster_quality(predicted, world_truth(folder / "w", records))
    assert quality.true_pairs >= 20
    for metric, floor in FLOOR.items():
        assert getattr(quality, metric) >= floor, quality


def test_the_command_prints_counts_and_the_largest_subjects(
        world: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    copy = tmp_path / "cli.duckdb"
    copy.write_bytes((world[0] / "w.duckdb").read_bytes())
    result = CliRunner().invoke(app, ["resolve", "--db", str(copy), "--threshold", "0.95"],
                                env={"COLUMNS": "200", "SENTINELLE_USER": "analyst1"})
    assert result.exit_code == 0, result.output
    assert "pairs compared" in result.output and "Largest subjects" in result.output
    assert "subj-" in result.output
    with open_warehouse(copy, read_only=True) as wh:
        assert wh.scalar("SELECT threshold FROM er_runs ORDER BY run_id DESC LIMIT 1") == 0.95
        assert wh.scalar("SELECT count(*) FROM access_log WHERE command = 'resolve' "
                         "AND \"user\" = 'analyst1'") == 1


def test_the_threshold_setting_is_the_default_and_the_option_wins(
        world: tuple[Path, dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "setting.duckdb"
    copy.write_bytes((world[0] / "w.duckdb").read_bytes())
    env = {"COLUMNS": "200", "SENTINELLE_RESOLVE_THRESHOLD": "0.97"}
    result = CliRunner().invoke(app, ["resolve", "--db", str(copy)], env=env)
    assert result.exit_code == 0, result.output
    with open_warehouse(copy, read_only=True) as wh:
        assert wh.scalar("SELECT threshold FROM er_runs ORDER BY run_id DESC LIMIT 1") == 0.97
    # The command hands its option to the settings as an override, which wins.
    monkeypatch.setenv("SENTINELLE_RESOLVE_THRESHOLD", "0.97")
    assert resolve_settings({"resolve_threshold": 0.95})["resolve_threshold"] == 0.95
    wrong = CliRunner().invoke(app, ["resolve", "--db", str(copy)],
                               env={"SENTINELLE_RESOLVE_THRESHOLD": "most"})
    assert isinstance(wrong.exception, SettingsError)
    assert wrong.exception.details == ["SENTINELLE_RESOLVE_THRESHOLD='most' is not a number"]


def test_a_threshold_outside_zero_and_one_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["resolve", "--db", str(tmp_path / "w.duckdb"),
                                      "--threshold", "1.5"])
    assert result.exit_code != 0


def test_judgements_outrank_the_model_on_reclustering(world: tuple[Path, dict[str, str]],
                                                      tmp_path: Path) -> None:
    """Not the same: the referral leaves the sender's subject; the same: the referral
    about nobody joins him. No retraining, the last run's pairs are clustered again."""
    import shutil

    from sentinelle.resolve.clusters import NOT_SAME, SAME, pair
    from sentinelle.resolve.run import recluster

    folder, sender = world
    sender_id = f"sender:{sender['provider']}:{sender['sender_id']}"
    copy = tmp_path / "copy.duckdb"
    shutil.copy(folder / "w.duckdb", copy)
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        result = recluster(wh, {pair(sender_id, KNOWN): NOT_SAME,
                                pair(sender_id, NOBODY): SAME})
        subjects = dict(wh.execute("SELECT record_id, subject_id FROM er_clusters "
                                   "WHERE record_id IN (?, ?, ?)",
                                   [sender_id, KNOWN, NOBODY]).fetchall())
        decided = dict(wh.execute("SELECT record_id, decided_by FROM er_clusters "
                                  "WHERE record_id IN (?, ?)", [sender_id, NOBODY]).fetchall())
    assert subjects[sender_id] != subjects[KNOWN]
    assert subjects[sender_id] == subjects[NOBODY]
    assert decided == {sender_id: "judgement", NOBODY: "judgement"}
    assert result.joined_by_judgement == 1 and result.refused_by_judgement >= 1


def test_reclustering_a_run_from_before_on_identifier_says_to_resolve_again(
        world: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    import shutil

    from sentinelle.resolve.run import recluster

    copy = tmp_path / "old.duckdb"
    shutil.copy(world[0] / "w.duckdb", copy)
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        wh.execute("ALTER TABLE er_pairs DROP COLUMN on_identifier")
        with pytest.raises(SentinelleError) as raised:
            recluster(wh, {})
    assert "on_identifier" in str(raised.value)
    assert "sentinelle resolve" in (raised.value.fix or "")
