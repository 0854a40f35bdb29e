"""Search by name (any order, small misspellings), phone, account, email and id."""

from __future__ import annotations

import duckdb
import pytest

from sentinelle.review import audit
from tests.web.conftest import Site, assert_error_shape


@pytest.fixture(scope="module")
def party(site: Site) -> dict:
    """The top buyer alert, with identifiers as recorded on his payments."""
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        pid, provider = con.execute(
            "SELECT party_id, provider FROM det_alerts WHERE role = 'buyer' AND rank = 1"
        ).fetchone()
        name, phone, email, account = con.execute(
            """SELECT sender_name, sender_phone, sender_email, sender_account
               FROM transactions WHERE sender_id = ? AND provider = ? LIMIT 1""",
            [pid, provider]).fetchone()
    given, surname = name.split(" ", 1)
    return {"id": pid, "name": name, "given": given, "surname": surname, "phone": phone,
            "email": email, "account": account}


def _misspell(word: str) -> str:
    """One letter changed in the middle of the word."""
    i = len(word) // 2
    return word[:i] + ("a" if word[i] != "a" else "e") + word[i + 1:]


def _ids(client, q: str, role: str | None = None) -> list[str]:
    params = {"q": q} | ({"role": role} if role else {})
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return [r["party_id"] for r in response.json()["results"]]


@pytest.mark.parametrize("how", ["as recorded", "swapped", "SURNAME Given", "misspelt",
                                 "swapped and misspelt"])
def test_names_match_in_any_order_and_with_a_typo(site: Site, as_user, party,
                                                  how: str) -> None:
    g, s = party["given"], party["surname"]
    query = {"as recorded": f"{g} {s}", "swapped": f"{s} {g}",
             "SURNAME Given": f"{s.upper()} {g.title()}",
             "misspelt": f"{g} {_misspell(s)}",
             "swapped and misspelt": f"{_misspell(s)}, {g}"}[how]
    found = _ids(as_user("ana"), query)
    assert party["id"] in found[:5], (query, found)


@pytest.mark.parametrize("field", ["id", "phone", "email", "account"])
def test_exact_identifiers(site: Site, as_user, party, field: str) -> None:
    if party[field] is None:
        pytest.skip(f"the party has no {field}")
    assert _ids(as_user("ana"), party[field])[0] == party["id"]


def test_a_phone_in_national_form_matches_by_its_last_digits(site: Site, as_user,
                                                             party) -> None:
    if party["phone"] is None:
        pytest.skip("the party has no phone")
    national = "0" + party["phone"][-9:]
    assert party["id"] in _ids(as_user("ana"), national)


def test_results_lead_to_subjects_and_searches_are_audited(site: Site, as_user,
                                                           party) -> None:
    client = as_user("ivy")
    page = client.get("/search", params={"q": party["name"], "role": "buyer"})
    assert page.status_code == 200 and f">{party['id']}<" in page.text
    assert "/subjects/buyer/" in page.text
    with site.sessions()() as session:
        logged = audit.entries(session, user="ivy", action="search")
    assert logged and '"query":"' + party["name"] + '"' in logged[0].detail


def test_an_empty_search_is_refused(site: Site, as_user) -> None:
    assert_error_shape(as_user("ana").get("/api/search", params={"q": " "}), 400,
                       "ReviewError")
    assert as_user("ana").get("/search").status_code == 200  # the empty form
