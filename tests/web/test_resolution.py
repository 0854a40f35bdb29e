"""The Resolution pages: uncertain pairs, one pair side by side with the model's reasons,
judgements with reasons — audited, undoable — and their effect at the next clustering."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from sentinelle.resolve.run import recluster
from sentinelle.review import judgements
from sentinelle.review.models import AuditEntry, RecordJudgement
from sentinelle.warehouse import open_warehouse
from tests.web.conftest import Client, Site, form_token, make_site


@pytest.fixture(scope="module")
def site(resolved: dict, tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("site"), resolved["db"])


@pytest.fixture(scope="module")
def ana(site: Site) -> Client:
    return site.client("ana")


def test_the_list_holds_the_uncertain_pairs_most_uncertain_first(ana: Client) -> None:
    data = ana.get("/api/resolution/pairs", params={"limit": 500}).json()
    assert data["total"] > 0, "no pair in the review band on this world"
    low, high = data["band"]
    pairs = data["pairs"]
    # The band, and the pairs over it that clustering kept apart (tips among namesakes).
    assert all(low <= p["match_probability"] < high
               or (p["match_probability"] >= high and not p["together"]) for p in pairs)
    distance = [abs(p["match_probability"] - data["threshold"]) for p in pairs]
    assert distance == sorted(distance)
    page = ana.get("/resolution")
    assert page.status_code == 200 and pairs[0]["record_id_l"] in page.text


def test_a_pair_side_by_side_with_its_reasons(ana: Client) -> None:
    first = ana.get("/api/resolution/pairs").json()["pairs"][0]
    a, b = first["record_id_l"], first["record_id_r"]
    data = ana.get("/api/resolution/pair", params={"a": b, "b": a}).json()  # any order
    assert (data["record_l"]["record_id"], data["record_r"]["record_id"]) == (a, b)
    assert data["match_probability"] == pytest.approx(first["match_probability"])
    fields = {f["field"]: f for f in data["fields"]}
    assert {"name", "phone", "country"} <= set(fields)
    assert all(isinstance(f["level"], str) and f["level"] for f in fields.values())
    page = ana.get("/resolution/pair", params={"a": a, "b": b})
    assert page.status_code == 200
    for words in ("The same person", "Not the same person", "Cannot tell"):
        assert words in page.text


def test_judging_is_recorded_audited_and_leaves_the_list(site: Site, ana: Client) -> None:
    before = ana.get("/api/resolution/pairs", params={"limit": 500}).json()
    first = before["pairs"][0]
    a, b = first["record_id_l"], first["record_id_r"]
    page = ana.get("/resolution/pair", params={"a": a, "b": b})
    response = ana.post_form("/resolution/judge", {
        "csrf_token": form_token(page.text), "a": a, "b": b, "verdict": "not_same",
        "reason": "different birth years on the identity documents"}, csrf=False)
    assert response.status_code == 303, response.text
    after = ana.get("/api/resolution/pairs", params={"limit": 500}).json()
    assert after["total"] == before["total"] - 1 and after["judged"] == before["judged"] + 1
    with site.sessions()() as session:
        made = session.scalars(select(RecordJudgement).where(
            RecordJudgement.record_l == a, RecordJudgement.record_r == b)).one()
        assert made.verdict == "not_same" and made.reason.startswith("different")
        assert made.match_probability == pytest.approx(first["match_probability"])
        logged = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "judge_records")).all()
        assert any(e.target == f"{a}|{b}" and e.username == "ana" for e in logged)
        views = session.scalars(select(AuditEntry).where(AuditEntry.action == "view_pair"))
        assert any(e.target == f"{a}|{b}" for e in views)


def test_a_judgement_needs_a_reason_and_a_known_verdict(ana: Client) -> None:
    first = ana.get("/api/resolution/pairs").json()["pairs"][0]
    a, b = first["record_id_l"], first["record_id_r"]
    no_reason = ana.api("POST", "/api/resolution/judgements",
                        json={"a": a, "b": b, "verdict": "same", "reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["message"]
    unknown = ana.api("POST", "/api/resolution/judgements",
                      json={"a": a, "b": "referral:nobody:0", "verdict": "same", "reason": "x"})
    assert unknown.status_code == 404


def test_undo_keeps_the_history(site: Site, ana: Client) -> None:
    first = ana.get("/api/resolution/pairs").json()["pairs"][0]
    a, b = first["record_id_l"], first["record_id_r"]
    made = ana.api("POST", "/api/resolution/judgements",
                   json={"a": a, "b": b, "verdict": "same", "reason": "same passport"})
    assert made.status_code == 201, made.text
    judgement = made.json()["id"]
    no_reason = ana.api("POST", f"/api/resolution/judgements/{judgement}/undo",
                        json={"reason": ""})
    assert no_reason.status_code == 400
    undone = ana.api("POST", f"/api/resolution/judgements/{judgement}/undo",
                     json={"reason": "clicked the wrong pair"})
    assert undone.status_code == 200, undone.text
    again = ana.api("POST", f"/api/resolution/judgements/{judgement}/undo",
                    json={"reason": "twice"})
    assert again.status_code == 400
    shown = ana.get("/api/resolution/pair", params={"a": a, "b": b}).json()
    assert shown["current"] is None
    [entry] = [j for j in shown["judgements"] if j["id"] == judgement]
    assert entry["undone_by"] == "ana" and entry["undo_reason"] == "clicked the wrong pair"
    with site.sessions()() as session:
        assert (a, b) not in judgements.effective(session)


@pytest.mark.parametrize("who", ["aud", "adm"])
def test_only_the_queue_roles_judge(site: Site, who: str) -> None:
    client = site.client(who)
    assert client.get("/api/resolution/pairs").status_code == 403
    assert client.get("/resolution").status_code == 403


def test_judgements_change_the_subjects_at_the_next_clustering(
        site: Site, ana: Client, resolved: dict, tmp_path: Path) -> None:
    """A pair the model joined, judged not the same by a person: apart after reclustering."""
    together = [p for p in ana.get("/api/resolution/pairs", params={"limit": 500}).json()
                ["pairs"] if p["together"] and p["match_probability"] >= 0.9]
    if not together:
        pytest.skip("no joined pair in the review band on this world")
    a, b = together[0]["record_id_l"], together[0]["record_id_r"]
    assert ana.api("POST", "/api/resolution/judgements", json={
        "a": a, "b": b, "verdict": "not_same", "reason": "two people"}).status_code == 201
    copy = tmp_path / "copy.duckdb"
    shutil.copy(resolved["db"], copy)
    with site.sessions()() as session:
        judged = judgements.effective(session)
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        recluster(wh, judged)
        subjects = dict(wh.execute("SELECT record_id, subject_id FROM er_clusters "
                                   "WHERE record_id IN (?, ?)", [a, b]).fetchall())
    assert subjects[a] != subjects[b]


def test_a_pair_over_the_band_that_clustering_kept_apart_is_listed(
        resolved: dict, tmp_path: Path) -> None:
    """A pair the model scores over the band whose records are in two subjects (a tip
    among namesakes joins one only) is for a person to settle: it is listed."""
    db = tmp_path / "apart.duckdb"
    shutil.copy(resolved["db"], db)
    with open_warehouse(db) as wh:
        a, b = wh.execute("""SELECT record_id_l, record_id_r FROM er_pairs
                             WHERE match_probability >= 0.99
                             ORDER BY record_id_l, record_id_r LIMIT 1""").fetchall()[0]
        # As clustering leaves such a pair: b in a subject of its own.
        wh.execute("UPDATE er_clusters SET subject_id = 'subj-apart' WHERE record_id = ?", [b])
    client = make_site(tmp_path, db).client("ana")
    pairs: list[dict] = []
    while True:
        data = client.get("/api/resolution/pairs",
                          params={"limit": 500, "offset": len(pairs)}).json()
        pairs += data["pairs"]
        if len(pairs) >= data["total"]:
            break
    listed = {(p["record_id_l"], p["record_id_r"]): p for p in pairs}
    assert (a, b) in listed and listed[(a, b)]["together"] is False
    assert not any(p["match_probability"] >= 0.99 and p["together"] for p in pairs)
