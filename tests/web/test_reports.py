"""Reports in the web application, four eyes: drafted by one person, approved by a
supervisor who is not the author, then exported once and downloaded again by its hash;
need to know on a case's reports; every step in the audit log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from sentinelle.report.xmltools import validate
from sentinelle.review import accounts
from sentinelle.review.models import AuditEntry, ReportDraft
from sentinelle.review.subjects import PartyKey
from tests.web.conftest import PASSWORD, Site, assert_error_shape, form_token

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
GOAML_XSD = REFERENCE / "goaml" / "goAMLSchema-5.0.2.xsd"


@pytest.fixture(autouse=True)
def entity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fictitious reporting entity the report tests use (goAML needs one)."""
    monkeypatch.setenv("SENTINELLE_REPORTING_ENTITY", str(FIXTURES / "entity.yaml"))


@pytest.fixture(scope="module")
def sam(site: Site) -> str:
    """A second supervisor: the one who approves what sue drafts."""
    with site.sessions()() as session:
        accounts.create_user(session, "sam", "supervisor", PASSWORD, display_name="Sam")
        session.commit()
    return "sam"


@pytest.fixture(scope="module")
def facilitator(site: Site) -> PartyKey:
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        row = con.execute("SELECT role, provider, party_id FROM det_alerts "
                          "WHERE role = 'facilitator' ORDER BY alert_no LIMIT 1").fetchone()
    assert row is not None
    return PartyKey(*row)


@pytest.fixture(scope="module")
def case_id(as_user, facilitator: PartyKey) -> int:
    """Opened by the investigator ivy with the top facilitator; bob and ian are not on it."""
    made = as_user("ivy").api("POST", "/api/cases", json={
        "title": "Operation Heron", "subjects": [dict(zip(
            ("role", "provider", "party_id"), facilitator, strict=True))]})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _draft(client: Any, fmt: str, **about: Any) -> dict[str, Any]:
    made = client.api("POST", "/api/reports", json={"format": fmt, **about})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _post(client: Any, draft_id: int, step: str, **body: Any) -> Any:
    return client.api("POST", f"/api/reports/{draft_id}/{step}", json=body or None)


def _audit(site: Site, action: str, report: int) -> list[AuditEntry]:
    with site.sessions()() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                               .order_by(AuditEntry.seq)).all()
        return [r for r in rows if json.loads(r.detail).get("report") == report]


def test_the_author_cannot_approve_another_supervisor_can(site: Site, as_user, sam: str,
                                                          facilitator: PartyKey) -> None:
    sue = as_user("sue")
    subject = dict(zip(("role", "provider", "party_id"), facilitator, strict=True))
    draft = _draft(sue, "goaml", subject=subject)
    assert draft["status"] == "draft" and draft["author"] == "sue"
    assert draft["narrative"] and draft["narrative"] == draft["narrative_drafted"]
    assert draft["may"] == ["edit", "submit"]
    assert _post(sue, draft["id"], "submit").json()["status"] == "submitted"

    refused = _post(sue, draft["id"], "approve")  # sue may approve, but not her own
    assert_error_shape(refused, 403, "Forbidden")
    assert "four eyes" in refused.json()["message"]
    assert_error_shape(_post(sue, draft["id"], "return", comment="fine"), 403, "Forbidden")
    assert_error_shape(_post(as_user("ivy"), draft["id"], "approve"), 403, "Forbidden")

    approved = _post(as_user(sam), draft["id"], "approve", comment="checked the sources")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["reviewer"], body["review_comment"]) == (
        "approved", "sam", "checked the sources")
    [entry] = _audit(site, "approve_report", draft["id"])
    assert (entry.username, entry.target) == ("sam", facilitator.target)
    assert json.loads(entry.detail)["narrative_sha256"] == hashlib.sha256(
        draft["narrative"].encode()).hexdigest()
    assert _audit(site, "approve_report", draft["id"])[0].role == "supervisor"


