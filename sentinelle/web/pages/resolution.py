"""Entity resolution's review pages: the uncertain pairs, one pair side by side with the
model's explanation, and the three answers (the same person, not the same, unsure)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from sentinelle.review import judgements
from sentinelle.review.models import VERDICTS
from sentinelle.web.context import DB, FormWriter, SignedIn, Warehouse
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()
PER_PAGE = 50


def _pair_query(a: str, b: str) -> str:
    return urlencode({"a": a, "b": b})


def _pair_path(a: str, b: str) -> str:
    return "/resolution/pair?" + _pair_query(a, b)


@router.get("/resolution")
def pairs_page(request: Request, auth: SignedIn, session: DB, view: Warehouse,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    found = judgements.uncertain_pairs(session, view, auth.user, limit=PER_PAGE,
                                       offset=(page - 1) * PER_PAGE, ip=auth.ip)
    return render(request, "resolution.html", auth, found=found, page=page,
                  pages=max(1, -(-found["total"] // PER_PAGE)), pair_path=_pair_path)


@router.get("/resolution/pair")
def pair_page(request: Request, auth: SignedIn, session: DB, view: Warehouse,
              a: Annotated[str, Query(min_length=1, max_length=300)],
              b: Annotated[str, Query(min_length=1, max_length=300)]) -> Response:
    shown = judgements.pair_view(session, view, auth.user, a, b, ip=auth.ip)
    return render(request, "resolution_pair.html", auth, p=shown, verdicts=VERDICTS)


@router.post("/resolution/judge")
def judge(auth: FormWriter, session: DB, view: Warehouse,
          a: Annotated[str, Form(max_length=300)], b: Annotated[str, Form(max_length=300)],
          verdict: Annotated[str, Form(max_length=20)],
          reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    made = judgements.judge(session, view, auth.user, a, b, verdict, reason, ip=auth.ip)
    return redirect("/resolution/pair", f"judged: {VERDICTS[made.verdict]}; the clusters "
                    "change at the next sentinelle resolve (or --recluster)",
                    query=_pair_query(a, b))


@router.post("/resolution/undo")
def undo(auth: FormWriter, session: DB, a: Annotated[str, Form(max_length=300)],
         b: Annotated[str, Form(max_length=300)],
         judgement: Annotated[int, Form(ge=1, le=2**31 - 1)],
         reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    judgements.undo(session, auth.user, judgement, reason, ip=auth.ip)
    return redirect("/resolution/pair", f"judgement {judgement} undone",
                    query=_pair_query(a, b))
