"""The commands: sentinelle ingest comms, sentinelle sessions, sentinelle timeline."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import open_warehouse
from tests.comms.conftest import FIXTURES
from tests.conftest import txn, write_csv

runner = CliRunner(env={"COLUMNS": "250"})  # wide enough that rich wraps no cell


def test_ingest_sessions_and_timeline(tmp_path: Path):
    db = str(tmp_path / "w.duckdb")
    rows = [txn(1, timestamp="2024-03-12T20:00:00Z", sender_id="S0001", beneficiary_id="B0001",
                sender_phone="+61 491 570 156", beneficiary_phone="0917 555 0123")]
    with open_warehouse(db) as wh:
        ingest_paths(wh, "transactions", [write_csv(tmp_path / "t.csv", rows)], user="t")
    ambiguous = runner.invoke(app, ["ingest", "comms", str(FIXTURES / "whatsapp_ambiguous.txt"),
                                    "--format", "whatsapp", "--tz", "UTC", "--db", db])
    assert ambiguous.exit_code == 1 and "ambiguous" in ambiguous.output
    done = runner.invoke(app, ["ingest", "comms", str(FIXTURES / "generic.csv"), "--format",
                               "csv", "--tz", "Europe/Paris", "--db", db])
    assert done.exit_code == 0, done.output
    assert "reconciles" in done.output
    terms = tmp_path / "terms.txt"
    terms.write_text("placeholder\n", encoding="utf-8")
    sessions = runner.invoke(app, ["sessions", "--db", db, "--lexicon", str(terms)])
    assert sessions.exit_code == 0, sessions.output
    assert "sessions (one call per payment): 1" in " ".join(sessions.output.split())
    assert "S0001" in sessions.output and "B0001" in sessions.output
    shown = runner.invoke(app, ["timeline", "--party", "buyer:ExampleRemit:S0001", "--tz",
                                "Europe/Paris", "--lexicon", str(terms), "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "2024-03-12 21:30:00" in shown.output  # the call, in Paris time
    assert "lexicon: placeholder" in shown.output
    with open_warehouse(db) as wh:
        assert wh.scalar("SELECT count(*) FROM access_log WHERE command IN "
                         "('timeline', 'sessions')") == 2