def test_a_returned_draft_is_edited_and_submitted_again(site: Site, as_user, sam: str,
                                                        case_id: int) -> None:
    ivy, sue = as_user("ivy"), as_user("sue")
    draft = _draft(ivy, "fincen", case_id=case_id)
    assert draft["case"]["id"] == case_id and draft["scope"] == "case"
    assert_error_shape(_post(sue, draft["id"], "approve"), 400, "ReviewError")  # a draft
    assert _post(ivy, draft["id"], "submit").status_code == 200
    # Submitted: read only, for its author too.
    assert_error_shape(_post(ivy, draft["id"], "narrative", text="new"), 400, "ReviewError")
    assert_error_shape(_post(sue, draft["id"], "return"), 400, "ReviewError")  # no reason
    returned = _post(sue, draft["id"], "return", comment="name the corridor")
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "name the corridor"

    assert_error_shape(_post(sue, draft["id"], "narrative", text="mine"), 403, "Forbidden")
    text = draft["narrative"] + "\nThe payments run from France to the Philippines."
    edited = _post(ivy, draft["id"], "narrative", text=text)
    assert edited.status_code == 200, edited.text
    assert edited.json()["edited"] and edited.json()["narrative"] == text.strip()
    assert edited.json()["narrative_drafted"] == draft["narrative"]
    assert_error_shape(_post(ivy, draft["id"], "narrative", text="x" * 20_000), 400,
                       "ReviewError")  # FinCEN's limit
    assert _post(ivy, draft["id"], "submit").json()["status"] == "submitted"
    final = _post(sue, draft["id"], "approve")
    assert final.json()["status"] == "approved"
    history = [(e["action"], e["by"], e["to"]) for e in final.json()["events"]]
    assert history == [("create", "ivy", "draft"), ("submit", "ivy", "submitted"),
                       ("return", "sue", "returned"), ("edit", "ivy", "returned"),
                       ("submit", "ivy", "submitted"), ("approve", "sue", "approved")]
    assert final.json()["events"][2]["comment"] == "name the corridor"
    for action in ("create_report", "submit_report", "return_report", "edit_report",
                   "approve_report"):
        assert _audit(site, action, draft["id"]), action


def test_export_only_when_approved_then_download_by_hash(site: Site, as_user, sam: str,
                                                         case_id: int) -> None:
    ivy, sue = as_user("ivy"), as_user("sue")
    draft = _draft(ivy, "goaml", case_id=case_id)
    assert_error_shape(_post(ivy, draft["id"], "export"), 400, "ReviewError")
    _post(ivy, draft["id"], "submit")
    assert_error_shape(_post(ivy, draft["id"], "export"), 400, "ReviewError")
    assert_error_shape(ivy.get(f"/api/reports/{draft['id']}/download"), 404, "NotFound")
    _post(sue, draft["id"], "approve")
    assert "export" in ivy.get(f"/api/reports/{draft['id']}").json()["may"]

    exported = _post(ivy, draft["id"], "export")
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["status"] == "exported" and body["exported_by"] == "ivy"
    assert body["export_filename"].endswith("-goaml.xml")
    assert_error_shape(_post(ivy, draft["id"], "export"), 400, "ReviewError")  # once

    got = ivy.get(f"/api/reports/{draft['id']}/download")
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment")
    assert hashlib.sha256(got.content).hexdigest() == body["export_sha256"] \
        == got.headers["x-content-sha256"]
    assert body["export_bytes"] == len(got.content)
    assert b"<report" in got.content and draft["narrative"].splitlines()[0].encode() \
        in got.content
    again = sue.get(f"/api/reports/exports/{body['export_sha256']}")
    assert again.status_code == 200 and again.content == got.content
    assert_error_shape(sue.get(f"/api/reports/exports/{'0' * 64}"), 404, "NotFound")

    [export] = _audit(site, "export_report", draft["id"])
    detail = json.loads(export.detail)
    assert (export.username, export.target) == ("ivy", f"case/{body['case']['reference']}")
    assert (detail["sha256"], detail["format"], detail["author"], detail["approved_by"]) == (
        body["export_sha256"], "goaml", "ivy", "sue")
    downloads = _audit(site, "download_report", draft["id"])
    assert [d.username for d in downloads] == ["ivy", "sue"]

    if not GOAML_XSD.exists():
        pytest.skip(f"the goAML schema is not at {GOAML_XSD} (shared/reference is absent)")
    validate(got.content, GOAML_XSD)


def test_a_stored_export_that_was_altered_is_refused(site: Site, as_user, sam: str,
                                                     case_id: int) -> None:
    ivy = as_user("ivy")
    draft = _draft(ivy, "csv", case_id=case_id)
    assert draft["narrative"] is None and draft["may"] == ["submit"]
    _post(ivy, draft["id"], "submit")
    _post(as_user("sue"), draft["id"], "approve")
    sha = _post(ivy, draft["id"], "export").json()["export_sha256"]
    stored = site.folder / "case-files" / "reports" / sha
    assert stored.read_bytes().startswith("\ufeff".encode())  # the CSV's byte-order mark
    stored.write_bytes(stored.read_bytes() + b"x")
    refused = ivy.get(f"/api/reports/{draft['id']}/download")
    assert_error_shape(refused, 400, "ReviewError")
    assert "altered" in refused.json()["message"]


def test_a_report_drafted_before_detection_ran_again_is_not_exported(
        site: Site, as_user, sam: str, facilitator: PartyKey) -> None:
    ivy = as_user("ivy")
    subject = dict(zip(("role", "provider", "party_id"), facilitator, strict=True))
    draft = _draft(ivy, "graphml", subject=subject)
    _post(ivy, draft["id"], "submit")
    _post(as_user("sue"), draft["id"], "approve")
    with site.sessions()() as session:
        row = session.get(ReportDraft, draft["id"])
        assert row is not None
        row.run_id = "an-earlier-run"
        session.commit()
    refused = _post(ivy, draft["id"], "export")
    assert_error_shape(refused, 400, "ReviewError")
    assert "detection has run again" in refused.json()["message"]
    assert ivy.get(f"/api/reports/{draft['id']}").json()["covers"] == {"stale": True}


