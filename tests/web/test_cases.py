"""Cases and need to know: who sees a case, on the page and through the API; files kept
once under their SHA-256; every role gets what it should and nothing else."""

from __future__ import annotations

import hashlib
import os
import stat

import duckdb
import pytest
from sqlalchemy import select

from sentinelle.review import audit
from sentinelle.review.models import CaseFile
from tests.web.conftest import Site, assert_error_shape


@pytest.fixture(scope="module")
def subject(site: Site) -> dict:
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        role, provider, pid = con.execute(
            "SELECT role, provider, party_id FROM det_alerts WHERE role = 'facilitator' "
            "AND rank = 1").fetchone()
    return {"role": role, "provider": provider, "party_id": pid}


@pytest.fixture(scope="module")
def case_id(site: Site, as_user, subject) -> int:
    """Opened by the analyst ana with one subject; the investigator ivy added to it."""
    ana = as_user("ana")
    made = ana.api("POST", "/api/cases", json={"title": "Operation Lantern",
                                               "subjects": [subject]})
    assert made.status_code == 201, made.text
    case = made.json()
    assert [m["username"] for m in case["members"]] == ["ana"]
    assert case["history"][0]["to"] == "open"
    sue = as_user("sue")  # a supervisor sees every case and may add members
    added = sue.api("POST", f"/api/cases/{case['id']}/members", json={"username": "ivy"})
    assert added.status_code == 200, added.text
    return int(case["id"])


@pytest.mark.parametrize("username", ["ana", "ivy", "sue"])
def test_members_and_supervisors_see_the_case(site: Site, as_user, case_id: int,
                                              username: str) -> None:
    client = as_user(username)
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Operation Lantern" in page.text
    assert client.get(f"/api/cases/{case_id}").json()["title"] == "Operation Lantern"
    assert case_id in [c["id"] for c in client.get("/api/cases").json()["cases"]]


@pytest.mark.parametrize("username", ["bob", "ian"])
def test_others_get_not_found_on_the_page_and_the_api(site: Site, as_user, case_id: int,
                                                      subject, username: str) -> None:
    """An analyst and an investigator who are not on the case: it does not exist."""
    bob = as_user(username)
    assert bob.get(f"/cases/{case_id}").status_code == 404
    assert_error_shape(bob.get(f"/api/cases/{case_id}"), 404, "NotFound")
    assert_error_shape(bob.get(f"/api/cases/{case_id}/files/1"), 404, "NotFound")
    if username == "ian":  # may change cases, but not this one
        assert_error_shape(bob.api("POST", f"/api/cases/{case_id}/notes",
                                   json={"text": "x"}), 404, "NotFound")
        assert bob.post_form(f"/cases/{case_id}/notes", {"text": "x"}).status_code == 404
    assert bob.get("/api/cases").json()["cases"] == []
    # the subject page does not list the case either
    provider = subject["provider"].replace(" ", "%20")
    data = bob.get(f"/api/subjects/facilitator/{provider}/{subject['party_id']}").json()
    assert data["cases"] == []
    seen = as_user("ana").get(f"/api/subjects/facilitator/{provider}/"
                              f"{subject['party_id']}").json()
    assert [c["id"] for c in seen["cases"]] == [case_id]


def test_an_analyst_member_reads_but_does_not_change_the_case(site: Site, as_user,
                                                              case_id: int) -> None:
    refused = as_user("ana").api("POST", f"/api/cases/{case_id}/notes",
                                 json={"text": "a note"})
    assert_error_shape(refused, 403, "Forbidden")


AUDITOR_REFUSED = ["/queue", "/search?q=maria", "/cases", "/admin/users", "/api/alerts",
                   "/api/search?q=maria", "/api/cases", "/api/users"]


def test_the_auditor_reads_the_audit_log_and_nothing_else(site: Site, as_user,
                                                          case_id: int, subject) -> None:
    aud = as_user("aud")
    provider = subject["provider"].replace(" ", "%20")
    refused = AUDITOR_REFUSED + [
        f"/cases/{case_id}", f"/api/cases/{case_id}",
        f"/subjects/facilitator/{provider}/{subject['party_id']}",
        f"/api/subjects/facilitator/{provider}/{subject['party_id']}"]
    for path in refused:
        response = aud.get(path)
        assert response.status_code == 403, (path, response.status_code)
        if path.startswith("/api"):
            assert set(response.json()) == {"error", "message", "fix", "details"}
    assert aud.get("/", follow_redirects=False).headers["location"] == "/audit"
    page = aud.get("/audit?action=create_case")
    assert page.status_code == 200 and "case/C-" in page.text
    log = aud.get("/api/audit", params={"user": "ana", "action": "create_case"}).json()
    assert log["total"] == 1 and log["entries"][0]["detail"]["title"] == "Operation Lantern"


