"""The alert queue: detection's alerts, with where each stands in the team's work.

The alerts live in the warehouse (``det_alerts``, ``det_scores``); their status, assignee
and decisions live in the case database. The two cannot be joined by one SQL engine, so a
filter on status or assignee sends the few matching keys from the case database to DuckDB
as a registered table, and everything else — filters, sort, pagination — runs in DuckDB
over the alerts. The page's own rows then fetch their state by key. ``det_alerts`` carries
every column the queue shows, sorts and filters on (corridors included), so a page reads
that table alone: never the scores of every party, nor the transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.review import access, audit
from sentinelle.review.models import ALERT_STATUSES, DECISIONS, AlertState, Disposition, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import SIDES, PartyKey

__all__ = ["SORTS", "AlertRow", "QueueFilter", "QueuePage", "assign", "assignable_users",
           "dispose", "list_alerts"]

# Sort name → (SQL expression over det_alerts ``a``, descending by default?). Ties are
# broken by the alert number, which numbers the alerts by score (highest first), then key:
# sorting by score is sorting by that number, a cheap integer, the other way round
# (_COUNTS_DOWN; sorting by ``-alert_no`` instead costs DuckDB twice as much).
SORTS: dict[str, tuple[str, bool]] = {
    "score": ("a.alert_no", True),
    "rank": ("a.rank", False),
    "eur": ("a.eur", True),
    "payments": ("a.payments", True),
    "last_payment": ("a.last_payment_at", True),
}
_COUNTS_DOWN = {"score"}
MAX_PER_PAGE = 200
_KEYS_SCHEMA = pa.schema([("role", pa.string()), ("provider", pa.string()),
                          ("party_id", pa.string())])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class QueueFilter:
    """What the analyst asked for. ``assignee`` is a username, or "none" for unassigned."""

    role: str | None = None
    min_score: float | None = None
    corridor: str | None = None
    status: str | None = None
    assignee: str | None = None
    sort: str = "score"
    descending: bool | None = None
    page: int = 1
    per_page: int = 50

    def check(self) -> None:
        problems = []
        if self.role is not None and self.role not in SIDES:
            problems.append(f"role {self.role!r}: use buyer or facilitator")
        if self.status is not None and self.status not in ALERT_STATUSES:
            problems.append(f"status {self.status!r}: use one of {', '.join(ALERT_STATUSES)}")
        if self.sort not in SORTS:
            problems.append(f"sort {self.sort!r}: use one of {', '.join(SORTS)}")
        if self.min_score is not None and not 0 <= self.min_score <= 1:
            problems.append("min_score must be between 0 and 1")
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            problems.append(f"page from 1, per_page from 1 to {MAX_PER_PAGE}")
        if problems:
            raise ReviewError("the queue filter is not valid", details=problems)


@dataclass
class AlertRow:
    key: PartyKey
    alert_no: int
    name: str | None
    country: str | None
    corridors: list[str]
    payments: int
    eur: float
    last_payment_at: datetime | None
    score: float
    rank: int
    reasons: list[str]
    status: str = "new"
    assignee: str | None = None
    decision: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key._asdict()
        out["token"] = self.key.token
        return out


@dataclass
class QueuePage:
    filter: QueueFilter
    total: int
    rows: list[AlertRow] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {"filter": asdict(self.filter), "total": self.total, "pages": self.pages,
                "alerts": [r.as_dict() for r in self.rows]}


def _keys_table(keys: Iterable[Sequence[str]]) -> pa.Table:
    cols: list[list[str]] = [[], [], []]
    for k in keys:
        for i in range(3):
            cols[i].append(k[i])
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in cols],
                                schema=_KEYS_SCHEMA)


def _state_filters(session: Session, f: QueueFilter) -> tuple[list[pa.Table], list[pa.Table]]:
    """Keys the alerts must be among (include) and must not be among (exclude)."""
    include: list[pa.Table] = []
    exclude: list[pa.Table] = []
    keys = (AlertState.role, AlertState.provider, AlertState.party_id)
    if f.status == "new":
        exclude.append(_keys_table(session.execute(
            select(*keys).where(AlertState.status != "new")).all()))
    elif f.status is not None:
        include.append(_keys_table(session.execute(
            select(*keys).where(AlertState.status == f.status)).all()))
    if f.assignee == "none":
        exclude.append(_keys_table(session.execute(
            select(*keys).where(AlertState.assignee_id.is_not(None))).all()))
    elif f.assignee is not None:
        include.append(_keys_table(session.execute(
            select(*keys).join(User, User.id == AlertState.assignee_id)
            .where(User.username == f.assignee)).all()))
    return include, exclude


def list_alerts(session: Session, view: WarehouseView, user: User,
                f: QueueFilter) -> QueuePage:
    """One page of the queue, filtered and sorted; no audit entry (it shows the ranking,
    not a subject: opening one is audited)."""
    access.require(user, "view_queue")
    f.check()
    view.require_detection()
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.role:
        where.append("a.role = ?")
        params.append(f.role)
    if f.min_score is not None:
        where.append("a.score >= ?")
        params.append(f.min_score)
    if f.corridor:
        # A facilitator's corridor is her own country; a buyer's, the countries he pays.
        where.append("list_contains(a.corridors, ?)")
        params.append(f.corridor.upper())
    include, exclude = _state_filters(session, f)
    for i, table in enumerate(include):
        view.con.register(f"q_in{i}", table)
        where.append(f"EXISTS (SELECT 1 FROM q_in{i} k WHERE k.role = a.role AND "
                     "k.provider = a.provider AND k.party_id = a.party_id)")
    for i, table in enumerate(exclude):
        view.con.register(f"q_out{i}", table)
        where.append(f"NOT EXISTS (SELECT 1 FROM q_out{i} k WHERE k.role = a.role AND "
                     "k.provider = a.provider AND k.party_id = a.party_id)")
    expr, default_desc = SORTS[f.sort]
    desc = default_desc if f.descending is None else f.descending
    desc = desc != (f.sort in _COUNTS_DOWN)
    order = f"{expr} {'DESC' if desc else 'ASC'} NULLS LAST"
    if expr != "a.alert_no":
        order += ", a.alert_no"
    # The page's alert numbers first, sorting only the sort column; then its rows. The
    # table is stored in alert-number order, so reading the numbers' range skips to them
    # (one block for a page of the score order, unfiltered).
    numbers = [n for (n,) in view.rows(
        f"""SELECT a.alert_no FROM det_alerts a WHERE {" AND ".join(where)}
            ORDER BY {order} LIMIT ? OFFSET ?""",
        [*params, f.per_page, (f.page - 1) * f.per_page])]
    by_number = {r["alert_no"]: r for r in view.dicts(
        """SELECT a.role, a.provider, a.party_id, a.alert_no, a.name, a.country, a.payments,
                  CAST(a.eur AS DOUBLE) AS eur, a.last_payment_at, a.score, a.rank,
                  a.reasons, a.corridors
           FROM det_alerts a WHERE a.alert_no BETWEEN ? AND ?
             AND list_contains(?, a.alert_no)""",
        [min(numbers), max(numbers), numbers])} if numbers else {}
    found = [by_number[n] for n in numbers]
    count_sql = f"""SELECT count(*) FROM det_alerts a WHERE {" AND ".join(where)}"""
    if include or exclude or f.min_score is not None or f.corridor:
        total = int(view.scalar(count_sql, params))
    else:  # all alerts, or a role's: fixed while the warehouse is open (reader.py)
        total = int(view.fact(f"queue total {f.role}", lambda: view.scalar(count_sql, params)))
    rows = [AlertRow(key=PartyKey(r["role"], r["provider"], r["party_id"]),
                     alert_no=r["alert_no"], name=r["name"], country=r["country"],
                     corridors=[c for c in r["corridors"] if c], payments=r["payments"],
                     eur=r["eur"], last_payment_at=r["last_payment_at"], score=r["score"],
                     rank=r["rank"], reasons=[x for x in (r["reasons"] or "").split("; ") if x])
            for r in found]
    _add_states(session, rows)
    return QueuePage(f, total, rows)


def _add_states(session: Session, rows: list[AlertRow]) -> None:
    if not rows:
        return
    keys = [tuple(r.key) for r in rows]
    states = {(role, provider, party_id): (status, assignee)
              for role, provider, party_id, status, assignee in session.execute(
        select(AlertState.role, AlertState.provider, AlertState.party_id, AlertState.status,
               User.username).outerjoin(User, User.id == AlertState.assignee_id)
        .where(tuple_(AlertState.role, AlertState.provider, AlertState.party_id).in_(keys)))}
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for role, provider, party_id, decision, reason, at, name in session.execute(
            select(Disposition.role, Disposition.provider, Disposition.party_id,
                   Disposition.decision, Disposition.reason, Disposition.decided_at,
                   User.username).join(User, User.id == Disposition.decided_by)
            .where(tuple_(Disposition.role, Disposition.provider,
                          Disposition.party_id).in_(keys))
            .order_by(Disposition.decided_at, Disposition.id)):
        latest[(role, provider, party_id)] = {
            "decision": decision, "reason": reason, "by": name, "at": at}
    for r in rows:
        state = states.get(r.key)
        if state is not None:
            r.status, r.assignee = state
        r.decision = latest.get(r.key)


def _scored(view: WarehouseView,
            keys: Sequence[PartyKey]) -> dict[PartyKey, tuple[float, str]]:
    """Each key's score in the last run and what scored it (``scorecard <digest>`` or
    ``model vN``); NotFound naming every key that has none."""
    if not keys:
        raise ReviewError("no alert selected", fix="tick at least one alert")
    view.require_detection()
    view.con.register("q_sel", _keys_table(keys))
    scores = {PartyKey(r, p, i): (s, by) for r, p, i, s, by in view.rows(
        """SELECT s.role, s.provider, s.party_id, s.score, s.scorer FROM det_scores s
           SEMI JOIN q_sel k ON k.role = s.role AND k.provider = s.provider
                            AND k.party_id = s.party_id""")}
    missing = [k.target for k in keys if k not in scores]
    if missing:
        raise NotFound("some parties are not in the last detection run", details=missing,
                       fix="reload the queue: detection may have run since")
    return scores


def _state(session: Session, key: PartyKey, user: User, now: datetime) -> AlertState:
    state = session.scalars(select(AlertState).where(
        AlertState.role == key.role, AlertState.provider == key.provider,
        AlertState.party_id == key.party_id)).first()
    if state is None:
        state = AlertState(role=key.role, provider=key.provider, party_id=key.party_id,
                           status="new", updated_at=now, updated_by=user.id)
        session.add(state)
    return state


def assign(session: Session, view: WarehouseView, user: User, keys: Sequence[PartyKey],
           assignee: str | None, *, ip: str | None = None) -> int:
    """Give alerts to a user (``None`` takes them back); one audit entry per alert, one
    commit. A decided alert keeps its decision; a new one becomes "assigned"."""
    access.require(user, "assign")
    keys = list(dict.fromkeys(keys))
    _scored(view, keys)
    target: User | None = None
    if assignee:
        target = session.scalars(select(User).where(User.username == assignee)).first()
        if target is None or not target.active:
            raise ReviewError(f"no active user {assignee!r} to assign to",
                              fix="pick a user from the list")
        if not access.can(target, "view_queue"):
            raise ReviewError(f"{assignee} ({target.role}) cannot work on alerts",
                              fix="assign to an analyst, investigator or supervisor")
    now = _now()
    for key in keys:
        state = _state(session, key, user, now)
        state.assignee_id = target.id if target else None
        if target and state.status == "new":
            state.status = "assigned"
        elif not target and state.status == "assigned":
            state.status = "new"
        state.updated_at, state.updated_by = now, user.id
        audit.record(session, action="assign", user=user, target=key.target, ip=ip,
                     detail={"assignee": assignee})
    session.commit()
    return len(keys)


def dispose(session: Session, view: WarehouseView, user: User, keys: Sequence[PartyKey],
            decision: str, reason: str, *, ip: str | None = None) -> int:
    """Decide on alerts, with a reason. Each decision records the detection run, the
    score and the scorer it was made on (they are the model's labels later)."""
    access.require(user, "dispose")
    problems = []
    if decision not in DECISIONS:
        problems.append(f"decision {decision!r}: use one of {', '.join(DECISIONS)}")
    if not (reason or "").strip():
        problems.append("a reason is required for every decision")
    if problems:
        raise ReviewError("the decision cannot be recorded", details=problems,
                          fix="choose a decision and write why")
    keys = list(dict.fromkeys(keys))
    scores = _scored(view, keys)
    run = view.latest_run() or {}
    now = _now()
    for key in keys:
        state = _state(session, key, user, now)
        state.status = DECISIONS[decision]
        state.updated_at, state.updated_by = now, user.id
        session.add(Disposition(
            role=key.role, provider=key.provider, party_id=key.party_id, decision=decision,
            reason=reason.strip(), decided_by=user.id, decided_at=now,
            run_id=run.get("run_id"), score=scores[key][0], scorer=scores[key][1]))
        audit.record(session, action="dispose", user=user, target=key.target, ip=ip,
                     detail={"decision": decision, "reason": reason.strip(),
                             "score": scores[key][0], "scorer": scores[key][1],
                             "run_id": run.get("run_id")})
    session.commit()
    return len(keys)


def assignable_users(session: Session) -> list[User]:
    """Active users whose role works on alerts, for the assign list."""
    users = session.scalars(select(User).where(User.active.is_(True))
                            .order_by(User.username)).all()
    return [u for u in users if access.can(u, "view_queue")]
