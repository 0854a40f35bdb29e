"""Need to know, in one place: what each role may do, and which cases a user may see.

The rules, from the issue ("a case is visible only to its members and to supervisors; an
analyst sees alerts but not cases they are not on; the auditor reads the audit log and
nothing else") and the separation of duties they imply:

- **analyst** — works the alert queue: views, assigns, decides, looks up subjects, searches,
  exports what the queue shows. Opens a case (and becomes its member) to hand an alert on;
  reads the cases they are a member of, but does not build them.
- **investigator** — the analyst's work, plus building the cases they are a member of
  (subjects, notes, files, status, members).
- **supervisor** — everything the investigator does, on every case (workload and
  oversight), and retrains the model from the team's decisions. Not the audit log: the log
  watches supervisors too.
- **reports** (four eyes) — analysts, investigators and supervisors draft a report on a
  subject or a case they may see, and submit it; only a supervisor approves or returns
  one, and never a report they drafted themselves (``review/reports.py`` refuses it).
  Approving is oversight of what leaves the unit for an FIU, a prosecutor or a foreign
  police force, the same responsibility that makes supervisors the ones who see every case
  and adopt a model; drafting is the analysts' and investigators' daily work. A case's
  reports are need-to-know like the case itself.
- **auditor** — reads the audit log and nothing else: no alert, subject or case.
- **admin** — manages accounts and nothing else: whoever creates accounts sees no data
  about suspects or children, and cannot read the log that records what they did. An admin
  made a member of a case still cannot open it (the role decides first, membership second).

Every function answers from the role and membership only; the caller writes the audit line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from sentinelle.errors import Forbidden, NotFound
from sentinelle.review.models import ROLES, Case, CaseMember, User

__all__ = [
    "ACTIONS",
    "PERMISSIONS",
    "can",
    "can_edit_case",
    "can_see_case",
    "permission_table",
    "require",
    "require_case",
    "visible_cases",
    "visible_cases_query",
]

ACTIONS: dict[str, str] = {
    "view_queue": "see the alert queue",
    "assign": "assign alerts to a user",
    "dispose": "decide on an alert (escalate, false positive, needs information)",
    "view_subject": "open a sender's or beneficiary's page and network",
    "search": "search parties by name, phone, account, email or id",
    "judge_records": "judge whether two records are one person (entity resolution), or "
                     "undo such a judgement",
    "export": "export alerts, subjects and reports",
    "draft_report": "draft a report on a subject or a case one may see, edit it while a "
                    "draft, submit it for approval",
    "approve_report": "approve or return a submitted report — never one's own (four eyes)",
    "create_case": "open a case (and become its member)",
    "view_case": "open a case — only those one is a member of, except supervisors",
    "edit_case": "change a case: subjects, notes, files, status, members — same scope",
    "train_model": "retrain the glass-box model on the team's decisions",
    "view_audit": "read and verify the audit log",
    "manage_users": "create, disable and reset accounts",
}

_QUEUE = {"view_queue", "assign", "dispose", "view_subject", "search", "export",
          "create_case", "view_case", "judge_records", "draft_report"}

PERMISSIONS: dict[str, set[str]] = {
    "analyst": set(_QUEUE),
    "investigator": _QUEUE | {"edit_case"},
    "supervisor": _QUEUE | {"edit_case", "train_model", "approve_report"},
    "auditor": {"view_audit"},
    "admin": {"manage_users"},
}

# Roles that see every case without being a member of it.
ALL_CASES = frozenset({"supervisor"})

assert set(PERMISSIONS) == set(ROLES), "every role has its permissions"
assert set().union(*PERMISSIONS.values()) <= set(ACTIONS), "every permission is an action"


def can(user: User | None, action: str) -> bool:
    """Whether the user's role allows the action. A disabled account may do nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return user is not None and user.active and action in PERMISSIONS.get(user.role, set())


def require(user: User | None, action: str) -> None:
    """Raise ``Forbidden`` unless the user may do this."""
    if not can(user, action):
        role = user.role if user is not None else "not signed in"
        raise Forbidden(f"your role ({role}) does not allow this: {ACTIONS[action]}",
                        fix="ask a supervisor or an administrator if you need it")


def _is_member(session: Session, user: User, case_id: int) -> bool:
    return session.get(CaseMember, (case_id, user.id)) is not None


def can_see_case(session: Session, user: User | None, case: Case) -> bool:
    """Members of the case, and supervisors, whose role lets them open cases."""
    if user is None or not can(user, "view_case"):
        return False
    return user.role in ALL_CASES or _is_member(session, user, case.id)


def can_edit_case(session: Session, user: User | None, case: Case) -> bool:
    return can_see_case(session, user, case) and can(user, "edit_case")


def require_case(session: Session, user: User | None, case_id: int,
                 edit: bool = False) -> Case:
    """The case, if the user may see it (and change it, with ``edit``).

    A case the user may not see is "not found", exactly as a case that does not exist:
    its existence is itself need-to-know. A case they see but may not change is
    ``Forbidden``.
    """
    case = session.get(Case, case_id)
    if case is None or not can_see_case(session, user, case):
        raise NotFound(f"no case #{case_id}", fix="check the case number, or ask a "
                       "supervisor to add you to the case")
    if edit and not can(user, "edit_case"):
        assert user is not None
        raise Forbidden(f"your role ({user.role}) may read case {case.reference} but not "
                        "change it", fix="ask an investigator or a supervisor on the case")
    return case


def visible_cases_query(user: User | None) -> Select[Any]:
    """The cases the user may see, as a query to filter, order and page further."""
    query = select(Case)
    if user is None or not can(user, "view_case"):
        return query.where(false())
    if user.role in ALL_CASES:
        return query
    return query.join(CaseMember, CaseMember.case_id == Case.id).where(
        CaseMember.user_id == user.id)


def visible_cases(session: Session, user: User | None) -> Sequence[Case]:
    """The cases the user may see, newest first."""
    query = visible_cases_query(user).order_by(Case.created_at.desc(), Case.id.desc())
    return session.scalars(query).all()


def permission_table() -> str:
    """The role × action table (Markdown) for docs/review.md; a test keeps the page true."""
    roles = list(ROLES)
    lines = ["| action | meaning | " + " | ".join(roles) + " |",
             "|---|---|" + "---|" * len(roles)]
    for action, meaning in ACTIONS.items():
        marks = ["yes" if action in PERMISSIONS[r] else "—" for r in roles]
        lines.append(f"| `{action}` | {meaning} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
