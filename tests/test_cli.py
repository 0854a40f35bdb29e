"""The command line end to end: a synthetic world generated, ingested and inspected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sentinelle.cli import app
from tests.conftest import txn, write_csv

runner = CliRunner()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sentinelle", *args], capture_output=True,
                          text=True, timeout=600)


def _all_commands() -> list[list[str]]:
    def walk(cmd: object, path: list[str]) -> list[list[str]]:
        found = [path]
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                found += walk(sub, path + [name])
        return found

    return walk(typer.main.get_command(app), [])


@pytest.mark.parametrize("command", _all_commands(), ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_world_to_warehouse_end_to_end(tmp_path):
    world, db = tmp_path / "world", tmp_path / "w.duckdb"
    made = run("synth", str(world), "--scale", "0.02", "--seed", "3")
    assert made.returncode == 0, made.stderr
    assert (world / "transactions.csv").exists() and (world / "truth.csv").exists()
    first = run("ingest", "transactions", str(world / "transactions.csv"), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "ingested" in first.stdout and "total" in first.stdout
    assert "Every file reconciles" in first.stdout
    refs = run("ingest", "referrals", str(world / "referrals.csv"), "--db", str(db))
    assert refs.returncode == 0, refs.stderr
    again = run("ingest", "transactions", str(world), "--db", str(db))
    assert "already ingested" in again.stdout
    status = run("status", "--db", str(db))
    assert status.returncode == 0 and "transactions" in status.stdout
    with (world / "transactions.csv").open() as fh:
        rows = sum(1 for _ in fh) - 1
    assert f"{rows:,}" in status.stdout


def test_errors_are_plain_words_with_a_fix(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("txn_id;amount;currency\nT1;5;EUR\n")
    result = run("ingest", "transactions", str(bad), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 1
    assert "semicolon" in result.stdout and "Traceback" not in result.stdout + result.stderr
    missing = run("status", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2
    assert "there is no warehouse" in missing.stderr and "Fix:" in missing.stderr


def test_quarantine_files_and_trace_commands(tmp_path):
    db = tmp_path / "w.duckdb"
    path = write_csv(tmp_path / "t.csv", [txn(1), txn(2, amount="-1"), txn(3)])
    result = runner.invoke(app, ["ingest", "transactions", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    q = runner.invoke(app, ["quarantine", "--db", str(db)])
    assert "greater than zero" in q.output and "amount" in q.output
    f = runner.invoke(app, ["files", "--db", str(db)])
    assert "t.csv" in f.output
    t = runner.invoke(app, ["trace", "T000003", "--db", str(db)])
    assert "line 4" in t.output


def test_timings_show_every_step(tmp_path):
    path = write_csv(tmp_path / "t.csv", [txn(1), txn(2)])
    result = runner.invoke(app, ["ingest", "transactions", str(path), "--timings",
                                 "--db", str(tmp_path / "w.duckdb")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for step in ("reading and fingerprinting", "checking required fields", "writing"):
        assert step in result.output


def test_docs_check_passes_on_the_committed_pages():
    root = Path(__file__).resolve().parents[1]
    result = runner.invoke(app, ["docs", "check", "--folder", str(root / "docs")])
    assert result.exit_code == 0, result.output


def test_commands_that_show_rows_record_who_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTINELLE_USER", "analyst.one")
    db = tmp_path / "w.duckdb"
    path = write_csv(tmp_path / "t.csv", [txn(1), txn(2, amount="-1")])
    assert runner.invoke(app, ["ingest", "transactions", str(path), "--db", str(db)]).exit_code == 0
    runner.invoke(app, ["trace", "T000001", "--db", str(db)])
    runner.invoke(app, ["quarantine", "--file", "1", "--db", str(db)])
    log = runner.invoke(app, ["access", "--db", str(db)], env={"COLUMNS": "200"})
    assert log.exit_code == 0, log.output
    assert "analyst.one" in log.output
    assert "transactions T000001" in log.output and "file #1" in log.output


def test_a_full_disk_is_said_with_what_to_change(monkeypatch, capsys):
    import duckdb

    import sentinelle.cli as cli

    def full() -> None:
        raise duckdb.IOException('IO Error: Could not write file "w.duckdb.tmp/t.tmp": '
                                 "No space left on device")

    monkeypatch.setattr(cli, "app", full)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and "SENTINELLE_MEMORY_LIMIT" in err


def test_any_other_unexpected_error_is_not_hidden(monkeypatch):
    import sentinelle.cli as cli

    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "app", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main()
