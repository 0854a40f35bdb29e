"""The alert queue: filters and sort in the address (a view can be bookmarked and
shared), a tick box per alert, and one form for bulk assignment or a bulk decision."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentinelle.errors import ReviewError, SentinelleError
from sentinelle.review import access, learning, queue
from sentinelle.review.models import ALERT_STATUSES, DECISIONS
from sentinelle.review.subjects import PartyKey
from sentinelle.web.context import DB, Auth, FormWriter, SignedIn, Warehouse
from sentinelle.web.errors import status_for
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()

FILTER_FIELDS = ("role", "min_score", "corridor", "status", "assignee", "sort", "order",
                 "page", "per_page")


def filter_from(params: Mapping[str, str], me: str) -> queue.QueueFilter:
    """The filter a query string asks for; empty fields mean "any"."""
    given = {k: params.get(k, "").strip() for k in FILTER_FIELDS}
    problems = []

    def number(name: str, kind: type[int] | type[float], default: float | None) -> float | None:
        if not given[name]:
            return default
        try:
            return kind(given[name])
        except ValueError:
            problems.append(f"{name} {given[name]!r} is not a number")
            return default

    min_score = number("min_score", float, None)
    page = number("page", int, 1)
    per_page = number("per_page", int, 50)
    if problems:
        raise ReviewError("the queue filter is not valid", details=problems)
    f = queue.QueueFilter(
        role=given["role"] or None, min_score=min_score, corridor=given["corridor"] or None,
        status=given["status"] or None,
        assignee=me if given["assignee"] == "me" else (given["assignee"] or None),
        sort=given["sort"] or "score",
        descending={"asc": False, "desc": True}.get(given["order"]),
        page=int(page or 1), per_page=int(per_page or 50))
    f.check()
    return f


def _page(request: Request, auth: Auth, session: DB, view: Warehouse,
          params: dict[str, str], problem: SentinelleError | None = None) -> Response:
    f = filter_from(params, auth.user.username)
    result = queue.list_alerts(session, view, auth.user, f)
    kept = {k: v for k, v in params.items() if k in FILTER_FIELDS and v}

    def url(**changes: object) -> str:
        merged = {**kept, **{k: str(v) for k, v in changes.items() if v is not None}}
        merged = {k: v for k, v in merged.items() if v != ""}
        return "/queue?" + urlencode(merged)

    run = view.latest_run()
    corridors = _corridors(run)
    return render(request, "queue.html", auth, status_for(problem) if problem else 200,
                  result=result, f=f, given=params, url=url, query=urlencode(kept),
                  statuses=ALERT_STATUSES, decisions=list(DECISIONS), sorts=list(queue.SORTS),
                  users=queue.assignable_users(session), run=run, corridors=corridors,
                  problem=problem, candidates=learning.pending_candidates(session)
                  if access.can(auth.user, "train_model") else [])


def _corridors(run: dict[str, Any] | None) -> list[str]:
    try:
        return list(json.loads((run or {}).get("parameters") or "{}")
                    .get("high_risk_corridors", []))
    except ValueError:
        return []


@router.get("/queue")
def queue_page(request: Request, auth: SignedIn, session: DB, view: Warehouse) -> Response:
    return _page(request, auth, session, view, dict(request.query_params))


@router.post("/queue")
async def queue_action(request: Request, auth: FormWriter, session: DB,
                       view: Warehouse) -> Response:
    form = await request.form()
    back = str(form.get("back") or "")
    action = str(form.get("action") or "")
    try:
        keys = [PartyKey.parse(str(t)) for t in form.getlist("key")]
        if action == "assign":
            assignee = str(form.get("assignee") or "")
            n = queue.assign(session, view, auth.user, keys,
                             None if assignee in ("", "-") else assignee, ip=auth.ip)
            done = f"{n} alert(s) " + (f"assigned to {assignee}" if assignee not in ("", "-")
                                       else "unassigned")
        elif action == "dispose":
            decision = str(form.get("decision") or "")
            n = queue.dispose(session, view, auth.user, keys, decision,
                              str(form.get("reason") or ""), ip=auth.ip)
            done = f"{n} alert(s) marked {decision.replace('_', ' ')}"
        else:
            raise ReviewError(f"unknown action {action!r}", fix="use the buttons")
    except SentinelleError as exc:
        session.rollback()
        return _page(request, auth, session, view, dict(parse_qsl(back)), exc)
    return redirect("/queue", done, back)
