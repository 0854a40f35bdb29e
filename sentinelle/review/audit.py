"""The append-only, hash-chained audit log: who did what, when, from where.

Each entry's ``hash`` is the SHA-256 of the previous entry's hash followed by the canonical
JSON of its own content, so an entry cannot be altered, inserted or deleted without breaking
the chain at that point; ``verify`` walks the chain and names the entry. The database also
refuses UPDATE and DELETE on the table (triggers, see the migration). Deleting the *tail*
leaves a shorter chain that is still intact: ``verify`` catches it only when given the
last entry written down earlier (``expect_last``).

``record`` never commits: the caller commits it with the change it describes, so an action
and its audit line land together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sentinelle.review.models import AuditEntry, User

__all__ = [
    "ANONYMOUS",
    "GENESIS",
    "SYSTEM",
    "Actor",
    "AuditReport",
    "cli_actor",
    "count",
    "entries",
    "entry_hash",
    "naive_utc",
    "record",
    "utcnow",
    "verify",
]

GENESIS = "0" * 64  # the "previous hash" of entry 1
# How far back ``verify`` remembers hashes to recognise where an inserted entry came in.
_REMEMBERED = 10_000


@dataclass(frozen=True)
class Actor:
    """Who acted, when it is not a signed-in user."""

    username: str
    role: str


SYSTEM = Actor("-", "system")
ANONYMOUS = Actor("-", "anonymous")  # a sign-in attempt before anyone is known


def cli_actor(os_user: str) -> Actor:
    """An administrator at the server's command line, named by the operating system."""
    return Actor(os_user, "cli")


