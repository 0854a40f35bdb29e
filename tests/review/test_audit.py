"""The hash chain: built over many entries, safe with concurrent writers, and every kind of
tampering found and named."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sentinelle.review import audit
from sentinelle.review.models import AuditEntry, User
from tests.review.conftest import drop_append_only


def write(session: Session, n: int) -> None:
    for i in range(n):
        audit.record(session, action="view_subject", target=f"buyer/ExampleRemit/S{i:04d}",
                     detail={"i": i, "note": "café"}, ip="10.0.0.7")
    session.commit()


def test_entries_chain_from_genesis(session):
    write(session, 120)
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 121))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    report = audit.verify(session)
    assert report.ok and report.problems == []
    assert (report.entries, report.last_seq, report.last_hash) == (120, 120, rows[-1].hash)
    assert report.checkpoint == f"120:{rows[-1].hash}"
    assert json.loads(rows[5].detail) == {"i": 5, "note": "café"}


def test_an_empty_log_verifies(session):
    report = audit.verify(session)
    assert report.ok and report.entries == 0 and report.checkpoint is None


def test_record_leaves_the_commit_to_the_caller(session):
    audit.record(session, action="export")
    session.rollback()
    assert audit.verify(session).entries == 0


def test_who_acted(session, make_user):
    alice = make_user("alice", "investigator")
    audit.record(session, action="search", user=alice, detail={"q": "DELA CRUZ"})
    audit.record(session, action="upgrade")
    audit.record(session, action="disable_user", user=audit.cli_actor("root"))
    session.commit()
    got = [(e.username, e.role, e.action) for e in audit.entries(session, limit=3)]
    assert got == [("root", "cli", "disable_user"), ("-", "system", "upgrade"),
                   ("alice", "investigator", "search")]


def test_long_values_are_cut_to_the_columns_before_hashing(session):
    audit.record(session, action="search", target="x" * 1000, ip="f" * 100)
    session.commit()
    entry = audit.entries(session)[0]
    assert len(entry.target) == 300 and len(entry.ip) == 64
    assert audit.verify(session).ok


def test_filters_for_the_auditors_page(session, make_user):
    alice, bob = make_user("alice"), make_user("bob", "investigator")
    for i in range(6):
        audit.record(session, action="view_case" if i % 2 else "search",
                     user=alice if i < 3 else bob, target=f"case/C-2024-{i:04d}")
    audit.record(session, action="search", user=bob, target="100%_real")
    session.commit()
    assert [e.target for e in audit.entries(session, user="alice", action="view_case")] == \
        ["case/C-2024-0001"]
    assert audit.count(session, user="bob") == 4
    assert audit.count(session, action="create_user") == 2
    assert [e.target for e in audit.entries(session, target="%_")] == ["100%_real"]
    newest = audit.entries(session, limit=3)
    assert [e.seq for e in newest] == [9, 8, 7]
    assert [e.seq for e in audit.entries(session, limit=3, offset=3)] == [6, 5, 4]
    at = newest[1].at
    assert [e.seq for e in audit.entries(session, since=at)] == [9, 8]
    assert all(e.seq < 8 for e in audit.entries(session, until=at))
    assert audit.entries(session, since=at + timedelta(days=1)) == []
    paris = at.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert [e.seq for e in audit.entries(session, since=paris)] == [9, 8]


def _writers(factory: Callable[[], Session], threads: int, each: int,
             read_first: bool) -> list[BaseException]:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(each):
                with factory() as s:
                    if read_first:  # a request reads before it writes
                        s.scalars(select(User)).all()
                        s.scalars(select(AuditEntry).limit(1)).all()
                    audit.record(s, action="search", target=f"t{n}-{i}")
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 — reported by the test
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


@pytest.mark.parametrize("read_first", [False, True], ids=["write", "read-then-write"])
def test_concurrent_writers_take_turns(cases, read_first):
    _, factory = cases
    assert _writers(factory, threads=6, each=8, read_first=read_first) == []
    with factory() as session:
        report = audit.verify(session)
        assert report.ok, report.problems
        assert report.entries == 48 and report.last_seq == 48


# --- tampering ------------------------------------------------------------------------


def _forge(session: Session, seq: int, prev_hash: str, action: str = "forged") -> None:
    at = audit.utcnow()
    session.execute(text(
        "INSERT INTO audit_log (seq, at, username, role, action, target, detail, ip, "
        "prev_hash, hash) VALUES (:seq, :at, 'mallory', 'admin', :action, '', '{}', '', "
        ":prev, :hash)"),
        {"seq": seq, "at": at, "action": action, "prev": prev_hash,
         "hash": audit.entry_hash(prev_hash, seq, at, "mallory", "admin", action, "", {}, "")})


def _hash(session: Session, seq: int) -> str:
    return session.scalars(select(AuditEntry.hash).where(AuditEntry.seq == seq)).one()


def _renumber(session: Session, first: int, by: int) -> None:
    seqs = session.scalars(select(AuditEntry.seq).where(AuditEntry.seq >= first)).all()
    for seq in sorted(seqs, reverse=by > 0):
        session.execute(text("UPDATE audit_log SET seq = :new WHERE seq = :old"),
                        {"new": seq + by, "old": seq})


def alter(s: Session) -> None:
    s.execute(text("UPDATE audit_log SET action = 'nothing' WHERE seq = 17"))


def alter_detail_to_garbage(s: Session) -> None:
    s.execute(text("UPDATE audit_log SET detail = 'not json' WHERE seq = 12"))


def replace(s: Session) -> None:
    s.execute(text("DELETE FROM audit_log WHERE seq = 17"))
    _forge(s, 17, _hash(s, 16))


def delete(s: Session) -> None:
    s.execute(text("DELETE FROM audit_log WHERE seq = 17"))


def delete_two(s: Session) -> None:
    s.execute(text("DELETE FROM audit_log WHERE seq IN (17, 18)"))


def delete_first(s: Session) -> None:
    s.execute(text("DELETE FROM audit_log WHERE seq = 1"))


def delete_and_renumber(s: Session) -> None:
    s.execute(text("DELETE FROM audit_log WHERE seq = 17"))
    _renumber(s, 18, -1)


def insert(s: Session) -> None:
    _renumber(s, 20, +1)
    _forge(s, 20, _hash(s, 19))


def insert_with_a_wrong_link(s: Session) -> None:
    _forge(s, 31, "f" * 64)


TAMPERING = [
    ("an entry's action changed", alter, None,
     ["entry 17 was altered (hash does not match its content)"]),
    ("an entry's detail made unreadable", alter_detail_to_garbage, None,
     ["entry 12 was altered (hash does not match its content)"]),
    ("an entry replaced by a well-forged one", replace, None,
     ["an entry was inserted before entry 18, or entry 17 replaced (chain broken)"]),
    ("an entry deleted", delete, None,
     ["entry 18 does not follow entry 16: entry 17 was deleted"]),
    ("two entries deleted", delete_two, None,
     ["entry 19 does not follow entry 16: entries 17 to 18 were deleted"]),
    ("the first entry deleted", delete_first, None,
     ["entry 2 does not follow the start of the log: entry 1 was deleted"]),
    ("an entry deleted and the rest renumbered", delete_and_renumber, None,
     ["an entry was deleted before entry 17, and the rest renumbered (chain broken)",
      "entries from 17 on were renumbered (each number is -1 from the one it was written "
      "with)"]),
    ("a forged entry inserted, the rest renumbered", insert, None,
     ["entry 20 was inserted: entry 21 follows entry 19 in the chain (chain broken)",
      "entries from 21 on were renumbered (each number is +1 from the one it was written "
      "with)"]),
    ("a forged entry appended with a made-up link", insert_with_a_wrong_link, None,
     ["an entry was inserted before entry 31, or entry 30 replaced (chain broken)"]),
    ("the tail cut off", lambda s: s.execute(text("DELETE FROM audit_log WHERE seq > 25")),
     30, ["entries after 25 were deleted (the log ends at entry 25; entry 30 was written "
          "down)"]),
    ("the tail cut off and forged again", lambda s: [
        s.execute(text("DELETE FROM audit_log WHERE seq > 25")),
        *[_forge(s, n, _hash(s, n - 1)) for n in range(26, 31)]], 30,
     ["entry 30 is not the one written down (its hash differs): the log was rewritten up "
      "to there"]),
    ("everything deleted", lambda s: s.execute(text("DELETE FROM audit_log")), 30,
     ["entries after 0 were deleted (the log is empty; entry 30 was written down)"]),
]


@pytest.mark.parametrize(("how", "expect_last", "problems"),
                         [(t[1], t[2], t[3]) for t in TAMPERING],
                         ids=[t[0] for t in TAMPERING])
def test_tampering_is_found_and_named(session, how, expect_last, problems):
    write(session, 30)
    checkpoint = (30, _hash(session, 30)) if expect_last else None
    assert audit.verify(session, expect_last=checkpoint).ok
    drop_append_only(session)
    how(session)
    session.commit()
    assert audit.verify(session, expect_last=checkpoint).problems == problems


def test_without_the_written_down_entry_a_cut_tail_goes_unseen(session):
    """Why ``expect_last`` exists: a chain cut at the end is still a valid chain."""
    write(session, 30)
    drop_append_only(session)
    session.execute(text("DELETE FROM audit_log WHERE seq > 25"))
    session.commit()
    assert audit.verify(session).ok
    assert not audit.verify(session, expect_last=(30, "0" * 64)).ok


def test_entries_added_after_the_written_down_one_are_fine(session):
    write(session, 10)
    checkpoint = (10, _hash(session, 10))
    write(session, 5)
    assert audit.verify(session, expect_last=checkpoint).ok
