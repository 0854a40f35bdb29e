"""A subject's neighbourhood: the people it pays or is paid by, and who else they deal with.

From a sender (a buyer): his beneficiaries, then their other senders — who else pays the
same people. From a beneficiary (a facilitator): her senders, then the other beneficiaries
they pay. This is how an investigator follows the money from what is already known (a
referral, a confirmed facilitator) to who else paid the same people.

The links come from ``det_links``, which detection keeps only where one side scores at
least ``lead_threshold`` (the network worth following; the other millions of family
remittances are not in it). A subject below that threshold has its own links read from
``transactions`` instead (bounded), so its page is never empty; from its counterparts on,
the walk follows ``det_links`` again.

The graph is capped at ``max_nodes``: at each hop the counterparts are kept strongest first
(their score, then the euros on the links), and the answer says how many were left out.
Every view is written to the audit log, like a subject view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.resolve.subjects import SUBJECT_PROVIDER
from sentinelle.review import access, audit
from sentinelle.review.models import User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import OTHER_ROLE, SIDES, PartyKey

__all__ = ["DEFAULT_HOPS", "DEFAULT_NODES", "MAX_HOPS", "MAX_NODES", "Network", "network"]

DEFAULT_HOPS, MAX_HOPS = 2, 3
DEFAULT_NODES, MAX_NODES = 150, 500
# Links between the kept nodes, at most this many per node (a hub's thousand senders are
# already capped as nodes; this bounds the answer when the kept nodes are densely linked).
EDGES_PER_NODE = 5


@dataclass
class Network:
    """Nodes (parties) and edges (a sender's payments to a beneficiary, summed)."""

    subject: str
    hops: int
    max_nodes: int
    lead_threshold: float | None
    own_links_from: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    nodes_left_out: int = 0
    edges_left_out: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "hops": self.hops, "max_nodes": self.max_nodes,
                "lead_threshold": self.lead_threshold, "own_links_from": self.own_links_from,
                "nodes": self.nodes, "edges": self.edges,
                "nodes_left_out": self.nodes_left_out, "edges_left_out": self.edges_left_out}


def network(session: Session, view: WarehouseView, user: User, key: PartyKey, *,
            hops: int = DEFAULT_HOPS, max_nodes: int = DEFAULT_NODES,
            ip: str | None = None) -> Network:
    """The subject's neighbourhood up to ``hops`` links away, at most ``max_nodes`` nodes;
    the view is written to the audit log first."""
    access.require(user, "view_subject")
    if not 1 <= hops <= MAX_HOPS:
        raise ReviewError(f"hops must be between 1 and {MAX_HOPS}, not {hops}")
    if not 2 <= max_nodes <= MAX_NODES:
        raise ReviewError(f"max_nodes must be between 2 and {MAX_NODES}, not {max_nodes}")
    view.require_detection()
    score = view.scalar("SELECT score FROM det_scores WHERE role = ? AND provider = ? "
                        "AND party_id = ?", list(key))
    if score is None:
        raise NotFound(f"no {key.role} {key.party_id!r} ({key.provider}) in the last "
                       "detection run", fix="search for the party by name, phone or id")
    audit.record(session, action="view_network", user=user, target=key.target, ip=ip,
                 detail={"hops": hops, "max_nodes": max_nodes})
    session.commit()

    lead = _lead_threshold(view)
    has_links = view.has_table("det_links")
    # det_links holds every link of a party scoring at least the threshold, and only the
    # links to leads of one below it: then its own links come from the transactions.
    from_transactions = not has_links or lead is None or score < lead
    graph = Network(subject=key.token, hops=hops, max_nodes=max_nodes, lead_threshold=lead,
                    own_links_from="transactions" if from_transactions else "det_links")
    kept: dict[PartyKey, int] = {key: 0}
    frontier = [key]
    own_edges: list[dict[str, Any]] = []
    for hop in range(1, hops + 1):
        room = max_nodes - len(kept)
        if room <= 0 or not frontier:
            break
        if hop == 1 and from_transactions:
            found, own_edges = _own_links(view, key, room)
        elif has_links:
            found = _neighbours(view, frontier, list(kept), room)
        else:
            break
        for party in found:
            kept[party] = hop
        frontier = found
    graph.nodes_left_out = _reach(view, key, hops, from_transactions, has_links) - \
        (len(kept) - 1)
    graph.nodes = _nodes(view, kept)
    graph.edges, graph.edges_left_out = _edges(view, list(kept), own_edges, has_links,
                                               max_nodes * EDGES_PER_NODE)
    return graph