def test_need_to_know_on_a_case_s_reports(site: Site, as_user, sam: str,
                                          case_id: int) -> None:
    ivy = as_user("ivy")
    draft = _draft(ivy, "ftm", case_id=case_id)
    for outsider in ("bob", "ian"):  # an analyst and an investigator not on the case
        client = as_user(outsider)
        assert_error_shape(client.get(f"/api/reports/{draft['id']}"), 404, "NotFound")
        assert client.get(f"/reports/{draft['id']}").status_code == 404
        listed = client.get("/api/reports").json()["reports"]
        assert draft["id"] not in [r["id"] for r in listed]
        assert_error_shape(client.api("POST", "/api/reports", json={
            "format": "ftm", "case_id": case_id}), 404, "NotFound")
    assert draft["id"] in [r["id"] for r in as_user("sue").get("/api/reports").json()[
        "reports"]]  # supervisors see every case
    for role_user in ("aud", "adm"):
        assert_error_shape(as_user(role_user).get("/api/reports"), 403, "Forbidden")
        assert_error_shape(as_user(role_user).get(f"/api/reports/{draft['id']}"), 403,
                           "Forbidden")
    views = _audit(site, "view_report", draft["id"])
    assert [v.username for v in views] == []  # the refused views saw nothing
    ivy.get(f"/api/reports/{draft['id']}")
    assert [v.username for v in _audit(site, "view_report", draft["id"])] == ["ivy"]


def test_a_request_needs_a_facilitator_and_an_unknown_format_is_refused(
        as_user, site: Site) -> None:
    ana = as_user("ana")
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        row = con.execute("SELECT role, provider, party_id FROM det_alerts "
                          "WHERE role = 'buyer' ORDER BY alert_no LIMIT 1").fetchone()
    buyer = dict(zip(("role", "provider", "party_id"), row, strict=True))
    refused = ana.api("POST", "/api/reports", json={"format": "request", "subject": buyer})
    assert_error_shape(refused, 400, "ReviewError")
    assert "no facilitator" in refused.json()["message"]
    assert_error_shape(ana.api("POST", "/api/reports", json={"format": "reason",
                                                             "subject": buyer}), 422)
    assert_error_shape(ana.api("POST", "/api/reports", json={"format": "csv"}), 400,
                       "ReviewError")


def test_the_pages_draft_edit_submit_approve_and_export(site: Site, as_user, sam: str,
                                                        facilitator: PartyKey,
                                                        case_id: int) -> None:
    ivy, sue = as_user("ivy"), as_user("sue")
    subject_page = ivy.get(f"/subjects/{facilitator.token}").text
    assert "Draft a report" in subject_page and "/reports/new?subject=" in subject_page
    case_page = ivy.get(f"/cases/{case_id}").text
    assert f'href="/reports/new?case={case_id}"' in case_page

    form = ivy.get(f"/reports/new?case={case_id}")
    assert form.status_code == 200 and 'value="goaml"' in form.text
    assert "Operation Heron" in form.text
    assert ivy.post_form("/reports/new", {"format": "pack", "case": str(case_id)},
                         csrf=False).status_code == 403
    made = ivy.post_form("/reports/new", {"format": "pack", "case": str(case_id)})
    assert made.status_code == 303
    path = made.headers["location"].split("?")[0]
    draft_id = int(path.rsplit("/", 1)[1])

    page = ivy.get(path).text
    assert "<textarea" in page and "Submit for approval" in page and "Approve" not in page
    assert "What it covers" in page and "Source file" in page
    assert form_token(page) == ivy.csrf
    ivy.post_form(f"{path}/narrative", {"text": "A short narrative <b>kept as text</b>."})
    ivy.post_form(f"{path}/submit")
    assert "<textarea id=\"r-text\"" not in ivy.get(path).text  # read only once submitted

    review = sue.get(path).text
    assert "Approve" in review and "Return to the author" in review
    assert "&lt;b&gt;kept as text&lt;/b&gt;" in review
    assert sue.post_form(f"{path}/approve", {"comment": ""}).status_code == 303
    listed = sue.get("/reports?status=approved").text
    assert f'href="/reports/{draft_id}"' in listed
    assert f'href="/reports/{draft_id}"' not in sue.get("/reports?status=draft").text

    assert sue.post_form(f"{path}/export").status_code == 303
    done = sue.get(path).text
    assert "download" in done and "SHA-256" in done
    got = sue.get(f"{path}/download")
    assert got.status_code == 200 and got.content[:2] == b"PK"  # the pack is a ZIP
    assert "Reports" in sue.get("/reports").text
    assert [e.username for e in site_entries(site, "list_reports")][-2:] == ["sue", "sue"]


def site_entries(site: Site, action: str) -> list[AuditEntry]:
    with site.sessions()() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.seq)))
