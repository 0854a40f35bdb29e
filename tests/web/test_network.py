"""A subject's network: the two-hop neighbourhood as det_links holds it, capped strongest
first, a low scorer's own links from its transactions, audited, and drawn on a page that
lists the same parties and links in tables."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from sentinelle.review import audit
from tests.web.conftest import Site, assert_error_shape


def token(role: str, provider: str, party_id: str) -> str:
    return "/".join(quote(p, safe="") for p in (role, provider, party_id))


@pytest.fixture(scope="module")
def links(site: Site) -> list[dict[str, Any]]:
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        cur = con.execute("SELECT provider, sender_id, beneficiary_id, payments, "
                          "CAST(eur AS DOUBLE), family FROM det_links")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="module")
def hub(links: list[dict[str, Any]]) -> dict[str, str]:
    """The beneficiary with the most senders in det_links."""
    counts: dict[tuple[str, str], int] = {}
    for link in links:
        key = (link["provider"], link["beneficiary_id"])
        counts[key] = counts.get(key, 0) + 1
    (provider, party_id), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return {"role": "facilitator", "provider": provider, "party_id": party_id}


def expected(links: list[dict[str, Any]], role: str, provider: str,
             party_id: str) -> dict[int, set[str]]:
    """The two hops, computed plainly from det_links."""
    if role == "facilitator":
        one = {("buyer", link["sender_id"]) for link in links
               if link["provider"] == provider and link["beneficiary_id"] == party_id}
        two = {("facilitator", link["beneficiary_id"]) for link in links
               if link["provider"] == provider and ("buyer", link["sender_id"]) in one}
    else:
        one = {("facilitator", link["beneficiary_id"]) for link in links
               if link["provider"] == provider and link["sender_id"] == party_id}
        two = {("buyer", link["sender_id"]) for link in links
               if link["provider"] == provider and ("facilitator", link["beneficiary_id"]) in one}
    two -= {(role, party_id)}
    return {0: {token(role, provider, party_id)},
            1: {token(r, provider, p) for r, p in one},
            2: {token(r, provider, p) for r, p in two}}


@pytest.mark.parametrize("side", ["facilitator", "buyer"])
def test_two_hops_are_what_det_links_holds(as_user, links, hub, side: str) -> None:
    subject = hub if side == "facilitator" else {
        "role": "buyer", "provider": hub["provider"],
        "party_id": next(link["sender_id"] for link in links
                         if link["beneficiary_id"] == hub["party_id"])}
    url = "/api/network/" + token(**subject)
    graph = as_user("ana").get(url).json()
    assert graph["subject"] == token(**subject) and graph["own_links_from"] == "det_links"
    want = expected(links, **subject)
    got = {hop: {n["id"] for n in graph["nodes"] if n["hop"] == hop} for hop in (0, 1, 2)}
    assert got == want and graph["nodes_left_out"] == 0
    assert graph["nodes"][0]["id"] == graph["subject"]
    # Every link between two shown parties, with det_links' figures.
    shown = {n["id"] for n in graph["nodes"]}
    by_pair = {(token("buyer", link["provider"], link["sender_id"]),
                token("facilitator", link["provider"], link["beneficiary_id"])): link
               for link in links}
    want_edges = {pair for pair in by_pair if set(pair) <= shown}
    assert {(e["source"], e["target"]) for e in graph["edges"]} == want_edges
    for e in graph["edges"]:
        link = by_pair[(e["source"], e["target"])]
        assert (e["payments"], e["family"]) == (link["payments"], link["family"])
        assert e["eur"] == pytest.approx(link["CAST(eur AS DOUBLE)"])


def test_one_hop_and_the_nodes_flags(site: Site, as_user, links, hub) -> None:
    graph = as_user("ana").get("/api/network/" + token(**hub) + "?hops=1").json()
    assert {n["hop"] for n in graph["nodes"]} == {0, 1}
    assert {n["id"] for n in graph["nodes"]} == set().union(
        *(v for k, v in expected(links, **hub).items() if k < 2))
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        alerts = {token(*r) for r in con.execute(
            "SELECT role, provider, party_id FROM det_alerts").fetchall()}
        referred = {token(*r) for r in con.execute(
            "SELECT role, provider, party_id FROM det_referral_matches").fetchall()}
        scores = {token(*r[:3]): r[3] for r in con.execute(
            "SELECT role, provider, party_id, score FROM det_scores").fetchall()}
    for n in graph["nodes"]:
        assert n["is_alert"] == (n["id"] in alerts)
        assert n["referred"] == (n["id"] in referred)
        assert n["score"] == pytest.approx(scores[n["id"]])
        assert n["id"] == token(n["role"], n["provider"], n["party_id"])


def test_the_cap_keeps_the_strongest_and_says_how_many_were_left_out(as_user, hub) -> None:
    client = as_user("ana")
    full = client.get("/api/network/" + token(**hub)).json()
    capped = client.get("/api/network/" + token(**hub) + "?max_nodes=4").json()
    assert len(capped["nodes"]) == 4
    assert capped["nodes_left_out"] == len(full["nodes"]) - 4
    # The three kept senders are the three strongest of hop 1 (score, then euros).
    eur = {}
    for e in full["edges"]:
        if e["target"] == full["subject"]:
            eur[e["source"]] = e["eur"]
    ranked = sorted((n for n in full["nodes"] if n["hop"] == 1),
                    key=lambda n: (-n["score"], -eur[n["id"]]))
    assert {n["id"] for n in capped["nodes"][1:]} == {n["id"] for n in ranked[:3]}
    shown = {n["id"] for n in capped["nodes"]}
    assert all({e["source"], e["target"]} <= shown for e in capped["edges"])


def test_a_low_scorer_has_its_own_links_from_its_transactions(site: Site, as_user) -> None:
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        provider, party_id = con.execute(
            """SELECT s.provider, s.party_id FROM det_scores s WHERE s.role = 'buyer'
               AND s.score < 0.1 AND (SELECT count(DISTINCT beneficiary_id) FROM transactions t
                   WHERE t.provider = s.provider AND t.sender_id = s.party_id) >= 2
               ORDER BY s.score, s.party_id LIMIT 1""").fetchone()
        paid = {token("facilitator", provider, b) for (b,) in con.execute(
            "SELECT DISTINCT beneficiary_id FROM transactions WHERE provider = ? "
            "AND sender_id = ?", [provider, party_id]).fetchall()}
        in_links = con.execute("SELECT count(*) FROM det_links WHERE sender_id = ?",
                               [party_id]).fetchone()[0]
    graph = as_user("ana").get("/api/network/" + token("buyer", provider, party_id)).json()
    assert graph["own_links_from"] == "transactions" and graph["lead_threshold"] == 0.1
    assert {n["id"] for n in graph["nodes"] if n["hop"] == 1} == paid
    own = [e for e in graph["edges"] if e["source"] == graph["subject"]]
    assert {e["target"] for e in own} == paid
    assert sum(e["family"] is None for e in own) >= len(paid) - in_links
    assert all(e["payments"] >= 1 and e["eur"] > 0 for e in own)


def test_every_view_is_audited(site: Site, as_user, hub) -> None:
    client = as_user("ivy")
    assert client.get("/api/network/" + token(**hub) + "?hops=1&max_nodes=20").status_code == 200
    assert client.get("/network/" + token(**hub)).status_code == 200
    target = f"facilitator/{hub['provider']}/{hub['party_id']}"
    with site.sessions()() as session:
        rows = audit.entries(session, user="ivy", action="view_network", target=target)
        details = sorted(json.loads(r.detail)["max_nodes"] for r in rows)
    assert details == [20, 150]


@pytest.mark.parametrize(("username", "status", "error"), [
    ("aud", 403, "Forbidden"), ("adm", 403, "Forbidden"), (None, 401, "AuthError")])
def test_only_roles_that_see_subjects_see_networks(site: Site, as_user, hub, username,
                                                   status: int, error: str) -> None:
    client = as_user(username) if username else site.client()
    assert_error_shape(client.get("/api/network/" + token(**hub)), status, error)


@pytest.mark.parametrize(("path", "status", "error"), [
    ("/api/network/buyer/Nobody/S0", 404, "NotFound"),
    ("/api/network/victim/Nobody/S0", 422, "ReviewError"),
    ("/api/network/{hub}?hops=0", 422, "ReviewError"),
    ("/api/network/{hub}?hops=4", 422, "ReviewError"),
    ("/api/network/{hub}?max_nodes=1", 422, "ReviewError"),
    ("/api/network/{hub}?max_nodes=501", 422, "ReviewError"),
])
def test_bad_requests_have_the_one_error_shape(as_user, hub, path: str, status: int,
                                               error: str) -> None:
    response = as_user("ana").get(path.format(hub=token(**hub)))
    assert_error_shape(response, status, error)


def test_the_page_draws_the_graph_and_lists_it(as_user, hub) -> None:
    client = as_user("ana")
    graph = client.get("/api/network/" + token(**hub)).json()
    page = client.get("/network/" + token(**hub))
    assert page.status_code == 200
    html = page.text
    assert 'id="network-graph"' in html and 'src="/static/network.js"' in html
    embedded = re.search(r'<script type="application/json" id="network-data">(.*?)</script>',
                         html, re.S)
    assert embedded and json.loads(embedded.group(1)) == graph
    nodes_table = html.split('id="network-nodes"', 1)[1].split("</table>", 1)[0]
    assert nodes_table.count("<tr>") == len(graph["nodes"]) + 1  # and the header
    for n in graph["nodes"]:
        assert f'href="/subjects/{n["id"]}"' in nodes_table
    edges_table = html.split('id="network-edges"', 1)[1].split("</table>", 1)[0]
    assert edges_table.count("<tr>") == len(graph["edges"]) + 1
    for words in ("circle: a buyer", "square: a facilitator", "an alert",
                  "named in a referral", "line width: the euros"):
        assert words in html, words
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    # The page fetches a node's links: it alone may connect, and only to this server.
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "http" not in csp
    subject = client.get("/subjects/" + token(**hub)).text
    assert f'href="/network/{token(**hub)}"' in subject


def test_the_page_shows_what_was_left_out(as_user, hub) -> None:
    html = as_user("ana").get("/network/" + token(**hub) + "?max_nodes=3").text
    assert re.search(r"3 parties and \d+ links shown;\s+\d+ parties and \d+ links left out", html)


def test_the_script_names_no_other_site_and_evaluates_nothing() -> None:
    from sentinelle.web.app import STATIC

    script = (STATIC / "network.js").read_text("utf-8")
    assert "eval(" not in script and "innerHTML" not in script and "new Function" not in script
