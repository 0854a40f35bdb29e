"""Learning from decisions: the supervisor retrains on the team's decisions, sees what the
candidate would change in the queue, adopts it; detection then records its version."""

from __future__ import annotations

import re
import shutil

from sqlalchemy import select

from sentinelle.detect import detect, load_catalogue
from sentinelle.review import audit, learning
from sentinelle.review.models import ModelVersion
from sentinelle.warehouse import open_warehouse
from tests.web.conftest import Site, assert_error_shape, form_token


def _decide(client, role: str, decision: str, alerts: list[dict]) -> None:
    done = client.api("POST", "/api/alerts/dispose", json={
        "keys": [a["key"] for a in alerts], "decision": decision,
        "reason": f"placeholder reason: {decision}"})
    assert done.status_code == 200, done.text


def test_retrain_preview_adopt_and_detect_with_the_adopted_version(site: Site, as_user,
                                                                   tmp_path) -> None:
    sue = as_user("sue")
    assert "Retrain from decisions" in sue.get("/model").text  # no model yet
    for role in ("buyer", "facilitator"):
        alerts = sue.get("/api/alerts", params={"role": role, "per_page": 7,
                                                "sort": "rank", "order": "asc"}).json()
        ranked = alerts["alerts"]
        assert len(ranked) >= 5, role
        _decide(sue, role, "escalate", ranked[:3])
        _decide(sue, role, "false_positive", ranked[3:5])
        _decide(sue, role, "needs_information", ranked[5:6])  # not a label yet

    with site.sessions()() as session:
        labels = learning.labels_from_decisions(session)
    assert sorted((x.role, x.label) for x in labels).count(("buyer", True)) == 3
    assert len(labels) == 10  # "needs more information" is not a label

    page = sue.get("/model")
    trained = sue.post_form("/model", {"action": "train", "csrf_token": form_token(page.text)},
                            csrf=False)
    assert trained.status_code == 303, trained.text
    page = sue.get("/model")
    assert "what it would change" in page.text
    assert re.search(r"alert\(s\) today", page.text)
    queue = sue.get("/queue")
    assert "A retrained model is waiting for review" in queue.text

    with site.sessions()() as session:
        candidates = {v.role: v.id for v in session.scalars(select(ModelVersion))}
        log = [e.action for e in audit.entries(session, action="train_model")]
    assert set(candidates) == {"buyer", "facilitator"} and len(log) == 2

    for role, version in candidates.items():
        adopted = sue.post_form("/model", {"action": "adopt", "version": version,
                                           "csrf_token": form_token(sue.get("/model").text)},
                                csrf=False)
        assert adopted.status_code == 303, (role, adopted.text)
    assert "A retrained model is waiting" not in sue.get("/queue").text

    with site.sessions()() as session:
        models = learning.adopted_models(session)
    assert {w.scorer for w in models.values()} == {f"model v{v}" for v in candidates.values()}
    copy = tmp_path / "w.duckdb"  # the other modules share the warehouse: score a copy
    shutil.copyfile(site.warehouse, copy)
    with open_warehouse(copy) as wh:
        run = detect(wh, load_catalogue(), user="test", models=models)
        recorded = dict(wh.execute("SELECT DISTINCT role, scorer FROM det_scores").fetchall())
    assert recorded == {role: f"model v{v}" for role, v in candidates.items()}
    assert f"buyer: model v{candidates['buyer']}" in run.scorer


def test_only_supervisors_retrain(site: Site, as_user) -> None:
    for who in ("ana", "ivy", "aud", "adm"):
        client = as_user(who)
        assert client.get("/model").status_code == 403, who
        refused = client.post_form("/model", {"action": "train"})
        assert refused.status_code == 403, who
    assert_error_shape(as_user("ana").api("GET", "/api/alerts", params={"per_page": "x"}), 422)


def test_retraining_with_no_decisions_is_refused_with_the_fix(world, tmp_path) -> None:
    from tests.web.conftest import make_site

    site = make_site(tmp_path, world)
    client = site.client("sue")
    page = client.get("/model")
    refused = client.post_form("/model", {"action": "train",
                                          "csrf_token": form_token(page.text)}, csrf=False)
    assert refused.status_code == 400
    assert "no decided alerts to learn from yet" in refused.text
