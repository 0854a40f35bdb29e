"""The alert queue: filters, sort, pages, bulk assignment and bulk decisions."""

from __future__ import annotations

import duckdb
import pytest
from sqlalchemy import select

from sentinelle.review import audit
from sentinelle.review.models import Disposition
from tests.web.conftest import Site, assert_error_shape, form_token


def _alerts(client, **params) -> dict:
    response = client.get("/api/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _warehouse(site: Site, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_queue_lists_every_alert_once_across_pages(site: Site, as_user) -> None:
    client = as_user("ana")
    total = _warehouse(site, "SELECT count(*) FROM det_alerts")[0][0]
    seen = []
    page = 1
    while True:
        got = _alerts(client, per_page=7, page=page, sort="rank", order="asc")
        assert got["total"] == total
        seen += [a["token"] for a in got["alerts"]]
        if page >= got["pages"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize(("sort", "field", "descending"), [
    ("score", "score", True), ("eur", "eur", True), ("payments", "payments", True),
    ("last_payment", "last_payment_at", True), ("rank", "rank", False)])
def test_sort_orders_by_the_column(site: Site, as_user, sort: str, field: str,
                                   descending: bool) -> None:
    rows = _alerts(as_user("ana"), sort=sort, per_page=200)["alerts"]
    values = [r[field] for r in rows]
    assert values == sorted(values, reverse=descending)
    flipped = _alerts(as_user("ana"), sort=sort, order="asc" if descending else "desc",
                      per_page=200)["alerts"]
    assert [r[field] for r in flipped] == sorted(values, reverse=not descending)


def test_filters_by_role_score_and_corridor(site: Site, as_user) -> None:
    client = as_user("ana")
    for role in ("buyer", "facilitator"):
        got = _alerts(client, role=role, per_page=200)
        expected = _warehouse(site, "SELECT count(*) FROM det_alerts WHERE role = ?", [role])
        assert got["total"] == expected[0][0] and {a["key"]["role"] for a in got["alerts"]} \
            == {role}
    high = _alerts(client, min_score=0.99, per_page=200)["alerts"]
    assert high and all(a["score"] >= 0.99 for a in high)
    # A facilitator's corridor is her country; a buyer's, the countries he pays.
    corridor = "MX"
    got = _alerts(client, corridor=corridor, per_page=200)["alerts"]
    expected = {("buyer", pid) for (pid,) in _warehouse(site, """
        SELECT DISTINCT a.party_id FROM det_alerts a JOIN transactions t
          ON t.provider = a.provider AND t.sender_id = a.party_id
        WHERE a.role = 'buyer' AND t.beneficiary_country = ?""", [corridor])}
    expected |= {("facilitator", pid) for (pid,) in _warehouse(site, """
        SELECT a.party_id FROM det_alerts a JOIN det_scores s USING (role, provider, party_id)
        WHERE a.role = 'facilitator' AND s.country = ?""", [corridor])}
    assert expected and {(a["key"]["role"], a["key"]["party_id"]) for a in got} == expected
    assert all(corridor in a["corridors"] for a in got)


def test_bulk_assignment_then_filter_by_assignee_and_status(site: Site, as_user) -> None:
    client = as_user("ana")
    picked = [a["key"] for a in _alerts(client, role="facilitator", per_page=3)["alerts"]]
    done = client.api("POST", "/api/alerts/assign", json={"keys": picked, "assignee": "ivy"})
    assert done.status_code == 200 and done.json()["assigned"] == 3
    mine = _alerts(as_user("ivy"), assignee="me", per_page=200)["alerts"]
    assert {tuple(a["key"].values()) for a in mine} == {tuple(k.values()) for k in picked}
    assert all(a["status"] == "assigned" and a["assignee"] == "ivy" for a in mine)
    assigned = _alerts(client, status="assigned", per_page=200)["total"]
    unassigned = _alerts(client, assignee="none", per_page=200)["total"]
    everything = _alerts(client, per_page=1)["total"]
    assert assigned == 3 and unassigned == everything - 3
    bad = client.api("POST", "/api/alerts/assign", json={"keys": picked, "assignee": "aud"})
    assert_error_shape(bad, 400, "ReviewError")


def test_a_decision_needs_a_reason(site: Site, as_user) -> None:
    client = as_user("ana")
    key = _alerts(client, per_page=1, role="buyer")["alerts"][0]["key"]
    for reason in ("", "   "):
        refused = client.api("POST", "/api/alerts/dispose",
                             json={"keys": [key], "decision": "escalate", "reason": reason})
        body = assert_error_shape(refused, 400, "ReviewError")
        assert any("reason" in d for d in body["details"])
    page = client.get("/queue")
    again = client.http.post("/queue", data={
        "csrf_token": form_token(page.text), "action": "dispose", "decision": "escalate",
        "reason": "", "key": ["buyer/" + key["provider"].replace(" ", "%20") + "/"
                              + key["party_id"]]}, follow_redirects=False)
    assert again.status_code == 400 and "a reason is required" in again.text


def test_bulk_decision_from_the_page_is_recorded_and_audited(site: Site, as_user) -> None:
    client = as_user("sue")
    rows = _alerts(client, role="buyer", status="new", per_page=4)["alerts"]
    page = client.get("/queue?role=buyer")
    done = client.http.post("/queue", data={
        "csrf_token": form_token(page.text), "action": "dispose",
        "decision": "false_positive", "reason": "family remittances, checked with the bank",
        "key": [r["token"] for r in rows], "back": "role=buyer"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/queue?role=buyer&msg=4+alert")
    run_id = _warehouse(site, "SELECT run_id FROM det_runs")[0][0]
    scorer = _warehouse(site, "SELECT DISTINCT scorer FROM det_scores WHERE role = 'buyer'")[0][0]
    assert scorer.startswith("scorecard ")  # the role's own scorer, short enough to keep
    with site.sessions()() as session:
        decided = session.scalars(select(Disposition).where(
            Disposition.decision == "false_positive")).all()
        logged = audit.entries(session, action="dispose", user="sue")
    assert {(d.role, d.party_id) for d in decided} == {
        (r["key"]["role"], r["key"]["party_id"]) for r in rows}
    scores = {r["key"]["party_id"]: r["score"] for r in rows}
    for d in decided:
        assert (d.run_id, d.scorer) == (run_id, scorer)
        assert d.score == pytest.approx(scores[d.party_id])
        assert d.reason == "family remittances, checked with the bank"
    assert {e.target for e in logged} == {f"buyer/{r['key']['provider']}/"
                                          f"{r['key']['party_id']}" for r in rows}
    listed = _alerts(client, status="false_positive", per_page=200)["alerts"]
    assert {a["token"] for a in listed} == {r["token"] for r in rows}
    assert all(a["decision"]["by"] == "sue" for a in listed)


def test_the_queue_page_renders_filters_and_rows(site: Site, as_user) -> None:
    page = as_user("ana").get("/queue?role=facilitator&sort=eur&per_page=25")
    assert page.status_code == 200
    assert 'name="key"' in page.text and "Record decision" in page.text
    assert 'aria-sort="descending"' in page.text
    bad = as_user("ana").get("/queue?min_score=lots")
    assert bad.status_code == 400 and "not a number" in bad.text
