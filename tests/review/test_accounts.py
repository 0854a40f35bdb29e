"""Passwords, accounts, sign-in throttling and sessions, with times the tests choose."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from sentinelle.errors import AuthError, NotFound, ReviewError
from sentinelle.review import accounts, audit
from sentinelle.review.models import LoginAttempt, LoginSession, User
from tests.review.conftest import PASSWORD

PRODUCTION_HASHER = accounts.HASHER  # before the cheap test hasher replaces it
WRONG = "not the right password"


@pytest.fixture
def t0():
    """A moment after every account in the test was created."""
    return audit.utcnow() + timedelta(hours=1)


def sign_in(session, username, password=PASSWORD, ip=None, now=None):
    """authenticate, returning the user or the refusal's message."""
    try:
        return accounts.authenticate(session, username, password, ip=ip, now=now)
    except AuthError as exc:
        return exc.message


# --- passwords ------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id():
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024 and PRODUCTION_HASHER.time_cost >= 2
    hashed = accounts.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert accounts.hash_password(PASSWORD) != hashed  # salted
    assert accounts.verify_password(hashed, PASSWORD)
    assert not accounts.verify_password(hashed, WRONG)
    assert not accounts.verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize(("password", "username", "problems"), [
    ("short one", "", ["it has 9 characters; at least 12 are needed"]),
    ("", "", ["it has 0 characters; at least 12 are needed"]),
    ("aaaaaaaaaaaaaaa", "", ["it repeats one character"]),
    (" leading space here", "", ["it begins or ends with a space (easily lost when typed)"]),
    ("Alice-in-wonderland", "alice", ["it contains the username"]),
    ("x" * 2000, "", ["it is longer than 1024 characters", "it repeats one character"]),
    ("aaaa", "aaa", ["it has 4 characters; at least 12 are needed",
                     "it repeats one character", "it contains the username"]),
    (PASSWORD, "alice", []),
    ("twelve chars", "", []),
], ids=["short", "empty", "one character", "space", "username", "huge", "several", "good",
        "exactly twelve"])
def test_password_policy_says_what_is_wrong(password, username, problems):
    assert accounts.password_problems(password, username) == problems


# --- accounts -------------------------------------------------------------------------


def test_create_user(session):
    user = accounts.create_user(session, " Alice ", "investigator", PASSWORD,
                                display_name="Alice Martin", by=audit.cli_actor("root"))
    session.commit()
    assert (user.username, user.display_name, user.role, user.active) == \
        ("alice", "Alice Martin", "investigator", True)
    assert user.password_hash.startswith("$argon2id$")
    entry = audit.entries(session)[0]
    assert (entry.action, entry.username, entry.role, entry.target) == \
        ("create_user", "root", "cli", "user/alice")
    assert PASSWORD not in entry.detail


def test_create_user_lists_every_problem(session):
    with pytest.raises(ReviewError) as caught:
        accounts.create_user(session, "no spaces please", "chief", "short")
    details = caught.value.details
    assert len(details) == 3
    assert "username" in details[0] and "chief" in details[1] and "12" in details[2]
    assert "analyst, investigator, supervisor, auditor, admin" in details[1]


def test_usernames_are_unique_whatever_the_case(session, make_user):
    make_user("alice")
    with pytest.raises(ReviewError, match="already a user 'alice'"):
        accounts.create_user(session, "ALICE", "analyst", PASSWORD)


def test_list_disable_enable(session, make_user):
    make_user("bob")
    make_user("alice", "admin")
    assert [u.username for u in accounts.list_users(session)] == ["alice", "bob"]
    accounts.disable_user(session, "bob")
    accounts.disable_user(session, "bob")  # twice: one audit line
    session.commit()
    assert not accounts.list_users(session)[1].active
    accounts.enable_user(session, "bob")
    session.commit()
    assert accounts.list_users(session)[1].active
    assert [e.action for e in audit.entries(session, limit=2)] == ["enable_user",
                                                                    "disable_user"]
    with pytest.raises(NotFound, match="no user 'carol'"):
        accounts.disable_user(session, "carol")


def test_reset_password(session, make_user, t0):
    make_user("bob")
    token, _ = accounts.start_session(session, session.scalars(select(User)).one(), now=t0)
    session.commit()
    with pytest.raises(ReviewError, match="not acceptable"):
        accounts.reset_password(session, "bob", "short")
    accounts.reset_password(session, "bob", "a brand new passphrase", by=audit.cli_actor("op"))
    session.commit()
    assert sign_in(session, "bob", now=t0) == accounts.SIGN_IN_REFUSED
    assert isinstance(sign_in(session, "bob", "a brand new passphrase", now=t0), User)
    assert accounts.session_for_token(session, token, now=t0) is None
    assert audit.count(session, action="reset_password") == 1


# --- signing in -----------------------------------------------------------------------


