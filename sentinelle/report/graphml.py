"""The network of a subject or a case as GraphML, for Gephi, i2 Analyst's Notebook and
Maltego imports.

Nodes are the parties on the report's payments (``sender:PROVIDER:ID`` or
``beneficiary:PROVIDER:ID``: a sender and a beneficiary may share an id), with their role,
score in the last detection run, whether a referral names them and whether they are a
subject of the report. Edges are the payments from one sender to one beneficiary,
aggregated: how many, how many euros, first and last. Keys are declared with GraphML types
(``double``, ``int``, ``boolean``), so the tools read numbers as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lxml import etree

from sentinelle.report.gather import ReportData
from sentinelle.review.subjects import PartyKey

__all__ = ["EDGE_KEYS", "NODE_KEYS", "render_graphml"]

NS = "http://graphml.graphdrawing.org/xmlns"
NODE_KEYS = (("label", "string"), ("role", "string"), ("provider", "string"),
             ("party_id", "string"), ("country", "string"), ("score", "double"),
             ("referred", "boolean"), ("subject", "boolean"))
EDGE_KEYS = (("payments", "int"), ("eur", "double"), ("first", "string"),
             ("last", "string"))


@dataclass
class _Edge:
    payments: int = 0
    eur: Decimal = Decimal(0)
    first: datetime | None = None
    last: datetime | None = None


def _edges(data: ReportData) -> dict[tuple[PartyKey, PartyKey], _Edge]:
    edges: dict[tuple[PartyKey, PartyKey], _Edge] = {}
    for t in data.transactions:
        if t.sender.party_id is None or t.beneficiary.party_id is None:
            continue
        e = edges.setdefault((t.sender, t.beneficiary), _Edge())
        e.payments += 1
        e.eur += t.amount_eur or 0
        if t.timestamp is not None:
            e.first = t.timestamp if e.first is None else min(e.first, t.timestamp)
            e.last = t.timestamp if e.last is None else max(e.last, t.timestamp)
    return edges


def render_graphml(data: ReportData) -> bytes:
    root = etree.Element(f"{{{NS}}}graphml", nsmap={None: NS})
    for scope, keys in (("node", NODE_KEYS), ("edge", EDGE_KEYS)):
        for name, kind in keys:
            etree.SubElement(root, f"{{{NS}}}key", id=f"{scope[0]}_{name}", attrib={
                "for": scope, "attr.name": name, "attr.type": kind})
    graph = etree.SubElement(root, f"{{{NS}}}graph", id=data.reference,
                             edgedefault="directed")

    def put(parent: etree._Element, key: str, value: object) -> None:
        if value is None:
            return
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        etree.SubElement(parent, f"{{{NS}}}data", key=key).text = text

    for party in data.parties.values():
        node = etree.SubElement(graph, f"{{{NS}}}node", id=party.node_id)
        node_values: tuple[tuple[str, object], ...] = (
            ("label", party.name), ("role", party.key.role), ("provider", party.key.provider),
            ("party_id", party.key.party_id), ("country", party.country),
            ("score", None if party.score is None else round(party.score, 6)),
            ("referred", party.referred), ("subject", party.subject))
        for name, value in node_values:
            put(node, f"n_{name}", value)
    for n, ((sender, beneficiary), e) in enumerate(sorted(_edges(data).items()), 1):
        edge = etree.SubElement(graph, f"{{{NS}}}edge", id=f"e{n}",
                                source=data.parties[sender].node_id,
                                target=data.parties[beneficiary].node_id)
        edge_values: tuple[tuple[str, object], ...] = (
            ("payments", e.payments), ("eur", e.eur),
            ("first", e.first.isoformat() if e.first else None),
            ("last", e.last.isoformat() if e.last else None))
        for name, value in edge_values:
            put(edge, f"e_{name}", value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
