"""Accounts, passwords, sign-in throttling and signed-in sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's
recommendations); a hash made with older parameters is replaced at the next sign-in.

Throttling (both windows slide; attempts refused while throttled count as failures, so an
address or a name that keeps trying stays refused):

- an account name with ``ACCOUNT_FAILURES`` failures within ``WINDOW`` is locked for
  ``LOCKOUT`` after the last of them — the same for names that do not exist, so that the
  answer never tells whether an account exists;
- an address with more than ``ADDRESS_FAILURES`` failures within ``WINDOW`` is refused
  for ``LOCKOUT`` after the last of them.

Nothing here commits, except a refused sign-in: its attempt and audit line are committed
before ``AuthError`` is raised, so that throttling holds even when the caller rolls back.
Every account change is written to the audit log in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from sentinelle.errors import AuthError, NotFound, ReviewError
from sentinelle.review import audit
from sentinelle.review.audit import ANONYMOUS, Actor
from sentinelle.review.models import ROLES, LoginAttempt, LoginSession, User

__all__ = [
    "ACCOUNT_FAILURES",
    "ADDRESS_FAILURES",
    "LOCKOUT",
    "MIN_PASSWORD_LENGTH",
    "WINDOW",
    "authenticate",
    "create_user",
    "disable_user",
    "enable_user",
    "end_session",
    "hash_password",
    "list_users",
    "password_problems",
    "reset_password",
    "session_for_token",
    "start_session",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing is deliberately slow: refuse megabyte "passwords"
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
ACCOUNT_FAILURES = 5  # this many failures lock the account name
ADDRESS_FAILURES = 20  # more than this many refuse the address
SESSION_LIFETIME = timedelta(hours=8)
# last_seen_at is written at most this often, so that reading a page is not a write.
_TOUCH_EVERY = timedelta(minutes=1)

HASHER = PasswordHasher()  # Argon2id
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

SIGN_IN_REFUSED = "wrong username or password"


def _when(now: datetime | None) -> datetime:
    return audit.utcnow() if now is None else audit.naive_utc(now)


def _normal(username: str) -> str:
    return username.strip().lower()


# --- passwords ------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(parameters: tuple[int, int, int]) -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _spend_verification_time(password: str) -> None:
    """Verify against a throwaway hash, so that an unknown name takes as long to refuse
    as a wrong password."""
    verify_password(_dummy_hash((HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism)),
                    password)


def password_problems(password: str, username: str = "") -> list[str]:
    """Everything wrong with a new password (empty when it is acceptable).

    Length is what makes a password hard to guess (NIST SP 800-63B); composition rules
    ("a digit and a symbol") are not imposed.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it has {len(password)} characters; at least "
                        f"{MIN_PASSWORD_LENGTH} are needed")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"it is longer than {MAX_PASSWORD_LENGTH} characters")
    if password and len(set(password)) == 1:
        problems.append("it repeats one character")
    if password != password.strip():
        problems.append("it begins or ends with a space (easily lost when typed)")
    if username and _normal(username) in password.lower():
        problems.append("it contains the username")
    return problems


def _require_good_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise ReviewError("the password is not acceptable", details=problems,
                          fix=f"choose a passphrase of {MIN_PASSWORD_LENGTH} characters or "
                              "more, for example four unrelated words")


# --- accounts -------------------------------------------------------------------------


def _user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == _normal(username))).first()


def _existing(session: Session, username: str) -> User:
    user = _user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}", fix="sentinelle users list")
    return user


def _target(username: str) -> str:
    return f"user/{username}"