def test_the_admin_manages_accounts_and_sees_no_case_data(site: Site, as_user) -> None:
    adm = as_user("adm")
    assert adm.get("/admin/users").status_code == 200
    assert {u["username"] for u in adm.get("/api/users").json()["users"]} >= {"ana", "aud"}
    for path in ("/queue", "/api/alerts", "/audit", "/api/audit"):
        assert adm.get(path).status_code == 403, path
    with site.sessions()() as session:
        assert audit.entries(session, user="adm", action="view_users")


def test_a_file_is_stored_once_under_its_sha256(site: Site, as_user, case_id: int) -> None:
    ivy = as_user("ivy")
    content = b"bank return, page 1\n" * 100
    digest = hashlib.sha256(content).hexdigest()
    for name in ("return.txt", "return-copy.txt"):
        stored = ivy.api("POST", f"/api/cases/{case_id}/files",
                         files={"file": (name, content, "text/plain")})
        assert stored.status_code == 201, stored.text
        assert stored.json()["sha256"] == digest
    files_dir = site.folder / "case-files"
    on_disk = [p for p in files_dir.iterdir() if not p.name.startswith(".")]
    assert [p.name for p in on_disk] == [digest]
    assert on_disk[0].read_bytes() == content
    assert not os.stat(on_disk[0]).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with site.sessions()() as session:
        rows = session.scalars(select(CaseFile).where(CaseFile.case_id == case_id)).all()
    assert {(r.filename, r.sha256, r.size) for r in rows} == {
        ("return.txt", digest, len(content)), ("return-copy.txt", digest, len(content))}
    got = ivy.get(f"/cases/{case_id}/files/{rows[0].id}")
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-sha256"] == digest
    page = ivy.get(f"/cases/{case_id}").text
    assert digest in page and "return-copy.txt" in page


def test_a_tampered_file_is_refused_on_download(site: Site, as_user, case_id: int) -> None:
    ivy = as_user("ivy")
    stored = ivy.api("POST", f"/api/cases/{case_id}/files",
                     files={"file": ("later.txt", b"original", "text/plain")}).json()
    path = site.folder / "case-files" / stored["sha256"]
    os.chmod(path, 0o644)
    path.write_bytes(b"altered")
    assert_error_shape(ivy.get(f"/api/cases/{case_id}/files/{stored['id']}"), 400,
                       "ReviewError")


def test_notes_status_and_subjects_from_the_pages(site: Site, as_user, case_id: int) -> None:
    ivy = as_user("ivy")
    assert ivy.post_form(f"/cases/{case_id}/notes", {"text": "Called the bank."}
                         ).status_code == 303
    refused = ivy.post_form(f"/cases/{case_id}/status", {"status": "investigating",
                                                         "reason": ""})
    assert refused.status_code == 400 and "reason is required" in refused.text
    moved = ivy.post_form(f"/cases/{case_id}/status", {"status": "investigating",
                                                       "reason": "bank returns requested"})
    assert moved.status_code == 303
    case = ivy.get(f"/api/cases/{case_id}").json()
    assert case["status"] == "investigating"
    assert [(h["from"], h["to"]) for h in case["history"]] == [
        (None, "open"), ("open", "investigating")]
    assert case["notes"][-1] == {"author": "ivy", "at": case["notes"][-1]["at"],
                                 "text": "Called the bank."}
    assert ivy.api("POST", f"/api/cases/{case_id}/files", files={
        "file": ("bank-letter.txt", b"placeholder", "text/plain")}).status_code == 201
    with site.sessions()() as session:
        actions = {e.action for e in audit.entries(session, user="ivy", limit=1000)}
    assert {"view_case", "add_note", "change_case_status", "attach_file"} <= actions


def test_an_analyst_hands_an_alert_on_in_a_new_case(site: Site, as_user, subject) -> None:
    bob = as_user("bob")
    provider = subject["provider"].replace(" ", "%20")
    done = bob.post_form(f"/subjects/facilitator/{provider}/{subject['party_id']}/case",
                         {"title": "Hand-over"})
    assert done.status_code == 303 and done.headers["location"].startswith("/cases/")
    case = bob.get("/api" + done.headers["location"].split("?")[0]).json()
    assert [s["party_id"] for s in case["subjects"]] == [subject["party_id"]]


def test_an_id_too_large_for_the_database_is_a_clean_refusal(as_user) -> None:
    client = as_user("sue")
    for path in ("/cases/99999999999999999999", "/cases/1/files/99999999999999999999"):
        response = client.get(path)
        assert response.status_code == 422, (path, response.status_code)
