"""A subject's network: its two-hop neighbourhood drawn as a graph (``static/network.js``),
with the same nodes and links as tables for keyboard and screen-reader users and for a
browser without scripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sentinelle.review import network
from sentinelle.review.subjects import PartyKey
from sentinelle.web.context import DB, SignedIn, Warehouse
from sentinelle.web.templating import render

router = APIRouter()


@router.get("/network/{role}/{provider}/{party_id}")
def network_page(request: Request, role: str, provider: str, party_id: str, auth: SignedIn,
                 session: DB, view: Warehouse,
                 hops: Annotated[int, Query(ge=1, le=network.MAX_HOPS)] = network.DEFAULT_HOPS,
                 max_nodes: Annotated[int, Query(ge=2, le=network.MAX_NODES)] =
                 network.DEFAULT_NODES) -> Response:
    key = PartyKey.of(role, provider, party_id)
    graph = network.network(session, view, auth.user, key, hops=hops, max_nodes=max_nodes,
                            ip=auth.ip)
    names = {n["id"]: f"{n['name'] or '(no name)'} ({n['party_id']})" for n in graph.nodes}
    response = render(request, "network.html", auth, g=graph, data=graph.as_dict(),
                      subject=graph.nodes[0], names=names)
    # This page alone fetches (a node's links, from /api/network): the application's
    # policy plus connect-src 'self'. Imported here: the application imports the pages.
    from sentinelle.web.app import SECURITY_HEADERS

    policy = SECURITY_HEADERS["Content-Security-Policy"] + "; connect-src 'self'"
    response.headers["Content-Security-Policy"] = policy
    return response