def utcnow() -> datetime:
    """Now, in UTC, without time zone: how every time is stored in the case database."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(value: datetime) -> datetime:
    """A time as stored: in UTC, without time zone (a naive time is taken as UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def entry_hash(prev_hash: str, seq: int, at: datetime, username: str, role: str, action: str,
               target: str, detail: Any, ip: str) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the entry's content."""
    content = [seq, at.isoformat(timespec="microseconds"), username, role, action, target,
               detail, ip]
    return hashlib.sha256((prev_hash + _canonical(content)).encode("utf-8")).hexdigest()


def _lock(session: Session) -> None:
    """Hold the log's write lock until the caller's transaction ends: concurrent writers
    take turns, so no two entries get the same number or the same predecessor."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # EXCLUSIVE blocks other writers of audit_log but not its readers.
        conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
    elif conn.dialect.name == "sqlite":
        # pysqlite opens a transaction only at the first write; until then, reads see
        # whatever was last committed. Take SQLite's single write lock before reading
        # the last entry (if this transaction has written, it holds the lock already).
        if not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def record(session: Session, *, action: str, user: User | Actor | None = None,
           target: str = "", detail: dict[str, Any] | None = None,
           ip: str | None = None) -> AuditEntry:
    """Append the next entry (flushed, not committed). ``user`` is the signed-in user, an
    ``Actor`` (the command line, an anonymous sign-in attempt) or ``None`` for the system."""
    actor = SYSTEM if user is None else user
    username, role = actor.username[:64], actor.role[:20]
    target, ip = target[:300], (ip or "")[:64]
    detail_json = _canonical(detail or {})
    _lock(session)
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    entry = AuditEntry(
        seq=seq, at=at, username=username, role=role, action=action, target=target,
        detail=detail_json, ip=ip, prev_hash=prev,
        hash=entry_hash(prev, seq, at, username, role, action, target,
                        json.loads(detail_json), ip),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass
class AuditReport:
    """What ``verify`` found. Write ``checkpoint`` down elsewhere (a notebook, a ticket):
    given back as ``expect_last``, it shows whether entries were later cut off the end."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)
    last_seq: int | None = None
    last_hash: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def checkpoint(self) -> str | None:
        """``SEQ:HASH`` of the last entry, as ``sentinelle audit verify --expect-last``
        takes it."""
        return None if self.last_seq is None else f"{self.last_seq}:{self.last_hash}"


def _matches(row: Any, seq: int) -> bool:
    """Whether the stored hash is that of the row's content, numbered ``seq``."""
    try:
        detail = json.loads(row.detail)
    except (TypeError, ValueError):
        return False
    return bool(row.hash == entry_hash(row.prev_hash, seq, row.at, row.username, row.role,
                                       row.action, row.target, detail, row.ip))


def _deleted(first: int, last: int) -> str:
    return f"entry {first} was deleted" if first == last else \
        f"entries {first} to {last} were deleted"


def verify(session: Session, expect_last: tuple[int, str] | None = None) -> AuditReport:
    """Walk the chain from entry 1 and name every entry where it breaks.

    An entry *altered* in place no longer hashes to its stored hash. A *deleted* entry
    leaves a gap in the numbers and its successor pointing at a hash that is no longer
    there. An *inserted* entry (the rest renumbered to make room) leaves its successor
    pointing past it, at the entry before. ``expect_last`` — (seq, hash) of an entry
    written down earlier — must still be there, unchanged.
    """
    report = AuditReport()
    prev_seq, prev_hash = 0, GENESIS
    shift = 0  # how far the numbers have been moved from those the entries were written with
    renumbered_from: int | None = None
    seen: dict[str, int] = {}
    expected_found = False
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.at, AuditEntry.username, AuditEntry.role,
               AuditEntry.action, AuditEntry.target, AuditEntry.detail, AuditEntry.ip,
               AuditEntry.prev_hash, AuditEntry.hash).order_by(AuditEntry.seq)
        .execution_options(yield_per=2000))
    problems = report.problems
    for row in rows:
        report.entries += 1
        seq = row.seq
        if _matches(row, seq - shift):
            pass
        elif (moved := _moved(row, shift)) is not None:
            shift = moved
            renumbered_from = seq if renumbered_from is None else renumbered_from
        else:
            problems.append(f"entry {seq} was altered (hash does not match its content)")
        gap = seq > prev_seq + 1
        if row.prev_hash != prev_hash:
            before = seen.get(row.prev_hash)
            start = "the start of the log" if prev_seq == 0 else f"entry {prev_seq}"
            if before is not None and before < prev_seq:
                inserted = (f"entry {prev_seq} was" if before == prev_seq - 1
                            else f"entries {before + 1} to {prev_seq} were")
                problems.append(f"{inserted} inserted: entry {seq} follows entry {before} "
                                f"in the chain (chain broken)")
            elif gap:
                problems.append(f"entry {seq} does not follow {start}: "
                                + _deleted(prev_seq + 1, seq - 1))
            elif shift < 0 and renumbered_from == seq:
                problems.append(f"an entry was deleted before entry {seq}, and the rest "
                                f"renumbered (chain broken)")
            else:
                problems.append(f"an entry was inserted before entry {seq}, or {start} "
                                f"replaced (chain broken)")
        elif gap:
            problems.append(f"entries {prev_seq + 1} to {seq - 1} are missing but entry "
                            f"{seq} follows entry {prev_seq} in the chain: numbers changed")
        if expect_last is not None and seq == expect_last[0]:
            expected_found = True
            if row.hash != expect_last[1]:
                problems.append(f"entry {seq} is not the one written down (its hash "
                                f"differs): the log was rewritten up to there")
        seen[row.hash] = seq
        if len(seen) > _REMEMBERED:
            seen.pop(next(iter(seen)))
        prev_seq, prev_hash = seq, row.hash
    if renumbered_from is not None:
        problems.append(f"entries from {renumbered_from} on were renumbered (each number is "
                        f"{shift:+d} from the one it was written with)")
    if expect_last is not None and not expected_found:
        if prev_seq < expect_last[0]:
            end = "the log is empty" if prev_seq == 0 else f"the log ends at entry {prev_seq}"
            problems.append(f"entries after {prev_seq} were deleted ({end}; entry "
                            f"{expect_last[0]} was written down)")
        else:
            problems.append(f"entry {expect_last[0]}, written down, is missing")
    if report.entries:
        report.last_seq, report.last_hash = prev_seq, prev_hash
    return report


def _moved(row: Any, shift: int) -> int | None:
    """The shift (entries inserted minus deleted before this one) under which the row's
    content matches its hash, when a few entries were inserted or deleted and the rest
    renumbered; ``None`` when no small shift explains it (the entry itself was altered)."""
    for candidate in range(shift - 3, shift + 4):
        if candidate != shift and _matches(row, row.seq - candidate):
            return candidate
    return None


def _filtered(*, user: str | None = None, action: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              target: str | None = None) -> Select[Any]:
    query = select(AuditEntry)
    if user:
        query = query.where(AuditEntry.username == user)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= naive_utc(since))
    if until is not None:
        query = query.where(AuditEntry.at < naive_utc(until))
    if target:
        query = query.where(AuditEntry.target.contains(target, autoescape=True))
    return query


def entries(session: Session, *, user: str | None = None, action: str | None = None,
            since: datetime | None = None, until: datetime | None = None,
            target: str | None = None, limit: int = 100,
            offset: int = 0) -> Sequence[AuditEntry]:
    """The newest entries first, filtered by username, exact action, time (``since``
    included, ``until`` excluded; a naive time is UTC) and a part of the target."""
    query = _filtered(user=user, action=action, since=since, until=until, target=target)
    return session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)
                           .offset(offset)).all()


def count(session: Session, *, user: str | None = None, action: str | None = None,
          since: datetime | None = None, until: datetime | None = None,
          target: str | None = None) -> int:
    """How many entries ``entries`` would page through with the same filters."""
    query = _filtered(user=user, action=action, since=since, until=until, target=target)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0
