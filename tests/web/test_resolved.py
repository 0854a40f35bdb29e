"""Detection, the queue and the subject page on subjects, once entity resolution has run:
the same world detected on parties and then on subjects, compared."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sentinelle.detect import detect, load_catalogue
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.warehouse import open_warehouse
from tests.web.conftest import Client, Site, make_site


class Query:
    """Read the warehouse, one connection per query: the web application opens the same
    file with its own configuration, which a connection held open would refuse."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def execute(self, sql: str, params: list | None = None) -> Query:
        with duckdb.connect(str(self.db), read_only=True) as con:
            self.rows = con.execute(sql, params or []).fetchall()
        return self

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


@pytest.fixture(scope="module")
def con(resolved: dict) -> Query:
    return Query(resolved["db"])


@pytest.fixture(scope="module")
def site(resolved: dict, tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("site"), resolved["db"])


@pytest.fixture(scope="module")
def ana(site: Site) -> Client:
    return site.client("ana")


def test_detection_scores_subjects_once_resolved(resolved: dict, con) -> None:
    assert not resolved["before"].subjects and resolved["after"].subjects
    providers = {p for (p,) in con.execute("SELECT DISTINCT provider FROM det_scores").fetchall()}
    assert providers == {SUBJECT_PROVIDER}
    # Every payment is counted once per role, on parties as on subjects.
    paid = con.execute("SELECT count(*) FROM transactions WHERE amount_eur IS NOT NULL").fetchone()
    for role in ("buyer", "facilitator"):
        total = con.execute("SELECT sum(payments) FROM det_scores WHERE role = ?",
                            [role]).fetchone()
        assert total == paid, role
    # Fewer subjects than parties: the merges took effect.
    assert resolved["after"].parties["facilitator"] < resolved["before"].parties["facilitator"]


def test_a_merged_facilitator_has_the_payments_of_all_her_records(resolved: dict, con) -> None:
    rows = con.execute("""
        SELECT subject_id, list(provider || '/' || party_id) FROM det_subject_parties
        WHERE side = 'beneficiary' GROUP BY subject_id HAVING count(*) > 1""").fetchall()
    assert rows, "no beneficiary subject holds two records on this world"
    for subject_id, members in rows:
        expected = sum(resolved["parties"].get(f"facilitator/{m}", 0) for m in members)
        got = con.execute("SELECT payments FROM det_scores WHERE role = 'facilitator' "
                          "AND party_id = ?", [subject_id]).fetchone()
        assert got == (expected,), (subject_id, members)


def test_every_party_has_its_subject(con) -> None:
    for side in ("sender", "beneficiary"):
        missing = con.execute(f"""
            SELECT count(*) FROM (SELECT DISTINCT provider, {side}_id AS party_id
                                  FROM transactions WHERE amount_eur IS NOT NULL) t
            ANTI JOIN det_subject_parties s
              ON s.side = '{side}' AND s.provider = t.provider AND s.party_id = t.party_id
        """).fetchone()
        assert missing == (0,), side


def test_evidence_points_at_the_providers_transactions(con) -> None:
    dangling = con.execute("""
        SELECT count(*) FROM det_evidence e ANTI JOIN transactions t
          ON t.provider = e.txn_provider AND t.txn_id = e.txn_id""").fetchone()
    assert dangling == (0,)
    assert con.execute("SELECT count(*) FROM det_evidence").fetchone()[0] > 0


def test_referrals_resolved_into_a_subject_are_matched(con) -> None:
    merged = con.execute("""
        SELECT count(*) FROM det_referral_matches WHERE matched_on LIKE '%entity resolution%'
    """).fetchone()[0]
    assert merged > 0


def _merged_alert(con: Query, role: str) -> tuple[str, int]:
    side = "sender" if role == "buyer" else "beneficiary"
    row = con.execute(f"""
        SELECT a.party_id, a.payments FROM det_alerts a
        JOIN (SELECT subject_id FROM det_subject_parties WHERE side = '{side}'
              GROUP BY subject_id HAVING count(*) > 1) m ON m.subject_id = a.party_id
        WHERE a.role = ? ORDER BY a.alert_no LIMIT 1""", [role]).fetchone()
    if row is None:
        pytest.skip(f"no alerted {role} holds two records on this world")
    return row


def test_the_subject_page_shows_every_record(ana: Client, con) -> None:
    subject_id, payments = _merged_alert(con, "facilitator")
    data = ana.get(f"/api/subjects/facilitator/{SUBJECT_PROVIDER}/{subject_id}").json()
    assert data["payments"] == payments
    assert sum(m["payments"] for m in data["months"]) == payments
    beneficiaries = [r for r in data["records"] if r["kind"] == "beneficiary"]
    assert len(beneficiaries) >= 2, data["records"]
    # Two names at least, each seen on her payments.
    assert len(data["identities"]["name"]) >= 2
    # Counterparties are subjects too, and link to subject pages.
    assert data["counterparties"]
    assert all(c["provider"] == SUBJECT_PROVIDER for c in data["counterparties"])
    assert all(c["party_id"].startswith("subj-") for c in data["counterparties"])
    # Evidence rows carry the provider that reported them.
    rows = [r for e in data["evidence"] for r in e["rows"]]
    assert rows and all(r["provider"] != SUBJECT_PROVIDER for r in rows)
    page = ana.get(f"/subjects/facilitator/{SUBJECT_PROVIDER}/{subject_id}")
    assert page.status_code == 200
    for record in beneficiaries:
        assert record["source_id"] in page.text


def test_the_queue_lists_subjects(ana: Client) -> None:
    data = ana.get("/api/alerts", params={"role": "facilitator", "per_page": 20}).json()
    assert data["alerts"]
    assert all(a["key"]["provider"] == SUBJECT_PROVIDER for a in data["alerts"])


