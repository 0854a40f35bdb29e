"""Need to know: every role against every action, and who sees which case."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from sentinelle.errors import Forbidden, NotFound
from sentinelle.review import access
from sentinelle.review.models import ROLES, Case, CaseMember, User

# Written out by hand, not derived from access.PERMISSIONS: this is the specification.
Y, N = True, False
EXPECTED = {
    #               analyst investigator supervisor auditor admin
    "view_queue":   (Y, Y, Y, N, N),
    "assign":       (Y, Y, Y, N, N),
    "dispose":      (Y, Y, Y, N, N),
    "view_subject": (Y, Y, Y, N, N),
    "search":       (Y, Y, Y, N, N),
    "judge_records": (Y, Y, Y, N, N),
    "export":       (Y, Y, Y, N, N),
    "draft_report": (Y, Y, Y, N, N),
    "approve_report": (N, N, Y, N, N),
    "create_case":  (Y, Y, Y, N, N),
    "view_case":    (Y, Y, Y, N, N),
    "edit_case":    (N, Y, Y, N, N),
    "train_model":  (N, N, Y, N, N),
    "view_audit":   (N, N, N, Y, N),
    "manage_users": (N, N, N, N, Y),
}
MATRIX = [(role, action, allowed[i]) for action, allowed in EXPECTED.items()
          for i, role in enumerate(ROLES)]


def person(role: str, active: bool = True, id: int = 1) -> User:
    return User(id=id, username=role, role=role, active=active)


def test_the_matrix_covers_every_role_and_action():
    assert ROLES == ("analyst", "investigator", "supervisor", "auditor", "admin")
    assert set(EXPECTED) == set(access.ACTIONS)


@pytest.mark.parametrize(("role", "action", "allowed"), MATRIX,
                         ids=[f"{r}-{a}" for r, a, _ in MATRIX])
def test_each_role_may_do_exactly_its_actions(role, action, allowed):
    user = person(role)
    assert access.can(user, action) is allowed
    if allowed:
        access.require(user, action)
    else:
        with pytest.raises(Forbidden, match=f"your role \\({role}\\) does not allow this"):
            access.require(user, action)
    assert access.can(person(role, active=False), action) is False


def test_nobody_signed_in_may_do_nothing():
    assert not any(access.can(None, a) for a in access.ACTIONS)
    with pytest.raises(Forbidden, match="not signed in"):
        access.require(None, "view_queue")


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action 'view_everything'"):
        access.can(person("supervisor"), "view_everything")


@pytest.fixture
def team(session, make_user):
    """A case opened by one analyst, with an investigator and an admin on it."""
    people = {name: make_user(name, role) for name, role in [
        ("analyst_on", "analyst"), ("analyst_off", "analyst"),
        ("investigator_on", "investigator"), ("investigator_off", "investigator"),
        ("supervisor", "supervisor"), ("auditor", "auditor"), ("admin_on", "admin")]}
    case = Case(reference="C-2024-0001", title="Placeholder", status="open",
                created_by=people["analyst_on"].id, created_at=datetime(2024, 5, 1))
    session.add(case)
    session.flush()
    for name in ("analyst_on", "investigator_on", "admin_on"):
        session.add(CaseMember(case_id=case.id, user_id=people[name].id,
                               added_by=people["analyst_on"].id, added_at=case.created_at))
    other = Case(reference="C-2024-0002", title="Another team's", status="open",
                 created_by=people["supervisor"].id, created_at=datetime(2024, 6, 1))
    session.add(other)
    session.commit()
    return people, case, other


VISIBILITY = [
    # who, sees the case, may change it
    ("analyst_on", True, False),
    ("analyst_off", False, False),
    ("investigator_on", True, True),
    ("investigator_off", False, False),
    ("supervisor", True, True),
    ("auditor", False, False),
    ("admin_on", False, False),  # a member, but the role comes first
]


@pytest.mark.parametrize(("who", "sees", "edits"), VISIBILITY,
                         ids=[v[0] for v in VISIBILITY])
def test_who_sees_which_case(session, team, who, sees, edits):
    people, case, other = team
    user = people[who]
    assert access.can_see_case(session, user, case) is sees
    assert access.can_edit_case(session, user, case) is edits
    visible = [c.reference for c in access.visible_cases(session, user)]
    expected = {"supervisor": ["C-2024-0002", "C-2024-0001"]}.get(
        who, ["C-2024-0001"] if sees else [])
    assert visible == expected
    if sees:
        assert access.require_case(session, user, case.id) is case
    else:
        with pytest.raises(NotFound) as hidden:
            access.require_case(session, user, case.id)
        with pytest.raises(NotFound) as missing:
            access.require_case(session, user, 999)
        # the same answer as for a case that does not exist, but for the number
        assert hidden.value.message.replace(str(case.id), "N") == \
            missing.value.message.replace("999", "N")
        assert hidden.value.fix == missing.value.fix
    if edits:
        assert access.require_case(session, user, case.id, edit=True) is case
    elif sees:
        with pytest.raises(Forbidden, match="may read case C-2024-0001 but not change it"):
            access.require_case(session, user, case.id, edit=True)


def test_a_disabled_member_sees_nothing(session, team):
    people, case, _ = team
    people["investigator_on"].active = False
    assert not access.can_see_case(session, people["investigator_on"], case)
    assert access.visible_cases(session, people["investigator_on"]) == []


def test_the_documentation_shows_the_permission_table():
    page = (Path(__file__).resolve().parents[2] / "docs" / "review.md").read_text("utf-8")
    found = re.search(r"<!-- permissions -->\n(.*?)<!-- /permissions -->", page, re.S)
    assert found, "docs/review.md: the permission table's markers are missing"
    assert found.group(1) == access.permission_table(), \
        "docs/review.md: paste access.permission_table() between the markers"
