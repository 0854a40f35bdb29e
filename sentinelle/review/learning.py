"""Learning from decisions: the team's dispositions become labels, a glass-box model is
trained on them as a candidate, its effect on the queue is shown, and a supervisor adopts
it (or not). Detection with ``--scorer model`` then scores with the adopted version and
records its number with every score.

Labels: the latest decision on each alert; *escalate* is a positive case, *false positive*
a negative one, *needs more information* is no label yet. A file of outcomes (``sentinelle
model train --labels FILE``) goes through the same path.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentinelle.detect.catalogue import ROLES, Catalogue
from sentinelle.detect.model import Label, TrainedModel, features, fit, latest_run, score_with
from sentinelle.detect.scoring import Weights
from sentinelle.errors import LabelsError, NotFound, ReviewError
from sentinelle.review import audit
from sentinelle.review.audit import Actor
from sentinelle.review.models import Disposition, ModelVersion, User
from sentinelle.warehouse import Warehouse

LABEL_OF = {"escalate": True, "false_positive": False}  # needs_information: no label yet


def labels_from_decisions(session: Session) -> list[Label]:
    """The latest decision on each party, as a label (skipping 'needs information')."""
    latest = (select(Disposition.role, Disposition.provider, Disposition.party_id,
                     func.max(Disposition.id).label("id"))
              .group_by(Disposition.role, Disposition.provider, Disposition.party_id)
              .subquery())
    rows = session.execute(select(Disposition).join(latest, Disposition.id == latest.c.id))
    return [Label(d.party_id, d.role, LABEL_OF[d.decision], d.provider)
            for (d,) in rows if d.decision in LABEL_OF]


def train_candidates(wh: Warehouse, session: Session, catalogue: Catalogue,
                     labels: list[Label], *, actor: User | Actor, source: str,
                     ip: str | None = None) -> list[ModelVersion]:
    """Fit a model per role with labels and keep each as a candidate (audited)."""
    if not labels:
        raise LabelsError("there are no decided alerts to learn from yet",
                          fix="escalate or clear alerts in the queue first (a reason each)")
    models = fit(wh, catalogue, labels, source=source)
    run_id = latest_run(wh)
    by = actor.username
    out = []
    for role, m in models.items():
        version = ModelVersion(
            role=role, status="candidate", source=source, trained_at=audit.utcnow(),
            trained_by=by, run_id=run_id, catalogue_digest=catalogue.digest(),
            n_labels=m.quality.n_labels, n_positive=m.quality.n_positive,
            intercept=m.intercept, coefficients=json.dumps(m.coefficients, sort_keys=True),
            quality=json.dumps(asdict(m.quality), sort_keys=True))
        session.add(version)
        session.flush()
        audit.record(session, action="train_model", user=actor, target=f"model/{version.id}",
                     detail={"role": role, "source": source, "labels": m.quality.n_labels,
                             "positive": m.quality.n_positive,
                             "average_precision": round(m.quality.average_precision, 4)},
                     ip=ip)
        out.append(version)
    session.commit()
    return out


def trained(version: ModelVersion) -> TrainedModel:
    from sentinelle.detect.model import Quality

    return TrainedModel(version.role, version.intercept, json.loads(version.coefficients),
                        Quality(**json.loads(version.quality)))


def weights(version: ModelVersion) -> Weights:
    return Weights(version.role, version.intercept, 1.0, json.loads(version.coefficients),
                   scorer=f"model v{version.id}")


def adopted_models(session: Session) -> dict[str, Weights]:
    """The adopted model of each role that has one, for detection."""
    rows = session.scalars(select(ModelVersion).where(ModelVersion.status == "adopted"))
    return {v.role: weights(v) for v in rows}


def versions(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


def adopt(session: Session, version_id: int, *, actor: User | Actor,
          ip: str | None = None) -> ModelVersion:
    """Make a candidate the role's model; the previous one is retired (both audited)."""
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"no model version {version_id}", fix="sentinelle model list")
    if version.status != "candidate":
        raise ReviewError(f"model v{version_id} is {version.status}, not a candidate",
                          fix="train a new candidate to change the model")
    for old in session.scalars(select(ModelVersion).where(
            ModelVersion.role == version.role, ModelVersion.status == "adopted")):
        old.status = "retired"
    version.status = "adopted"
    version.adopted_at = audit.utcnow()
    version.adopted_by = actor.username
    audit.record(session, action="adopt_model", user=actor, target=f"model/{version.id}",
                 detail={"role": version.role}, ip=ip)
    session.commit()
    return version


@dataclass
class Change:
    provider: str
    party_id: str
    name: str | None
    country: str | None
    current: float
    candidate: float


@dataclass
class Preview:
    """What adopting a candidate would change in the queue of the latest run."""

    version: int
    role: str
    threshold: float
    alerts_now: int
    alerts_then: int
    new: list[Change] = field(default_factory=list)  # would become alerts
    dropped: list[Change] = field(default_factory=list)  # would stop being alerts
    new_count: int = 0
    dropped_count: int = 0


def preview(wh: Warehouse, session: Session, version_id: int, catalogue: Catalogue,
            limit: int = 20) -> Preview:
    """Score the latest run's parties with a candidate and compare with today's scores."""
    import numpy as np

    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"no model version {version_id}", fix="sentinelle model list")
    threshold = float(json.loads(wh.scalar(
        "SELECT parameters FROM det_runs ORDER BY started_at DESC LIMIT 1"))["alert_threshold"])
    keys, matrix, ids = features(wh, version.role, catalogue)
    candidate = score_with(trained(version), matrix, ids)
    now = {(p, pid): (name, country, score) for p, pid, name, country, score in wh.execute(
        "SELECT provider, party_id, name, country, score FROM det_scores WHERE role = ?",
        [version.role]).fetchall()}
    current = np.array([now[k][2] for k in keys])
    was, will = current >= threshold, candidate >= threshold
    out = Preview(version_id, version.role, threshold, int(was.sum()), int(will.sum()),
                  new_count=int((will & ~was).sum()), dropped_count=int((was & ~will).sum()))

    def changes(mask: np.ndarray, order: np.ndarray) -> list[Change]:
        rows = [i for i in np.argsort(-order) if mask[i]][:limit]
        return [Change(keys[i][0], keys[i][1], now[keys[i]][0], now[keys[i]][1],
                       float(current[i]), float(candidate[i])) for i in rows]

    out.new = changes(will & ~was, candidate)
    out.dropped = changes(was & ~will, current)
    return out


def pending_candidates(session: Session) -> list[ModelVersion]:
    """Candidates newer than their role's adopted model: what the queue banner announces."""
    adopted = {v.role: v.id for v in session.scalars(
        select(ModelVersion).where(ModelVersion.status == "adopted"))}
    return [v for v in session.scalars(
        select(ModelVersion).where(ModelVersion.status == "candidate")
        .order_by(ModelVersion.id.desc()))
        if v.id > adopted.get(v.role, 0)]


__all__ = ["ROLES", "Change", "Preview", "adopt", "adopted_models", "labels_from_decisions",
           "pending_candidates", "preview", "train_candidates", "versions", "weights"]
