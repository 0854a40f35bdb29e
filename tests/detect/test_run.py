"""What detection leaves for the web application: lookup indexes that its queries use, and
alerts that carry what the queue shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sentinelle.detect.run import STEPS
from sentinelle.warehouse.connection import LOOKUP_INDEXES
from tests.detect.conftest import Scored, payment

ROWS = [
    payment(1, "S1", "B1", "2024-03-01T23:10:00+08:00", beneficiary_country="PH"),
    payment(2, "S1", "B2", "2024-03-02T23:40:00+08:00", beneficiary_country="RO"),
    payment(3, "S2", "B1", "2024-03-03T10:00:00+01:00", beneficiary_country="PH"),
]


@pytest.fixture
def scored(score: Callable[..., Scored]) -> Scored:
    return score(ROWS, params=["alert_threshold=0"])


def test_detection_indexes_the_party_columns(scored: Scored) -> None:
    found = {name: (table, sql) for name, table, sql in scored.wh.execute(
        "SELECT index_name, table_name, sql FROM duckdb_indexes()").fetchall()}
    for name, (table, column) in LOOKUP_INDEXES.items():
        assert found[name][0] == table and column in found[name][1]
    assert STEPS[-1] == "index for the web application"


@pytest.mark.parametrize(("table", "column", "party", "expected"), [
    ("transactions", "sender_id", "S1", 2), ("transactions", "beneficiary_id", "B1", 2),
    ("det_scores", "party_id", "S1", 1), ("det_alerts", "party_id", "B1", 1),
    ("det_contributions", "party_id", "S1", None), ("det_evidence", "party_id", "S1", None)])
def test_a_party_lookup_uses_its_index(scored: Scored, table: str, column: str, party: str,
                                       expected: int | None) -> None:
    """As the subject page asks (a bound parameter, the indexed column alone); DuckDB
    chooses the index when it runs the query, so the plan is read after running it. The
    results' indexes survive publishing, which replaces their tables."""
    sql = f"SELECT * FROM {table} WHERE {column} = ?"
    found = len(scored.wh.execute(sql, [party]).fetchall())
    assert found == expected if expected is not None else found > 0
    plan = scored.wh.execute("EXPLAIN ANALYZE " + sql, [party]).fetchall()[0][1]
    assert "Index Scan" in plan, plan




def test_alerts_carry_the_queue_columns_and_corridors(scored: Scored) -> None:
    alerts = {(role, pid): (corridors, payments, name) for role, pid, corridors, payments, name
              in scored.wh.execute("SELECT role, party_id, corridors, payments, name "
                                   "FROM det_alerts").fetchall()}
    assert alerts[("buyer", "S1")][:2] == (["PH", "RO"], 2)
    assert alerts[("facilitator", "B1")][:2] == (["PH"], 2)
    assert all(name for _, _, name in alerts.values())
    ordered = [n for (n,) in scored.wh.execute(
        "SELECT alert_no FROM det_alerts ORDER BY score DESC, role, provider, party_id"
    ).fetchall()]
    assert ordered == sorted(ordered)  # the queue sorts by score through the alert number


def test_ingesting_drops_the_indexes_and_the_next_run_builds_them(scored: Scored,
                                                                  tmp_path) -> None:
    from sentinelle.detect import detect, load_catalogue
    from sentinelle.ingest import ingest_paths
    from tests.conftest import TXN_COLUMNS, write_csv

    def indexes() -> set[str]:
        return {r[0] for r in scored.wh.execute(
            "SELECT index_name FROM duckdb_indexes()").fetchall()}

    assert set(LOOKUP_INDEXES) <= indexes()
    more = [payment(9, "S9", "B9", "2024-04-01T12:00:00+01:00", txn_id="T9")]
    ingest_paths(scored.wh, "transactions", [write_csv(tmp_path / "more.csv", more,
                                                       TXN_COLUMNS)], user="test")
    assert not set(LOOKUP_INDEXES) & indexes()
    detect(scored.wh, load_catalogue(), user="test")
    assert set(LOOKUP_INDEXES) <= indexes()