def _lead_threshold(view: WarehouseView) -> float | None:
    """The threshold the last detection run kept det_links at."""
    run = view.latest_run()
    if run is None:
        return None
    raw = view.scalar("SELECT parameters FROM det_runs WHERE run_id = ?", [run["run_id"]])
    value = json.loads(raw or "{}").get("lead_threshold")
    return float(value) if value is not None else None


def _values(keys: list[PartyKey]) -> tuple[str, list[str]]:
    """A VALUES list of parties as bound parameters; only the placeholders are spliced."""
    return ", ".join("(?, ?, ?)" for _ in keys), [part for k in keys for part in k]


def _neighbours(view: WarehouseView, frontier: list[PartyKey], kept: list[PartyKey],
                limit: int) -> list[PartyKey]:
    """The first ``limit`` of the frontier's counterparts in det_links not yet kept,
    strongest first (score, then euros on their links to the frontier)."""
    f_sql, f_args = _values(frontier)
    k_sql, k_args = _values(kept)
    rows = view.rows(
        f"""WITH f(role, provider, party_id) AS (VALUES {f_sql}),
                 k(role, provider, party_id) AS (VALUES {k_sql}),
                 n AS (
                   SELECT 'facilitator' AS role, l.provider, l.beneficiary_id AS party_id,
                          l.beneficiary_score AS score, l.eur
                   FROM det_links l JOIN f ON f.role = 'buyer' AND f.provider = l.provider
                                          AND f.party_id = l.sender_id
                   UNION ALL
                   SELECT 'buyer', l.provider, l.sender_id, l.sender_score, l.eur
                   FROM det_links l JOIN f ON f.role = 'facilitator'
                                          AND f.provider = l.provider
                                          AND f.party_id = l.beneficiary_id),
                 g AS (
                   SELECT role, provider, party_id, max(score) AS score, sum(eur) AS eur
                   FROM n WHERE NOT EXISTS (
                     SELECT 1 FROM k WHERE k.role = n.role AND k.provider = n.provider
                                       AND k.party_id = n.party_id)
                   GROUP BY role, provider, party_id)
            SELECT role, provider, party_id FROM g
            ORDER BY score DESC NULLS LAST, eur DESC, role, provider, party_id
            LIMIT ?""", [*f_args, *k_args, limit])
    return [PartyKey(r[0], r[1], r[2]) for r in rows]


def _own_links(view: WarehouseView, key: PartyKey,
               limit: int) -> tuple[list[PartyKey], list[dict[str, Any]]]:
    """A party's own counterparts from its transactions, strongest first (for a party
    below the lead threshold, whose links det_links does not all hold)."""
    other_role = OTHER_ROLE[key.role]
    own, own_args = _own_payments(key)
    rows = view.dicts(
        f"""WITH c AS (
              SELECT t.other_id AS party_id, count(*) AS payments,
                     CAST(sum(t.amount_eur) AS DOUBLE) AS eur
              FROM ({own}) t GROUP BY 1)
            SELECT c.* FROM c
            LEFT JOIN det_scores s ON s.role = ? AND s.provider = ? AND s.party_id = c.party_id
            ORDER BY s.score DESC NULLS LAST, c.eur DESC NULLS LAST, c.party_id LIMIT ?""",
        [*own_args, other_role, key.provider, limit])
    found = [PartyKey(other_role, key.provider, r["party_id"]) for r in rows]
    edges = []
    for party, r in zip(found, rows, strict=True):
        sender, beneficiary = (key, party) if key.side == "sender" else (party, key)
        edges.append({"source": sender.token, "target": beneficiary.token,
                      "payments": r["payments"], "eur": r["eur"], "family": None})
    return found, edges


def _own_payments(key: PartyKey) -> tuple[str, list[Any]]:
    """The party's own payments as (other_id, amount_eur), with their bound arguments: a
    provider's party from the transactions; a subject through the parties it holds, each
    counterparty replaced by its own subject (det_subject_parties)."""
    side = key.side
    other = "beneficiary" if side == "sender" else "sender"
    if key.provider != SUBJECT_PROVIDER:
        return (f"""SELECT {other}_id AS other_id, amount_eur FROM transactions
                    WHERE provider = ? AND {side}_id = ? AND {other}_id IS NOT NULL""",
                [key.provider, key.party_id])
    return (f"""SELECT o.subject_id AS other_id, t.amount_eur
                FROM det_subject_parties m
                JOIN transactions t ON t.provider = m.provider AND t.{side}_id = m.party_id
                JOIN det_subject_parties o ON o.side = '{other}' AND o.provider = t.provider
                                          AND o.party_id = t.{other}_id
                WHERE m.side = '{side}' AND m.subject_id = ?""", [key.party_id])