def test_sign_in_records_the_attempt_and_the_audit_line(session, make_user, t0):
    make_user("bob")
    user = accounts.authenticate(session, "Bob", PASSWORD, ip="10.1.2.3", now=t0)
    session.commit()
    assert user.username == "bob"
    attempt = session.scalars(select(LoginAttempt)).one()
    assert (attempt.username, attempt.ip, attempt.at, attempt.succeeded) == \
        ("bob", "10.1.2.3", t0, True)
    entry = audit.entries(session)[0]
    assert (entry.action, entry.username, entry.ip) == ("login", "bob", "10.1.2.3")


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(session, make_user, t0):
    make_user("bob")
    assert sign_in(session, "bob", WRONG, now=t0) == sign_in(session, "nobody", WRONG, now=t0)
    failures = audit.entries(session, action="login_failed")
    assert [(e.username, e.role, e.target) for e in failures] == \
        [("-", "anonymous", "user/nobody"), ("-", "anonymous", "user/bob")]
    assert session.get(User, 1).failed_logins == 1


def test_a_refusal_is_committed_even_when_the_caller_rolls_back(cases, make_user, t0):
    _, factory = cases
    make_user("bob")
    with factory() as s, pytest.raises(AuthError):
        with s.begin():
            accounts.authenticate(s, "bob", WRONG, now=t0)
    with factory() as s:
        assert s.scalars(select(LoginAttempt.succeeded)).all() == [False]
        assert audit.count(s, action="login_failed") == 1


def test_five_failures_lock_the_account_for_fifteen_minutes(session, make_user, t0):
    bob = make_user("bob")
    for minute in range(4):
        assert sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=minute)) == \
            accounts.SIGN_IN_REFUSED
    assert bob.locked_until is None
    assert sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=4)) == \
        accounts.SIGN_IN_REFUSED
    assert bob.locked_until == t0 + timedelta(minutes=19)
    locked = sign_in(session, "bob", now=t0 + timedelta(minutes=18, seconds=59))
    assert locked == f"too many failed sign-ins for this account; try again after " \
                     f"{t0 + timedelta(minutes=19):%H:%M} UTC"
    assert audit.entries(session)[0].detail == '{"reason":"account throttled"}'


def test_the_lock_ends_fifteen_minutes_after_the_last_failure(session, make_user, t0):
    make_user("bob")
    for minute in range(5):
        sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=minute))
    assert isinstance(sign_in(session, "bob", now=t0 + timedelta(minutes=19)), User)
    assert session.get(User, 1).locked_until is None


def test_trying_during_the_lock_keeps_it(session, make_user, t0):
    make_user("bob")
    for minute in range(5):
        sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=minute))
    sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=10))
    assert "too many" in sign_in(session, "bob", now=t0 + timedelta(minutes=20))
    assert isinstance(sign_in(session, "bob", now=t0 + timedelta(minutes=25)), User)


def test_failures_spread_beyond_the_window_do_not_lock(session, make_user, t0):
    make_user("bob")
    for minute in (0, 4, 8, 12, 16, 20):  # never five within fifteen minutes
        sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=minute))
    assert isinstance(sign_in(session, "bob", now=t0 + timedelta(minutes=21)), User)


def test_a_success_clears_earlier_failures(session, make_user, t0):
    make_user("bob")
    for minute in range(4):
        sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=minute))
    assert isinstance(sign_in(session, "bob", now=t0 + timedelta(minutes=5)), User)
    sign_in(session, "bob", WRONG, now=t0 + timedelta(minutes=6))
    assert isinstance(sign_in(session, "bob", now=t0 + timedelta(minutes=7)), User)


def test_a_reset_lifts_the_lock(session, make_user, t0, monkeypatch):
    make_user("bob")
    for second in range(5):
        sign_in(session, "bob", WRONG, now=t0 + timedelta(seconds=second))
    monkeypatch.setattr(audit, "utcnow", lambda: t0 + timedelta(seconds=30))
    accounts.reset_password(session, "bob", "a brand new passphrase")
    session.commit()
    assert isinstance(sign_in(session, "bob", "a brand new passphrase",
                              now=t0 + timedelta(minutes=1)), User)


def test_a_name_that_does_not_exist_is_throttled_the_same(session, make_user, t0):
    make_user("bob")
    answers = {}
    for name in ("bob", "nobody"):
        answers[name] = [sign_in(session, name, WRONG, now=t0 + timedelta(minutes=m))
                         for m in (0, 1, 2, 3, 4, 5, 19, 21)]
    assert answers["bob"] == answers["nobody"]
    assert "too many" in answers["bob"][5]


