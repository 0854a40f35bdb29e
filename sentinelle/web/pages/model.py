"""The supervisor's model page: retrain the glass-box model on the team's decisions, see
what each candidate would change in the queue, adopt it."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentinelle.detect import load_catalogue
from sentinelle.errors import SentinelleError
from sentinelle.review import access, audit, learning
from sentinelle.warehouse import Warehouse as WarehouseConnection
from sentinelle.web.context import DB, Auth, FormWriter, SignedIn, Warehouse
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()


def _connection(view: Warehouse) -> WarehouseConnection:
    """The detection code reads through a warehouse object; this request's read-only
    connection serves as one."""
    return WarehouseConnection(Path(""), view.con)


def _page(request: Request, auth: Auth, session: DB, view: Warehouse,
          problem: SentinelleError | None = None) -> Response:
    access.require(auth.user, "train_model")
    catalogue = load_catalogue()
    versions = learning.versions(session)
    pending = learning.pending_candidates(session)
    previews = [learning.preview(_connection(view), session, v.id, catalogue)
                for v in pending] if view.has_table("det_scores") else []
    labels = learning.labels_from_decisions(session)
    audit.record(session, action="view_models", user=auth.user, ip=auth.ip)
    session.commit()
    return render(request, "model.html", auth, 400 if problem else 200, versions=versions,
                  previews=previews, quality={v.id: json.loads(v.quality) for v in versions},
                  labels={role: sum(1 for x in labels if x.role == role)
                          for role in learning.ROLES},
                  positives={role: sum(1 for x in labels if x.role == role and x.label)
                             for role in learning.ROLES}, problem=problem)


@router.get("/model")
def model_page(request: Request, auth: SignedIn, session: DB, view: Warehouse) -> Response:
    return _page(request, auth, session, view)


@router.post("/model")
async def model_action(request: Request, auth: FormWriter, session: DB,
                       view: Warehouse) -> Response:
    access.require(auth.user, "train_model")
    form = await request.form()
    action = str(form.get("action") or "")
    try:
        if action == "train":
            made = learning.train_candidates(
                _connection(view), session, load_catalogue(),
                learning.labels_from_decisions(session), actor=auth.user,
                source="decisions", ip=auth.ip)
            done = "trained " + ", ".join(f"v{v.id} ({v.role}s)" for v in made) + \
                "; review what each would change before adopting it"
        elif action == "adopt":
            version = learning.adopt(session, int(str(form.get("version") or "0")),
                                     actor=auth.user, ip=auth.ip)
            done = (f"model v{version.id} adopted for {version.role}s; the next detection "
                    "run with --scorer model uses it")
        else:
            raise SentinelleError(f"unknown action {action!r}", fix="use the buttons")
    except (SentinelleError, ValueError) as exc:
        session.rollback()
        problem = exc if isinstance(exc, SentinelleError) else SentinelleError(str(exc))
        return _page(request, auth, session, view, problem)
    return redirect("/model", done)