def _reach(view: WarehouseView, key: PartyKey, hops: int, from_transactions: bool,
           has_links: bool) -> int:
    """How many parties lie within ``hops`` links of the subject, uncapped: what was
    left out is this less what is shown. One query, each hop a set of parties."""
    def step(source: str) -> str:
        return f"""SELECT 'facilitator', l.provider, l.beneficiary_id FROM det_links l
                   JOIN {source} x ON x.role = 'buyer' AND x.provider = l.provider
                                  AND x.party_id = l.sender_id
                   UNION SELECT 'buyer', l.provider, l.sender_id FROM det_links l
                   JOIN {source} x ON x.role = 'facilitator' AND x.provider = l.provider
                                  AND x.party_id = l.beneficiary_id"""

    own, own_args = _own_payments(key)
    first = (f"""SELECT DISTINCT '{OTHER_ROLE[key.role]}', ?, other_id FROM ({own})"""
             if from_transactions else step("r0"))
    if not has_links:
        hops = 1 if from_transactions else 0
    if hops == 0:
        return 0
    ctes = ["r0(role, provider, party_id) AS (SELECT ?, ?, ?)"]
    seen = "SELECT * FROM r0"
    for hop in range(1, hops + 1):
        ctes.append(f"r{hop}(role, provider, party_id) AS "
                    f"(({first if hop == 1 else step(f'r{hop - 1}')}) EXCEPT ({seen}))")
        seen += f" UNION SELECT * FROM r{hop}"
    args: list[Any] = list(key) + ([key.provider, *own_args] if from_transactions else [])
    counted = " + ".join(f"(SELECT count(*) FROM r{hop})" for hop in range(1, hops + 1))
    return int(view.scalar(f"WITH {', '.join(ctes)} SELECT {counted}", args))


def _nodes(view: WarehouseView, kept: dict[PartyKey, int]) -> list[dict[str, Any]]:
    """Each kept party with its name, country, score, and whether it is referred or an
    alert: the subject first, then hop by hop, strongest first."""
    keys = list(kept)
    v_sql, v_args = _values(keys)
    rows = view.dicts(
        f"""WITH k(role, provider, party_id) AS (VALUES {v_sql})
            SELECT k.role, k.provider, k.party_id, s.name, s.country, s.score,
                   EXISTS (SELECT 1 FROM det_referral_matches m WHERE m.role = k.role
                           AND m.provider = k.provider AND m.party_id = k.party_id)
                     AS referred,
                   a.alert_no IS NOT NULL AS is_alert
            FROM k LEFT JOIN det_scores s USING (role, provider, party_id)
                   LEFT JOIN det_alerts a USING (role, provider, party_id)""", v_args)
    nodes = []
    for r in rows:
        party = PartyKey(r["role"], r["provider"], r["party_id"])
        nodes.append({"id": party.token, "role": party.role, "side": SIDES[party.role],
                      "provider": party.provider, "party_id": party.party_id,
                      "name": r["name"], "country": r["country"], "score": r["score"],
                      "referred": bool(r["referred"]), "is_alert": bool(r["is_alert"]),
                      "hop": kept[party]})
    nodes.sort(key=lambda n: (n["hop"], -(n["score"] or 0.0), n["id"]))
    return nodes


def _edges(view: WarehouseView, kept: list[PartyKey], own: list[dict[str, Any]],
           has_links: bool, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every det_links link between two kept parties (largest first), and the subject's
    own links read from the transactions where det_links lacks them."""
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    left_out = 0
    buyers = [k for k in kept if k.role == "buyer"]
    sellers = [k for k in kept if k.role == "facilitator"]
    if has_links and buyers and sellers:
        b_sql, b_args = _values(buyers)
        f_sql, f_args = _values(sellers)
        rows = view.rows(
            f"""WITH b(role, provider, party_id) AS (VALUES {b_sql}),
                     f(role, provider, party_id) AS (VALUES {f_sql})
                SELECT l.provider, l.sender_id, l.beneficiary_id, l.payments,
                       CAST(l.eur AS DOUBLE), l.family, count(*) OVER ()
                FROM det_links l
                JOIN b ON b.provider = l.provider AND b.party_id = l.sender_id
                JOIN f ON f.provider = l.provider AND f.party_id = l.beneficiary_id
                ORDER BY l.eur DESC, l.sender_id, l.beneficiary_id LIMIT ?""",
            [*b_args, *f_args, limit])
        left_out = (rows[0][6] - len(rows)) if rows else 0
        for provider, sender, beneficiary, payments, eur, family, _ in rows:
            source = PartyKey("buyer", provider, sender).token
            target = PartyKey("facilitator", provider, beneficiary).token
            edges[(source, target)] = {"source": source, "target": target,
                                       "payments": payments, "eur": eur, "family": family}
    for edge in own:
        edges.setdefault((edge["source"], edge["target"]), edge)
    return list(edges.values()), left_out