def test_more_than_twenty_failures_from_one_address_refuse_it(session, make_user, t0):
    make_user("bob")
    ip = "192.0.2.9"
    for i in range(20):  # four names at a time: no account is locked
        sign_in(session, f"guess{i // 4}", WRONG, ip=ip, now=t0 + timedelta(seconds=i))
    assert isinstance(sign_in(session, "bob", ip=ip, now=t0 + timedelta(seconds=21)), User)
    sign_in(session, "guess9", WRONG, ip=ip, now=t0 + timedelta(seconds=22))
    last = t0 + timedelta(seconds=22)
    refused = sign_in(session, "bob", ip=ip, now=last + timedelta(minutes=14))
    assert refused == f"too many failed sign-ins from this address; try again after " \
                      f"{last + accounts.LOCKOUT:%H:%M} UTC"
    # the refused attempt counted: the address stays refused a while longer
    assert "this address" in sign_in(session, "bob", ip=ip, now=last + timedelta(minutes=16))
    assert isinstance(sign_in(session, "bob", ip="192.0.2.10",
                              now=last + timedelta(minutes=16)), User)
    assert isinstance(sign_in(session, "bob", ip=ip, now=last + timedelta(minutes=30)), User)


def test_a_disabled_account_is_told_so_only_after_the_right_password(session, make_user, t0):
    make_user("bob")
    accounts.disable_user(session, "bob")
    session.commit()
    assert sign_in(session, "bob", WRONG, now=t0) == accounts.SIGN_IN_REFUSED
    assert sign_in(session, "bob", now=t0) == "this account is disabled; ask an administrator"


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(session, make_user, monkeypatch,
                                                           t0):
    bob = make_user("bob")
    old = bob.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    monkeypatch.setattr(accounts, "HASHER", stronger)
    accounts.authenticate(session, "bob", PASSWORD, now=t0)
    session.commit()
    assert bob.password_hash != old and not stronger.check_needs_rehash(bob.password_hash)
    assert audit.entries(session)[0].detail == '{"rehashed":true}'
    accounts.authenticate(session, "bob", PASSWORD, now=t0)
    assert audit.entries(session)[0].detail == "{}"


def test_long_names_and_addresses_fit_their_columns(session, t0):
    assert sign_in(session, "x" * 500, WRONG, ip="y" * 500, now=t0) == \
        accounts.SIGN_IN_REFUSED
    attempt = session.scalars(select(LoginAttempt)).one()
    assert len(attempt.username) == 64 and len(attempt.ip) == 64


# --- sessions -------------------------------------------------------------------------


def test_a_session_stores_only_the_token_hash(session, make_user, t0):
    bob = make_user("bob")
    token, row = accounts.start_session(session, bob, ip="10.0.0.1", now=t0)
    session.commit()
    assert len(token) >= 43 and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {r.token_hash for r in session.scalars(select(LoginSession))}
    assert len(row.csrf_token) >= 43 and row.csrf_token != token
    assert row.expires_at == t0 + timedelta(hours=8)
    other, row2 = accounts.start_session(session, bob, now=t0)
    assert other != token and row2.csrf_token != row.csrf_token
    assert accounts.session_for_token(session, token, now=t0) is row


def test_a_session_is_live_until_it_expires_or_ends(session, make_user, t0):
    bob = make_user("bob")
    token, row = accounts.start_session(session, bob, lifetime=timedelta(hours=1), now=t0)
    session.commit()
    assert accounts.session_for_token(session, token, now=t0 + timedelta(seconds=30)) is row
    assert row.last_seen_at == t0  # touched at most once a minute
    assert accounts.session_for_token(session, token, now=t0 + timedelta(minutes=5)) is row
    assert row.last_seen_at == t0 + timedelta(minutes=5)
    assert accounts.session_for_token(session, token, now=t0 + timedelta(hours=1)) is None
    assert accounts.session_for_token(session, "made-up", now=t0) is None
    assert accounts.session_for_token(session, "", now=t0) is None
    token2, _ = accounts.start_session(session, bob, ip="10.0.0.2", now=t0)
    accounts.end_session(session, token2, now=t0)
    accounts.end_session(session, token2, now=t0)  # twice: one audit line
    accounts.end_session(session, "made-up", now=t0)
    session.commit()
    assert accounts.session_for_token(session, token2, now=t0) is None
    assert [(e.action, e.username, e.ip) for e in audit.entries(session, action="logout")] \
        == [("logout", "bob", "10.0.0.2")]


def test_disabling_a_user_ends_their_sessions(session, make_user, t0):
    bob = make_user("bob")
    token, row = accounts.start_session(session, bob, now=t0)
    session.commit()
    accounts.disable_user(session, "bob")
    session.commit()
    assert row.ended_at is not None
    assert accounts.session_for_token(session, token, now=t0) is None
    accounts.enable_user(session, "bob")
    session.commit()
    assert accounts.session_for_token(session, token, now=t0) is None


def test_a_disabled_user_has_no_live_session_even_if_one_was_left_open(session, make_user, t0):
    bob = make_user("bob")
    token, row = accounts.start_session(session, bob, now=t0)
    bob.active = False  # as if disabled by hand
    session.commit()
    assert row.ended_at is None
    assert accounts.session_for_token(session, token, now=t0) is None


def test_time_zones_are_stored_as_utc(session, make_user, t0):
    from datetime import UTC, timezone

    bob = make_user("bob")
    paris = timezone(timedelta(hours=1))
    _, row = accounts.start_session(session, bob, now=t0.replace(tzinfo=UTC).astimezone(paris))
    assert row.created_at == t0
