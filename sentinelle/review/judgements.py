"""Judgements on pairs of records: the review list of uncertain pairs, one pair side by
side with the model's explanation field by field, and the three answers — the same person,
not the same, unsure — each with its reason, audited, undoable.

The warehouse holds what the model said (``er_records``, ``er_pairs``, ``er_levels``,
``er_clusters``, written by ``sentinelle resolve``); the case database holds what people
said (``record_judgements``). The web application writes only the latter: a judgement
takes effect in the clusters at the next ``sentinelle resolve`` (or ``--recluster``, which
applies the judgements without training the model again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.resolve.clusters import pair
from sentinelle.review import access, audit
from sentinelle.review.models import VERDICTS, RecordJudgement, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.undoing import undo_row

__all__ = ["REVIEW_BAND", "PairView", "effective", "judge", "pair_view", "uncertain_pairs",
           "undo"]

# Pairs the model scores in this band are worth a person's look: below it they are
# nearly surely different people, above it nearly surely one.
REVIEW_BAND = (0.5, 0.99)
_RECORD_COLUMNS = ("record_id", "kind", "source", "source_id", "name", "birth_date", "phone",
                   "email", "account", "country")


def effective(session: Session) -> dict[tuple[str, str], str]:
    """The judgement that counts for each judged pair: the latest one not undone."""
    rows = session.execute(
        select(RecordJudgement.record_l, RecordJudgement.record_r, RecordJudgement.verdict)
        .where(RecordJudgement.undone_at.is_(None))
        .order_by(RecordJudgement.judged_at, RecordJudgement.id)).all()
    return {(left, right): verdict for left, right, verdict in rows}


def _require_resolution(view: WarehouseView) -> None:
    if not view.has_table("er_pairs"):
        raise NotFound("entity resolution has not run on this warehouse",
                       fix="run sentinelle resolve; the pairs appear here at once")


def _threshold(view: WarehouseView) -> float:
    value = view.scalar("SELECT threshold FROM er_runs ORDER BY run_id DESC LIMIT 1")
    return float(value) if value is not None else 0.9


def uncertain_pairs(session: Session, view: WarehouseView, user: User, *,
                    limit: int = 50, offset: int = 0,
                    ip: str | None = None) -> dict[str, Any]:
    """The pairs in the review band that nobody has judged, the most uncertain first
    (closest to the threshold), with both records' names; and the pairs over the band
    that clustering kept apart (a tip matching two namesakes joins one of them only; two
    tips sharing only a name are not joined directly), which only a person can settle."""
    access.require(user, "judge_records")
    _require_resolution(view)
    judged = effective(session)
    threshold = _threshold(view)
    low, high = REVIEW_BAND
    rows = view.dicts(
        """SELECT p.record_id_l, p.record_id_r, p.match_probability,
                  l.kind AS kind_l, l.name AS name_l, r.kind AS kind_r, r.name AS name_r,
                  cl.subject_id = cr.subject_id AS together
           FROM er_pairs p
           JOIN er_records l ON l.record_id = p.record_id_l
           JOIN er_records r ON r.record_id = p.record_id_r
           LEFT JOIN er_clusters cl ON cl.record_id = p.record_id_l
           LEFT JOIN er_clusters cr ON cr.record_id = p.record_id_r
           WHERE (p.match_probability >= ? AND p.match_probability < ?)
              OR (p.match_probability >= ? AND cl.subject_id <> cr.subject_id)
           ORDER BY abs(p.match_probability - ?), p.record_id_l, p.record_id_r""",
        [low, high, high, threshold])
    waiting = [r for r in rows if (r["record_id_l"], r["record_id_r"]) not in judged]
    audit.record(session, action="view_pairs", user=user, ip=ip,
                 detail={"offset": offset, "limit": limit})
    session.commit()
    return {"threshold": threshold, "band": list(REVIEW_BAND), "total": len(waiting),
            "judged": len(judged), "pairs": waiting[offset:offset + limit]}


@dataclass
class PairView:
    """One pair: both records, the model's probability and each field's part in it."""

    record_l: dict[str, Any]
    record_r: dict[str, Any]
    match_probability: float | None
    threshold: float
    fields: list[dict[str, Any]]
    together: bool
    judgements: list[dict[str, Any]] = field(default_factory=list)
    current: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"record_l": self.record_l, "record_r": self.record_r,
                "match_probability": self.match_probability, "threshold": self.threshold,
                "fields": self.fields, "together": self.together,
                "judgements": self.judgements, "current": self.current}


def _record(view: WarehouseView, record_id: str) -> dict[str, Any]:
    row = view.one(f"SELECT {', '.join(_RECORD_COLUMNS)} FROM er_records "
                   "WHERE record_id = ?", [record_id])
    if row is None:
        raise NotFound(f"no record {record_id!r} in the last resolution run",
                       fix="run sentinelle resolve, or check the record id")
    return row


def pair_view(session: Session, view: WarehouseView, user: User, a: str, b: str, *,
              ip: str | None = None) -> PairView:
    """The two records side by side with the model's explanation and the judgements made
    on the pair so far; the view is audited."""
    access.require(user, "judge_records")
    _require_resolution(view)
    left, right = pair(a, b)
    record_l, record_r = _record(view, left), _record(view, right)
    scored = view.one("SELECT * FROM er_pairs WHERE record_id_l = ? AND record_id_r = ?",
                      [left, right]) or {}
    labels = {(f, g): label for f, g, label in view.rows(
        "SELECT field, gamma, label FROM er_levels")}
    fields = []
    for column, gamma in scored.items():
        if column.startswith("gamma_"):
            name = column.removeprefix("gamma_")
            weight = scored.get(f"mw_{name}")
            fields.append({"field": name, "gamma": gamma,
                           "level": labels.get((name, gamma), str(gamma)),
                           "match_weight": None if weight is None else float(weight)})
    subjects = dict(view.rows("SELECT record_id, subject_id FROM er_clusters "
                              "WHERE record_id IN (?, ?)", [left, right]))
    history = session.execute(
        select(RecordJudgement, User.username).join(User, User.id == RecordJudgement.judged_by)
        .where(RecordJudgement.record_l == left, RecordJudgement.record_r == right)
        .order_by(RecordJudgement.judged_at, RecordJudgement.id)).all()
    undoers = {u.id: u.username for u in session.scalars(select(User)).all()} \
        if any(j.undone_by for j, _ in history) else {}
    judgements = [{"id": j.id, "verdict": j.verdict, "reason": j.reason, "by": name,
                   "at": j.judged_at, "match_probability": j.match_probability,
                   "undone_at": j.undone_at, "undone_by": undoers.get(j.undone_by or 0),
                   "undo_reason": j.undo_reason} for j, name in history]
    live = [j for j in judgements if j["undone_at"] is None]
    audit.record(session, action="view_pair", user=user, target=f"{left}|{right}", ip=ip)
    session.commit()
    probability = scored.get("match_probability")
    return PairView(record_l, record_r, None if probability is None else float(probability),
                    _threshold(view), fields,
                    bool(subjects) and subjects.get(left) == subjects.get(right),
                    judgements, str(live[-1]["verdict"]) if live else None)


def judge(session: Session, view: WarehouseView, user: User, a: str, b: str, verdict: str,
          reason: str, *, ip: str | None = None) -> RecordJudgement:
    """Record a judgement on a pair of records (both must be in the last resolution run)."""
    access.require(user, "judge_records")
    _require_resolution(view)
    if verdict not in VERDICTS:
        raise ReviewError(f"unknown judgement {verdict!r}",
                          fix="use one of: " + ", ".join(VERDICTS))
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a judgement needs a reason", fix="say why, in a few words")
    left, right = pair(a, b)
    if left == right:
        raise ReviewError("a record cannot be judged against itself")
    _record(view, left)
    _record(view, right)
    probability = view.scalar("SELECT match_probability FROM er_pairs "
                              "WHERE record_id_l = ? AND record_id_r = ?", [left, right])
    run = view.scalar("SELECT max(run_id) FROM er_runs")
    made = RecordJudgement(record_l=left, record_r=right, verdict=verdict, reason=reason,
                           judged_by=user.id, judged_at=audit.utcnow(),
                           match_probability=None if probability is None else float(probability),
                           resolve_run=run)
    session.add(made)
    session.flush()
    audit.record(session, action="judge_records", user=user, target=f"{left}|{right}", ip=ip,
                 detail={"judgement": made.id, "verdict": verdict, "reason": reason,
                         "match_probability": made.match_probability})
    session.commit()
    return made


def undo(session: Session, user: User, judgement_id: int, reason: str, *,
         ip: str | None = None) -> RecordJudgement:
    """Mark a judgement undone, with who, when and why; it stays in the history."""
    return undo_row(session, user, RecordJudgement, judgement_id, reason, noun="judgement",
                    action="undo_judgement", ip=ip,
                    describe=lambda j: (f"{j.record_l}|{j.record_r}", {"verdict": j.verdict}))
