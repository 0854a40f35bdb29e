"""The timeline pages and API: a party's payments, messages, calls, referrals and case
notes on one axis; filters, zones, term-list highlights; need-to-know and the audit log;
handles attached by hand (a judgement, audited, undoable) and read by the pairing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.pairing import pair_sessions
from sentinelle.detect import detect, load_catalogue
from sentinelle.ingest import ingest_paths
from sentinelle.review import handles
from sentinelle.review.models import AuditEntry
from sentinelle.review.timeline import highlight
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from tests.web.conftest import Client, Site, assert_error_shape, form_token, make_site

SCALE, SEED = 0.05, 7


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A small world with its calls and messages, paired and detected."""
    folder = tmp_path_factory.mktemp("timeline")
    world = generate_world(folder / "w", SCALE, SEED)
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [world.paths["transactions.csv"]], user="test")
        ingest_paths(wh, "referrals", [world.paths["referrals.csv"]], user="test")
        ingest_file(wh, get("csv"), world.paths["comms.csv"], Options(), user="test")
        pair_sessions(wh)
        detect(wh, load_catalogue(), user="test")
    return make_site(folder, db)


@pytest.fixture(scope="module")
def ana(site: Site) -> Client:
    return site.client("ana")


def _query(site: Site, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with open_warehouse(site.warehouse, memory_limit="1GB", threads=1) as wh:
        return wh.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def buyer(site: Site) -> tuple[str, str]:
    """The buyer with the most sessions: (provider, party_id)."""
    provider, party = _query(site, "SELECT provider, buyer_id FROM comm_sessions "
                                   "GROUP BY ALL ORDER BY count(*) DESC, 2 LIMIT 1")[0]
    return provider, party


def _path(buyer: tuple[str, str], api: bool = False) -> str:
    return ("/api" if api else "") + f"/timeline/buyer/{buyer[0]}/{buyer[1]}"


def _audited(site: Site, action: str) -> list[AuditEntry]:
    with site.sessions()() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_payments_and_calls_on_one_axis_oldest_first(site: Site, ana: Client,
                                                     buyer: tuple[str, str]) -> None:
    data = ana.get(_path(buyer, api=True)).json()
    events = data["events"]
    kinds = {e["kind"] for e in events}
    assert {"payment", "video_call"} <= kinds
    times = [e["at"] for e in events]
    assert times == sorted(times)
    payments = _query(site, "SELECT count(*) FROM transactions WHERE provider = ? AND "
                            "sender_id = ?", list(buyer))[0][0]
    assert data["counts"]["payment"] == payments
    # each of his sessions' calls is on his timeline
    calls = {c for (c,) in _query(site, "SELECT comm_id FROM comm_sessions WHERE "
                                        "provider = ? AND buyer_id = ?", list(buyer))}
    assert calls <= {e["ref"] for e in events if e["kind"] == "video_call"}
    assert [a.target for a in _audited(site, "view_timeline")][-1] == \
        f"buyer/{buyer[0]}/{buyer[1]}"


def test_kinds_and_a_date_range_narrow_it(ana: Client, buyer: tuple[str, str]) -> None:
    every = ana.get(_path(buyer, api=True)).json()["events"]
    calls = ana.get(_path(buyer, api=True), params={"kind": ["video_call"]}).json()
    assert calls["events"] and {e["kind"] for e in calls["events"]} == {"video_call"}
    assert calls["total"] == sum(e["kind"] == "video_call" for e in every)
    day = every[len(every) // 2]["at"][:10]
    one_day = ana.get(_path(buyer, api=True), params={"start": day, "end": day}).json()
    assert one_day["events"] and all(e["at"].startswith(day) for e in one_day["events"])
    assert one_day["total"] == sum(e["at"].startswith(day) for e in every)
    bad = ana.get(_path(buyer, api=True), params={"start": "2024-05-02",
                                                   "end": "2024-05-01"})
    assert_error_shape(bad, 400)


def test_the_page_draws_the_axis_in_the_zone_asked(ana: Client,
                                                  buyer: tuple[str, str]) -> None:
    first = ana.get(_path(buyer, api=True)).json()["events"][0]
    utc = datetime.fromisoformat(first["at"])
    page = ana.get(_path(buyer), params={"tz": "Asia/Manila"})
    assert page.status_code == 200
    assert "<svg" in page.text and 'href="#ev-0"' in page.text
    manila = (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert f'<tr id="ev-0"><td>{manila}</td>' in page.text
    assert "Back to the subject" in page.text
    refused = ana.get(_path(buyer), params={"tz": "Mars/Olympus"})
    assert refused.status_code == 400 and "unknown time zone" in refused.text


def test_term_list_matches_are_highlighted(ana: Client, buyer: tuple[str, str],
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("# neutral placeholder terms\nlater\nthank you\n", "utf-8")
    monkeypatch.setenv("SENTINELLE_LEXICON", str(terms))
    data = ana.get(_path(buyer, api=True), params={"kind": ["message"]}).json()
    hit = [e for e in data["events"] if e["lexicon_hits"]]
    assert data["lexicon"] and hit, "the buyer's messages hold no placeholder term"
    page = ana.get(_path(buyer), params={"kind": ["message"]}).text
    assert "<mark>" in page


@pytest.mark.parametrize(("text", "hits", "expected"), [
    ("see you later", ["later"], [("see you ", False), ("later", True)]),
    ("Café  Thank   you!", ["thank you", "cafe"],
     [("Café", True), ("  ", False), ("Thank   you", True), ("!", False)]),
    ("nothing here", [], [("nothing here", False)]),
])
def test_highlight_maps_folded_matches_back(text: str, hits: list[str],
                                            expected: list[tuple[str, bool]]) -> None:
    assert highlight(text, hits) == expected


def test_need_to_know(site: Site, buyer: tuple[str, str]) -> None:
    auditor = site.client("aud")
    assert_error_shape(auditor.get(_path(buyer, api=True)), 403)
    assert auditor.get(_path(buyer)).status_code == 403
    assert_error_shape(site.client("ana").get(_path(("Nowhere", "X0"), api=True)), 400)


def test_a_case_timeline_holds_its_subjects_and_notes(site: Site,
                                                      buyer: tuple[str, str]) -> None:
    ivy = site.client("ivy")
    made = ivy.api("POST", "/api/cases", json={
        "title": "Timeline test", "subjects": [{"role": "buyer", "provider": buyer[0],
                                                 "party_id": buyer[1]}]})
    assert made.status_code in (200, 201), made.text
    case_id = made.json()["id"]
    note = ivy.api("POST", f"/api/cases/{case_id}/notes",
                   json={"text": "Placeholder note for the timeline."})
    assert note.status_code in (200, 201), note.text
    data = ivy.get(f"/api/cases/{case_id}/timeline").json()
    kinds = {e["kind"] for e in data["events"]}
    assert {"payment", "video_call", "note"} <= kinds
    assert any(e["summary"] == "Placeholder note for the timeline." for e in data["events"])
    page = ivy.get(f"/cases/{case_id}/timeline")
    assert page.status_code == 200 and "Timeline of the case" in ivy.get(
        f"/cases/{case_id}").text
    # an investigator who is not on the case: as if it did not exist
    assert_error_shape(site.client("ian").get(f"/api/cases/{case_id}/timeline"), 404)
    assert _audited(site, "view_case_timeline")


def _unlinked_handle(site: Site, buyer: tuple[str, str]) -> tuple[str, str]:
    """A handle in the communications that is not linked to the buyer."""
    platform, handle = _query(site, """
        SELECT platform, sender FROM communications WHERE sender NOT IN (
            SELECT handle FROM comm_handle_parties WHERE role = 'buyer' AND provider = ?
            AND party_id = ?) ORDER BY sender LIMIT 1""", list(buyer))[0]
    return platform, handle


def test_a_handle_attached_by_hand_is_audited_shown_paired_and_undone(
        site: Site, ana: Client, buyer: tuple[str, str]) -> None:
    platform, handle = _unlinked_handle(site, buyer)
    before = ana.get(_path(buyer, api=True)).json()
    assert not any(e["who"] == handle for e in before["events"])
    page = ana.get(_path(buyer))
    refused = ana.post_form(_path(buyer) + "/handles",
                            {"platform": platform, "handle": handle, "reason": ""})
    assert refused.status_code == 400
    assert ana.post_form(_path(buyer) + "/handles",
                         {"platform": platform, "handle": "nobody", "reason": "x"}
                         ).status_code == 404
    done = ana.post_form(_path(buyer) + "/handles", {
        "platform": platform, "handle": handle, "reason": "the seized phone's contact card",
        "csrf_token": form_token(page.text)})
    assert done.status_code == 303
    after = ana.get(_path(buyer, api=True)).json()
    assert any(e["who"] == handle for e in after["events"])
    assert {"platform": platform, "handle": handle} in [
        {k: h[k] for k in ("platform", "handle")} for h in after["handles"]]
    attached = _audited(site, "attach_handle")
    assert attached and attached[-1].target.startswith(f"{platform}:{handle}|buyer:")
    # the next pairing reads the link
    with site.sessions()() as session:
        links = handles.active(session)
    assert [(a.handle, a.party_id, a.linked_by) for a in links] == [(handle, buyer[1], "ana")]
    with open_warehouse(site.warehouse, memory_limit="1GB", threads=1) as wh:
        pair_sessions(wh, attached=links)
        via = wh.execute("SELECT via, found_in FROM comm_handle_parties WHERE handle = ? "
                         "AND party_id = ?", [handle, buyer[1]]).fetchall()
    assert ("analyst", "attached by ana") in via
    # undone: kept with who and why, and the handle leaves the timeline
    link_id = links[0].link_id
    assert ana.post_form(_path(buyer) + "/handles/undo",
                         {"link": link_id, "reason": ""}).status_code == 400
    undone = ana.post_form(_path(buyer) + "/handles/undo",
                           {"link": link_id, "reason": "wrong contact card"})
    assert undone.status_code == 303
    with site.sessions()() as session:
        assert handles.active(session) == []
        history = handles.for_party(session, "buyer", *buyer)
    assert history[-1]["undo_reason"] == "wrong contact card"
    assert history[-1]["undone_by"] == "ana"
    assert _audited(site, "undo_handle_link")
    assert site.client("aud").post_form(_path(buyer) + "/handles", {
        "platform": platform, "handle": handle, "reason": "x"}).status_code == 403


def test_a_subjects_timeline_reads_every_record(resolved: dict[str, Any],
                                                tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    """After entity resolution, a subject's axis holds the payments of all its records."""
    resolved_site = make_site(tmp_path_factory.mktemp("resolved-timeline"), resolved["db"])
    subject, records, payments = _query(resolved_site, """
        SELECT p.subject_id, count(DISTINCT (p.provider, p.party_id)), count(t.txn_id)
        FROM det_subject_parties p JOIN transactions t
          ON t.provider = p.provider AND t.sender_id = p.party_id
        WHERE p.side = 'sender' GROUP BY p.subject_id
        HAVING count(DISTINCT (p.provider, p.party_id)) > 1
        ORDER BY 3 DESC, 1 LIMIT 1""")[0]
    assert records > 1
    data = resolved_site.client("ana").get(f"/api/timeline/buyer/subject/{subject}").json()
    assert data["counts"]["payment"] == payments
