"""``sentinelle report``: each format written, its SHA-256 in the audit log under the named
account (the chain still verifies), need-to-know for cases, and nothing written — and
nothing audited — when the export is refused."""

from __future__ import annotations

import hashlib
import json
import warnings

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.errors import Forbidden, NotFound, ReportInvalid, ReviewError
from sentinelle.report.export import EXPORTERS
from sentinelle.report.fincen import KEY_TERM
from sentinelle.review import audit, cases
from sentinelle.review.db import open_cases
from sentinelle.review.models import AuditEntry, User
from tests.report.conftest import ENTITY, FINCEN_XSD, GOAML_XSD

runner = CliRunner()
ENV = {"SENTINELLE_USER": "ops", "COLUMNS": "250"}


def report(world, fmt, out, *args):
    return runner.invoke(app, ["report", fmt, "--out", str(out), "--db", str(world.warehouse),
                               "--entity", str(ENTITY), *args], env=ENV)


def exports(world):
    engine, sessions = open_cases(world.cases_url, upgrade_first=False)
    with sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_report")
                               .order_by(AuditEntry.seq)).all()
        found = [(r.username, r.target, json.loads(r.detail)) for r in rows]
        intact = audit.verify(session).ok
    engine.dispose()
    assert intact
    return found


def _weasyprint() -> bool:
    try:
        with warnings.catch_warnings():  # see sentinelle.report.pack.render_pdf
            warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
            import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.mark.parametrize("fmt", [
    pytest.param(name, marks=[pytest.mark.skipif(
        not _weasyprint(), reason="WeasyPrint or pango is not installed"), pytest.mark.slow]
        if name == "pdf" else [])
    for name in sorted(EXPORTERS)])
def test_each_format_is_written_and_audited_with_its_hash(synth_world, tmp_path, fmt):
    key = synth_world.alert("facilitator")
    out = tmp_path / f"report{EXPORTERS[fmt].suffix}"
    result = report(synth_world, fmt, out, "--subject", f"{key.role}:{key.provider}:"
                    f"{key.party_id}", "--user", "ana")
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest in result.output
    user, target, detail = exports(synth_world)[-1]
    assert (user, target) == ("ana", key.target)
    assert detail["sha256"] == digest and detail["format"] == fmt
    assert detail["file"] == out.name and detail["bytes"] == out.stat().st_size
    assert list(tmp_path.iterdir()) == [out], "no temporary file left behind"


def _case(world, members=("ivy",)):
    engine, sessions = open_cases(world.cases_url, upgrade_first=False)
    with sessions() as session, world.view() as view:
        ivy = session.scalars(select(User).where(User.username == "ivy")).one()
        case = cases.create_case(session, ivy, "Corridor review",
                                 subjects=[world.alert("facilitator"), world.alert("buyer")],
                                 view=view)
        reference = case.reference
    engine.dispose()
    return reference


def test_case_export_and_need_to_know(synth_world, tmp_path):
    reference = _case(synth_world)
    out = tmp_path / "case.xml"
    ok = report(synth_world, "fincen", out, "--case", reference, "--user", "ivy",
                *(["--schema", str(FINCEN_XSD)] if FINCEN_XSD.exists() else []))
    assert ok.exit_code == 0, ok.output
    assert KEY_TERM.encode() in out.read_bytes()
    assert exports(synth_world)[-1][1] == f"case/{reference}"
    # bob is an analyst who is not on the case: for him it does not exist.
    refused = report(synth_world, "csv", tmp_path / "b.csv", "--case", reference,
                     "--user", "bob")
    assert isinstance(refused.exception, NotFound)
    assert not (tmp_path / "b.csv").exists()


@pytest.mark.parametrize(("args", "error"), [
    (["--user", "aud"], Forbidden),  # an auditor reads the log and exports nothing
    (["--user", "nobody"], NotFound),
    (["--user", "ana", "--case", "C-1999-0001"], ReviewError),  # both subject and case
])
def test_refused_exports_write_nothing_and_audit_nothing(synth_world, tmp_path, args, error):
    key = synth_world.alert("buyer")
    before = len(exports(synth_world))
    out = tmp_path / "r.csv"
    result = report(synth_world, "csv", out, "--subject",
                    f"{key.role}:{key.provider}:{key.party_id}", *args)
    assert isinstance(result.exception, error), result.output
    assert not out.exists() and len(exports(synth_world)) == before


@pytest.mark.skipif(not GOAML_XSD.exists(), reason=f"no goAML schema at {GOAML_XSD}")
def test_a_report_its_schema_rejects_is_not_written(synth_world, tmp_path):
    key = synth_world.alert("buyer")
    before = len(exports(synth_world))
    out = tmp_path / "g.xml"
    # A FinCEN SAR is not a goAML report: the goAML schema rejects it.
    result = report(synth_world, "fincen", out, "--subject",
                    f"{key.role}:{key.provider}:{key.party_id}", "--user", "ana",
                    "--schema", str(GOAML_XSD))
    assert isinstance(result.exception, ReportInvalid)
    assert not out.exists() and len(exports(synth_world)) == before
    good = report(synth_world, "goaml", out, "--subject",
                  f"{key.role}:{key.provider}:{key.party_id}", "--user", "ana",
                  "--schema", str(GOAML_XSD))
    assert good.exit_code == 0, good.output


def test_edited_reason_replaces_the_draft(synth_world, tmp_path):
    key = f"{synth_world.alert('buyer').role}:{synth_world.alert('buyer').provider}:" \
          f"{synth_world.alert('buyer').party_id}"
    draft = tmp_path / "reason.txt"
    assert report(synth_world, "reason", draft, "--subject", key, "--user", "ana").exit_code == 0
    assert "Indicators, strongest first" in draft.read_text("utf-8")
    draft.write_text("Edited by the analyst: réseau de paiements. ✓\n", "utf-8")
    out = tmp_path / "g.xml"
    result = report(synth_world, "goaml", out, "--subject", key, "--user", "ana",
                    "--reason-file", str(draft))
    assert result.exit_code == 0, result.output
    assert "Edited by the analyst: réseau de paiements. ✓" in out.read_text("utf-8")
    assert exports(synth_world)[-1][2]["reason_file"] == "reason.txt"
    refused = report(synth_world, "csv", tmp_path / "x.csv", "--subject", key, "--user",
                     "ana", "--reason-file", str(draft))
    assert isinstance(refused.exception, ReviewError)


def test_settings_prints_an_example_that_loads(tmp_path):
    result = runner.invoke(app, ["report", "settings"], env=ENV)
    assert result.exit_code == 0
    from sentinelle.report.entity import load_entity

    path = tmp_path / "entity.yaml"
    path.write_text(result.output, "utf-8")
    entity = load_entity(path)
    entity.require("goaml")
    entity.require("fincen")