def create_user(session: Session, username: str, role: str, password: str,
                display_name: str | None = None, by: User | Actor | None = None) -> User:
    """A new active account. Usernames are lower-cased: ``Alice`` and ``alice`` are one."""
    name = _normal(username)
    problems = []
    if not _USERNAME.match(name):
        problems.append(f"username {username!r}: 1 to 64 characters among a-z 0-9 . _ @ -, "
                        "starting with a letter or digit")
    if role not in ROLES:
        problems.append(f"role {role!r}: one of {', '.join(ROLES)}")
    problems += [f"password: {p}" for p in password_problems(password, name)]
    if problems:
        raise ReviewError("the account cannot be created", details=problems,
                          fix="correct each point above")
    if _user(session, name) is not None:
        raise ReviewError(f"there is already a user {name!r}",
                          fix="choose another username, or sentinelle users reset")
    now = audit.utcnow()
    user = User(username=name, display_name=(display_name or name)[:200], role=role,
                password_hash=hash_password(password), active=True, created_at=now,
                password_changed_at=now, failed_logins=0, locked_until=None)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created at the same moment by someone else
        session.rollback()
        raise ReviewError(f"there is already a user {name!r}") from exc
    audit.record(session, action="create_user", user=by, target=_target(name),
                 detail={"role": role, "display_name": user.display_name})
    return user


def _end_sessions(session: Session, user: User, now: datetime) -> None:
    session.execute(update(LoginSession)
                    .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                    .values(ended_at=now))


def disable_user(session: Session, username: str, by: User | Actor | None = None) -> User:
    """The account can no longer sign in; its open sessions end. Nothing is deleted: its
    name stays on everything it did."""
    user = _existing(session, username)
    if user.active:
        user.active = False
        _end_sessions(session, user, audit.utcnow())
        audit.record(session, action="disable_user", user=by, target=_target(user.username))
    return user


def enable_user(session: Session, username: str, by: User | Actor | None = None) -> User:
    user = _existing(session, username)
    if not user.active:
        user.active = True
        audit.record(session, action="enable_user", user=by, target=_target(user.username))
    return user


def reset_password(session: Session, username: str, new_password: str,
                   by: User | Actor | None = None) -> User:
    """A new password; the lock is lifted and every open session ends."""
    user = _existing(session, username)
    _require_good_password(new_password, user.username)
    now = audit.utcnow()
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    _end_sessions(session, user, now)
    audit.record(session, action="reset_password", user=by, target=_target(user.username))
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


# --- signing in -----------------------------------------------------------------------


def _blocked_until(failures: Sequence[datetime], threshold: int) -> datetime | None:
    """The end of the latest block: ``threshold`` failures within ``WINDOW`` block for
    ``LOCKOUT`` after the one that completes them. ``failures`` ascending."""
    for i in range(len(failures) - 1, threshold - 2, -1):
        if failures[i] - failures[i - threshold + 1] <= WINDOW:
            return failures[i] + LOCKOUT
    return None


def _failures(session: Session, now: datetime, since: datetime | None = None, *,
              username: str | None = None, ip: str | None = None) -> list[datetime]:
    # A block that still runs was completed within LOCKOUT, by failures within WINDOW.
    start = now - WINDOW - LOCKOUT
    if since is not None:
        start = max(start, since)
    query = select(LoginAttempt.at).where(LoginAttempt.succeeded.is_(False),
                                          LoginAttempt.at > start, LoginAttempt.at <= now)
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    # The most recent are enough: any block still running ends with one of them.
    recent = session.scalars(query.order_by(LoginAttempt.at.desc()).limit(1000)).all()
    return sorted(recent)


def _refuse(session: Session, name: str, ip: str | None, now: datetime, reason: str,
            message: str, user: User | None = None) -> AuthError:
    session.add(LoginAttempt(username=name, ip=ip, at=now, succeeded=False))
    if user is not None:
        user.failed_logins += 1
    audit.record(session, action="login_failed", user=ANONYMOUS, target=_target(name),
                 detail={"reason": reason}, ip=ip)
    session.commit()
    return AuthError(message)


