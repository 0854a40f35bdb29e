"""GraphML: read back by networkx (an independent reader), with typed attributes, one edge
per sender and beneficiary, euros adding up, and names in any script."""

from __future__ import annotations

import io

import networkx as nx
import pytest

from sentinelle.report.export import gather_subject
from sentinelle.report.gather import gather
from sentinelle.report.graphml import render_graphml
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, SENDER_NAMES


def _graph(content: bytes) -> nx.DiGraph:
    return nx.read_graphml(io.BytesIO(content))


def test_case_network_reads_back(synth_world):
    facilitator = synth_world.alert("facilitator")
    with synth_world.view() as view:
        one = gather_subject(view, facilitator)
        buyer = one.transactions[0].sender
        data = gather(view, [facilitator, buyer], scope="case", reference="C-T", title="t",
                      target="case/C-T")
    g = _graph(render_graphml(data))
    assert g.number_of_nodes() == len(data.parties)
    pairs = {(t.sender, t.beneficiary) for t in data.transactions}
    assert g.number_of_edges() == len(pairs)
    node = g.nodes[data.parties[facilitator].node_id]
    assert node["role"] == "facilitator" and node["subject"] is True
    assert isinstance(node["score"], float) and isinstance(node["referred"], bool)
    assert sum(d["payments"] for _, _, d in g.edges(data=True)) == len(data.transactions)
    assert sum(d["eur"] for _, _, d in g.edges(data=True)) == pytest.approx(
        float(data.total_eur))
    subjects = {n for n, d in g.nodes(data=True) if d["subject"]}
    assert subjects == {data.parties[facilitator].node_id, data.parties[buyer].node_id}


def test_names_in_any_script_survive(unicode_world):
    with unicode_world.view() as view:
        data = gather_subject(view, PartyKey("facilitator", "ExampleRemit", "B0001"))
    labels = {d["label"] for _, d in _graph(render_graphml(data)).nodes(data=True)}
    assert {BENEFICIARY_NAMES[1], *SENDER_NAMES} <= labels
