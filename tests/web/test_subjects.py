"""A subject's page: the score as a sum, evidence with file and line, charts, rhythm."""

from __future__ import annotations

import re
from urllib.parse import quote

import duckdb
import pytest

from sentinelle.review import audit
from sentinelle.review.subjects import PartyKey
from tests.web.conftest import Site


@pytest.fixture(scope="module")
def top(site: Site) -> dict[str, dict]:
    """The top alert of each role."""
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        rows = con.execute("SELECT role, provider, party_id FROM det_alerts "
                           "WHERE rank = 1").fetchall()
    return {role: {"role": role, "provider": p, "party_id": i} for role, p, i in rows}


def _url(key: dict, api: bool = False) -> str:
    provider = key["provider"].replace(" ", "%20")
    return f"{'/api' if api else ''}/subjects/{key['role']}/{provider}/{key['party_id']}"


@pytest.mark.parametrize("role", ["buyer", "facilitator"])
def test_contributions_add_up_to_the_score(site: Site, as_user, top, role: str) -> None:
    data = as_user("ana").get(_url(top[role], api=True)).json()
    assert data["contributions"], data
    total = data["base"] + sum(c["contribution"] for c in data["contributions"])
    assert total == pytest.approx(data["score"], abs=1e-9)
    page = as_user("ana").get(_url(top[role]))
    assert page.status_code == 200
    for c in data["contributions"]:
        assert f">{c['indicator']}<" in page.text
    assert f"<strong>{data['score']:.3f}</strong>" in page.text


@pytest.mark.parametrize("role", ["buyer", "facilitator"])
def test_evidence_names_the_file_and_line(site: Site, as_user, top, role: str) -> None:
    data = as_user("ana").get(_url(top[role], api=True)).json()
    assert data["evidence"]
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        for group in data["evidence"]:
            assert group["total"] >= len(group["rows"]) > 0
            for row in group["rows"]:
                assert row["source_name"] == "transactions.csv"
                line = con.execute("SELECT source_line FROM transactions WHERE txn_id = ? "
                                   "AND provider = ?", [row["txn_id"], top[role]["provider"]]
                                   ).fetchone()
                assert line == (row["source_line"],)
    page = as_user("ana").get(_url(top[role])).text
    first = data["evidence"][0]["rows"][0]
    assert f"transactions.csv:{first['source_line']}<" in page


def test_identities_rhythm_and_counterparties(site: Site, as_user, top) -> None:
    data = as_user("ana").get(_url(top["facilitator"], api=True)).json()
    assert set(data["identities"]) == {"name", "phone", "account", "country", "city"}
    assert sum(v["payments"] for v in data["identities"]["country"]) == data["payments"]
    assert sum(m["payments"] for m in data["months"]) == data["payments"]
    assert sum(m["eur"] for m in data["months"]) == pytest.approx(data["eur"], abs=0.02)
    clocks = [h["title"] for h in data["heatmaps"]]
    assert len(clocks) == 2 and "beneficiary's country" in clocks[0]
    for h in data["heatmaps"]:
        assert len(h["counts"]) == 7 and all(len(r) == 24 for r in h["counts"])
        assert sum(map(sum, h["counts"])) == data["payments"]
    assert data["heatmaps"][0]["clock"] == "Asia/Manila" or data["country"] != "PH"
    assert data["counterparties_total"] >= len(data["counterparties"]) > 0
    assert all(c["role"] == "buyer" for c in data["counterparties"])
    buyer = as_user("ana").get(_url(top["buyer"], api=True)).json()
    assert "email" in buyer["identities"] and len(buyer["heatmaps"]) == 1


def test_the_page_draws_its_charts_inline(site: Site, as_user, top) -> None:
    page = as_user("ana").get(_url(top["facilitator"])).text
    assert page.count("<svg") == 3  # amounts per month and two heat maps
    assert re.search(r"<title>Amounts per month", page)
    assert "<script" not in page.split("</head>")[1]  # no script in the body


def test_every_subject_view_is_audited(site: Site, as_user, top) -> None:
    client = as_user("bob")
    client.get(_url(top["buyer"]))
    client.get(_url(top["buyer"], api=True))
    with site.sessions()() as session:
        views = audit.entries(session, user="bob", action="view_subject")
    key = top["buyer"]
    assert [e.target for e in views] == [f"buyer/{key['provider']}/{key['party_id']}"] * 2


def test_an_unknown_subject_is_not_found(site: Site, as_user) -> None:
    missing = {"role": "buyer", "provider": "Kestrel Remit", "party_id": "NOPE"}
    assert as_user("ana").get(_url(missing, api=True)).status_code == 404
    assert as_user("ana").get(_url(missing)).status_code == 404


@pytest.mark.parametrize(("parts", "token"), [
    (("buyer", "p1", "S-1_a.b~"), "buyer/p1/S-1_a.b~"),
    (("facilitator", "bank/x", "B 1é"), "facilitator/bank%2Fx/B%201%C3%A9"),
    (("buyer", "p", "a?b&c#d%"), "buyer/p/a%3Fb%26c%23d%25")])
def test_a_key_travels_as_one_url_safe_token(parts: tuple[str, str, str], token: str) -> None:
    key = PartyKey(*parts)
    assert key.token == token == "/".join(quote(p, safe="") for p in parts)
    assert PartyKey.parse(token) == key