def test_a_resolved_warehouse_is_detected_on_subjects_by_default(
        resolved: dict, tmp_path: Path) -> None:
    import shutil
    copy = tmp_path / "copy.duckdb"
    shutil.copy(resolved["db"], copy)
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        run = detect(wh, load_catalogue(), user="test")
        providers = {p for (p,) in wh.execute("SELECT DISTINCT provider FROM det_scores")
                     .fetchall()}
    assert run.subjects and providers == {SUBJECT_PROVIDER}


def test_detection_on_parties_can_still_be_asked_for(
        resolved: dict, tmp_path: Path) -> None:
    import shutil
    copy = tmp_path / "copy.duckdb"
    shutil.copy(resolved["db"], copy)
    with open_warehouse(copy, memory_limit="1GB", threads=2) as wh:
        run = detect(wh, load_catalogue(), user="test", subjects=False)
        assert not run.subjects
        providers = {p for (p,) in wh.execute("SELECT DISTINCT provider FROM det_scores")
                     .fetchall()}
        assert SUBJECT_PROVIDER not in providers
        assert not wh.has_table("det_subject_parties")




def test_the_network_of_a_subject(ana: Client, con) -> None:
    subject_id, _ = _merged_alert(con, "facilitator")
    data = ana.get(f"/api/network/facilitator/{SUBJECT_PROVIDER}/{subject_id}").json()
    assert len(data["nodes"]) > 1 and data["edges"]
    assert all(n["provider"] == SUBJECT_PROVIDER for n in data["nodes"])


def test_the_network_of_a_quiet_subject_comes_from_its_payments(ana: Client, con) -> None:
    """A subject under the lead threshold: det_links lacks its links, which are read from
    the payments of every party it holds."""
    row = con.execute("""
        SELECT s.party_id, count(DISTINCT t.beneficiary_id)
        FROM det_scores s
        JOIN det_subject_parties m ON m.side = 'sender' AND m.subject_id = s.party_id
        JOIN transactions t ON t.provider = m.provider AND t.sender_id = m.party_id
        WHERE s.role = 'buyer' AND s.score < 0.05
        GROUP BY s.party_id HAVING count(DISTINCT m.provider || m.party_id) > 1
        ORDER BY s.party_id LIMIT 1""").fetchone()
    if row is None:
        pytest.skip("no quiet buyer holds two records on this world")
    subject_id, beneficiaries = row
    data = ana.get(f"/api/network/buyer/{SUBJECT_PROVIDER}/{subject_id}").json()
    assert data["own_links_from"] == "transactions"
    assert 1 <= len(data["nodes"]) - 1 <= beneficiaries
    assert len(data["edges"]) == len(data["nodes"]) - 1


def test_decisions_made_before_resolution_follow_the_person(
        resolved: dict, tmp_path_factory: pytest.TempPathFactory, con) -> None:
    """A facilitator's party decided on before resolution: its subject's page shows it."""
    from sqlalchemy import select

    from sentinelle.review.audit import utcnow
    from sentinelle.review.models import Disposition, User
    from sentinelle.review.reader import WarehouseReader
    from sentinelle.review.subjects import PartyKey, subject_page

    subject_id, _ = _merged_alert(con, "facilitator")
    provider, party_id = con.execute(
        "SELECT provider, party_id FROM det_subject_parties WHERE subject_id = ? "
        "AND side = 'beneficiary' ORDER BY provider, party_id LIMIT 1",
        [subject_id]).fetchone()
    site = make_site(tmp_path_factory.mktemp("decided"), resolved["db"])
    with site.sessions()() as session:
        ana = session.scalars(select(User).where(User.username == "ana")).one()
        session.add(Disposition(
            role="facilitator", provider=provider, party_id=party_id, decision="escalate",
            reason="decided on the party", decided_by=ana.id, decided_at=utcnow()))
        session.commit()
        reader = WarehouseReader(resolved["db"], linger_s=0)
        with reader.open() as view:
            page = subject_page(session, view, ana,
                                PartyKey("facilitator", SUBJECT_PROVIDER, subject_id))
    [decision] = page.decisions
    assert decision["reason"] == "decided on the party"
    assert decision["on"] == f"{provider}/{party_id} before resolution"


def test_reports_on_a_subject_hold_every_record(resolved: dict, con) -> None:
    """A goAML report on a merged facilitator: her payments under every name, the
    evidence found through the subject, valid against the schema."""
    from sentinelle.report.entity import load_entity
    from sentinelle.report.gather import gather, subject_parties
    from sentinelle.report.goaml import render_goaml
    from sentinelle.report.money import rate_book
    from sentinelle.report.narrative import draft
    from sentinelle.report.xmltools import validate
    from sentinelle.review.reader import WarehouseReader
    from sentinelle.review.subjects import PartyKey
    from tests.report.conftest import ENTITY, GOAML_XSD

    subject_id, payments = _merged_alert(con, "facilitator")
    key = PartyKey("facilitator", SUBJECT_PROVIDER, subject_id)
    with WarehouseReader(resolved["db"], linger_s=0).open() as view:
        parties = subject_parties(view, key)
        data = gather(view, [key], scope="subject", reference=subject_id, title="Test",
                      target=f"facilitator/subject/{subject_id}")
        xml = render_goaml(data, load_entity(ENTITY), draft(data), rate_book(view))
    assert len(parties) >= 2 and all(p.provider != SUBJECT_PROVIDER for p in parties)
    assert len(data.transactions) == payments
    assert any(t.indicators for t in data.transactions)
    assert {t.beneficiary for t in data.transactions} <= set(parties)
    if GOAML_XSD.exists():
        validate(xml, GOAML_XSD)
