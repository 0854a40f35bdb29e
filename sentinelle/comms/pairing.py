"""Payments paired with the calls that follow them: corroborated sessions.

A session is a payment from a sender to a beneficiary followed, within a window, by a
voice or video call of some length between a handle linked to the payer and a handle
linked to the beneficiary (``comm_handle_parties``). The seed report's sessions cost
€15-20 for 45 minutes to an hour, paid before the show; the defaults — a call starting at
most two hours after the payment and lasting at least ten minutes — leave room for both
the wait and a short session, and are parameters, declared once here.

Each payment is paired with at most one call and each call with at most one payment:
payments in time order each take the earliest call not yet taken, so two payments before
one call make one session, not two.

Tables (replaced on each run):

- ``comm_sessions``         one row per session: the payment, the call, the gap, the
                            duration, and the parameters used;
- ``comm_session_parties``  per buyer and per facilitator: sessions, euros, call time —
                            the feature detection reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from sentinelle.comms.handles import Attached, link_handles
from sentinelle.comms.table import CALL_KINDS, ensure_tables
from sentinelle.errors import SentinelleError
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.dialect import DUCKDB


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    help: str


PARAMETERS = (
    Parameter("within_hours", 2.0, "A call pairs with a payment when it starts at most this "
              "many hours after it."),
    Parameter("min_minutes", 10.0, "The call must last at least this many minutes."),
)
DEFAULTS = {p.name: p.default for p in PARAMETERS}
HELP = {p.name: p.help for p in PARAMETERS}

_CANDIDATES = f"""
WITH calls AS (
  SELECT comm_id, "timestamp" AS call_at, duration_s, kind, platform, sender, recipients
  FROM communications WHERE kind IN {CALL_KINDS} AND duration_s >= $min_s),
ends AS (
  SELECT comm_id, platform, sender AS handle FROM calls
  UNION SELECT comm_id, platform, unnest(recipients) FROM calls),
b AS (SELECT * FROM comm_handle_parties WHERE role = 'buyer'),
f AS (SELECT * FROM comm_handle_parties WHERE role = 'facilitator'),
pairs AS (
  SELECT DISTINCT c.comm_id, b.provider, b.party_id AS buyer_id, f.party_id AS facilitator_id
  FROM calls c
  JOIN ends eb ON eb.comm_id = c.comm_id
  JOIN b ON b.platform = eb.platform AND b.handle = eb.handle
  JOIN ends ef ON ef.comm_id = c.comm_id AND ef.handle <> eb.handle
  JOIN f ON f.platform = ef.platform AND f.handle = ef.handle AND f.provider = b.provider)
SELECT t.provider, t.txn_id, t."timestamp" AS paid_at, t.amount_eur, t.sender_id,
       t.beneficiary_id, c.comm_id, c.call_at, c.kind, c.platform, c.duration_s,
       CAST({DUCKDB.epoch_seconds('c.call_at')} - {DUCKDB.epoch_seconds('t."timestamp"')}
            AS BIGINT) AS gap_s
FROM pairs p
JOIN calls c USING (comm_id)
JOIN transactions t ON t.provider = p.provider AND t.sender_id = p.buyer_id
 AND t.beneficiary_id = p.facilitator_id
WHERE c.call_at >= t."timestamp"
  AND {DUCKDB.epoch_seconds('c.call_at')} - {DUCKDB.epoch_seconds('t."timestamp"')} <= $within_s
ORDER BY paid_at, provider, txn_id, gap_s, comm_id"""

_SESSION_FIELDS = [("session_id", pa.int64()), ("provider", pa.string()),
                   ("txn_id", pa.string()), ("paid_at", pa.timestamp("us")),
                   ("amount_eur", pa.float64()), ("buyer_id", pa.string()),
                   ("facilitator_id", pa.string()), ("comm_id", pa.string()),
                   ("call_at", pa.timestamp("us")), ("call_kind", pa.string()),
                   ("platform", pa.string()), ("duration_s", pa.int64()), ("gap_s", pa.int64())]

_PARTIES = """CREATE OR REPLACE TABLE comm_session_parties AS
SELECT role, provider, party_id, count(*) AS sessions, sum(amount_eur) AS euros,
       sum(duration_s) AS call_seconds, min(paid_at) AS first_session,
       max(paid_at) AS last_session
FROM (SELECT 'buyer' AS role, provider, buyer_id AS party_id, amount_eur, duration_s, paid_at
      FROM comm_sessions
      UNION ALL SELECT 'facilitator', provider, facilitator_id, amount_eur, duration_s, paid_at
      FROM comm_sessions)
GROUP BY ALL ORDER BY role, sessions DESC, euros DESC NULLS LAST, provider, party_id"""


@dataclass(frozen=True)
class PairingRun:
    links: int
    candidates: int
    sessions: int
    parameters: dict[str, float]


def pair_sessions(wh: Warehouse, within_hours: float = DEFAULTS["within_hours"],
                  min_minutes: float = DEFAULTS["min_minutes"],
                  attached: Sequence[Attached] = ()) -> PairingRun:
    """Link handles to parties (``attached``: an analyst's links, from the case
    database), then pair each payment with the call that follows it."""
    if not within_hours > 0 or min_minutes < 0:
        raise SentinelleError("the pairing window must be positive and the minimum duration "
                              "zero or more", value=f"{within_hours} h, {min_minutes} min",
                              fix="e.g. --within-hours 2 --min-minutes 10")
    ensure_tables(wh)
    links = link_handles(wh, attached)
    rows = wh.execute(_CANDIDATES, {"within_s": int(within_hours * 3600),
                                    "min_s": int(min_minutes * 60)}).fetchall()
    sessions = _one_to_one(rows)
    table = pa.table({name: pa.array([s[i] for s in sessions], kind)
                      for i, (name, kind) in enumerate(_SESSION_FIELDS)})
    made = datetime.now(UTC).replace(tzinfo=None)
    wh.execute("BEGIN TRANSACTION")
    try:
        wh.con.register("comm_sessions_view", table)
        wh.execute("CREATE OR REPLACE TABLE comm_sessions AS SELECT *, "
                   "CAST($within AS DOUBLE) AS within_hours, "
                   "CAST($min AS DOUBLE) AS min_minutes, CAST($made AS TIMESTAMP) AS made_at "
                   "FROM comm_sessions_view ORDER BY session_id",
                   {"within": within_hours, "min": min_minutes, "made": made}).fetchall()
        wh.con.unregister("comm_sessions_view")
        wh.execute(_PARTIES).fetchall()
        wh.execute("COMMIT")
    except BaseException:
        wh.execute("ROLLBACK")
        raise
    return PairingRun(links, len(rows), len(sessions),
                      {"within_hours": within_hours, "min_minutes": min_minutes})


def _one_to_one(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Payments in time order, each with the earliest call no earlier payment took."""
    taken_calls: set[str] = set()
    paid: set[tuple[str, str]] = set()
    out: list[tuple[Any, ...]] = []
    for (provider, txn_id, paid_at, eur, buyer, facilitator, comm_id, call_at, kind,
         platform, duration, gap) in rows:
        if (provider, txn_id) in paid or comm_id in taken_calls:
            continue
        paid.add((provider, txn_id))
        taken_calls.add(comm_id)
        out.append((len(out) + 1, provider, txn_id, paid_at,
                    float(eur) if eur is not None else None, buyer, facilitator, comm_id,
                    call_at, kind, platform, duration, gap))
    return out