def authenticate(session: Session, username: str, password: str, ip: str | None = None,
                 now: datetime | None = None) -> User:
    """The user, if the password is right and neither the name nor the address is
    throttled; otherwise ``AuthError`` (its attempt committed, see the module's note).

    An unknown name and a wrong password get the same answer; a throttled name gets the
    same answer whether or not the account exists. Only after a right password is a
    disabled account told so.
    """
    now = _when(now)
    name = _normal(username)[:64]
    ip = ip[:64] if ip else None
    if ip is not None:
        until = _blocked_until(_failures(session, now, ip=ip), ADDRESS_FAILURES + 1)
        if until is not None and until > now:
            raise _refuse(session, name, ip, now, "address throttled",
                          f"too many failed sign-ins from this address; try again after "
                          f"{until:%H:%M} UTC")
    user = _user(session, name)
    since = None
    if user is not None:
        last_success = session.scalar(
            select(LoginAttempt.at).where(LoginAttempt.username == name,
                                          LoginAttempt.succeeded.is_(True))
            .order_by(LoginAttempt.at.desc()).limit(1))
        since = max(user.password_changed_at, last_success or user.password_changed_at)
    until = _blocked_until(_failures(session, now, since, username=name), ACCOUNT_FAILURES)
    if until is not None and until > now:
        raise _refuse(session, name, ip, now, "account throttled",
                      f"too many failed sign-ins for this account; try again after "
                      f"{until:%H:%M} UTC", user)
    if user is None:
        _spend_verification_time(password)
        raise _refuse(session, name, ip, now, "unknown user or wrong password",
                      SIGN_IN_REFUSED)
    if not verify_password(user.password_hash, password):
        failures = [*_failures(session, now, since, username=name), now]
        user.locked_until = _blocked_until(failures, ACCOUNT_FAILURES)
        raise _refuse(session, name, ip, now, "unknown user or wrong password",
                      SIGN_IN_REFUSED, user)
    if not user.active:
        raise _refuse(session, name, ip, now, "account disabled",
                      "this account is disabled; ask an administrator", user)
    session.add(LoginAttempt(username=name, ip=ip, at=now, succeeded=True))
    user.failed_logins = 0
    user.locked_until = None
    detail: dict[str, object] = {}
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        detail["rehashed"] = True
    audit.record(session, action="login", user=user, target=_target(name), detail=detail,
                 ip=ip)
    return user


# --- sessions -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, ip: str | None = None,
                  lifetime: timedelta = SESSION_LIFETIME,
                  now: datetime | None = None) -> tuple[str, LoginSession]:
    """A new signed-in session: the raw token (for the cookie, never stored) and its row,
    which holds the session's CSRF token."""
    now = _when(now)
    token = secrets.token_urlsafe(32)
    row = LoginSession(token_hash=_token_hash(token), user_id=user.id,
                       csrf_token=secrets.token_urlsafe(32), created_at=now,
                       last_seen_at=now, expires_at=now + lifetime, ended_at=None,
                       ip=ip[:64] if ip else None)
    session.add(row)
    session.flush()
    return token, row


def session_for_token(session: Session, token: str,
                      now: datetime | None = None) -> LoginSession | None:
    """The live session for a cookie's token: ``None`` when unknown, expired, ended, or
    when its user is disabled. Marks it seen (at most once a minute)."""
    if not token:
        return None
    now = _when(now)
    # Every request asks this: the session and its user in one query, not two.
    row = session.get(LoginSession, _token_hash(token),
                      options=[joinedload(LoginSession.user)])
    if row is None or row.ended_at is not None or row.expires_at <= now \
            or not row.user.active:
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end_session(session: Session, token: str, now: datetime | None = None) -> None:
    """Sign out. An unknown or already ended token is ignored."""
    now = _when(now)
    row = session.get(LoginSession, _token_hash(token)) if token else None
    if row is None or row.ended_at is not None:
        return
    row.ended_at = now
    audit.record(session, action="logout", user=row.user, target=_target(row.user.username),
                 ip=row.ip)
