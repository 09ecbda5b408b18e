"""The access policy as a generated matrix: role x state x relation x action.

The oracle below states the rules in words of its own, independently of the tables in
bot/staff/access.py; Hypothesis draws actors and cases, and a plain loop checks that every
role, state, relation and action is reached at least once.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.staff.access import (
    ACTIONS,
    RELATIONS,
    ROLES,
    SELF_ACTIONS,
    STATES,
    Action,
    Actor,
    Case,
    allowed,
    allowed_self,
    relations,
)

ids = st.integers(min_value=1, max_value=4)
roles = st.sampled_from([*ROLES, "volunteer"])
actors = st.builds(Actor, ids, roles, st.booleans(), st.booleans())
cases = st.builds(
    Case,
    st.one_of(st.none(), ids),
    st.booleans(),
    st.one_of(st.none(), ids),
    st.booleans(),
    st.booleans(),
    st.frozensets(ids, max_size=3),
)


def expected(actor: Actor, action: Action, case: Case) -> bool:
    """The rules, stated plainly."""
    if not actor.active or actor.role not in ROLES:
        return False  # deactivated staff (and unknown roles) can do nothing
    own = case.advocate_id == actor.staff_id
    nobody = case.advocate_id is None or not case.advocate_active
    covering = (
        not own and case.advocate_active and case.advocate_away and case.cover_id == actor.staff_id
    )
    alert = case.escalation_open
    reached = alert and actor.staff_id in case.alerted
    if actor.role == "admin":
        return action == "manage" or (action == "acknowledge" and reached)
    if action == "manage":
        return False
    if actor.role == "advocate":
        return own or covering or (action == "acknowledge" and reached)
    # duty: cases with an open alert and cases nobody answers, never wipe, hand over or codes
    return action in ("read_case", "reply", "acknowledge") and (alert or nobody)


@given(actors, st.sampled_from(ACTIONS), cases)
def test_the_policy_matches_the_rules(actor: Actor, action: Action, case: Case) -> None:
    assert allowed(actor, action, case) == expected(actor, action, case)


@given(actors, st.sampled_from(ACTIONS), cases)
def test_deactivated_staff_can_do_nothing(actor: Actor, action: Action, case: Case) -> None:
    gone = Actor(actor.staff_id, actor.role, active=False, away=actor.away)
    assert gone.state == "deactivated"
    assert not allowed(gone, action, case)
    assert not any(allowed_self(gone, a) for a in SELF_ACTIONS)


@given(actors, cases)
def test_admins_never_read_or_write_case_content(actor: Actor, case: Case) -> None:
    admin = Actor(actor.staff_id, "admin", actor.active, actor.away)
    for action in ("read_case", "reply", "wipe", "handover", "issue_code"):
        assert not allowed(admin, action, case)


@given(actors, cases)
def test_a_deactivated_advocate_leaves_no_cover_behind(actor: Actor, case: Case) -> None:
    """The hole: an inactive advocate counted as "away", so their cover kept the case."""
    gone = Case(case.advocate_id, True, actor.staff_id, False, advocate_active=False)
    if actor.role == "advocate" and gone.advocate_id != actor.staff_id:
        assert not allowed(actor, "read_case", gone)
        assert not allowed(actor, "reply", gone)
    if actor.role == "duty" and actor.active:
        assert allowed(actor, "read_case", gone) and allowed(actor, "reply", gone)


def test_every_role_state_relation_and_action_is_reached() -> None:
    """The whole matrix, enumerated: each cell decided, each role and state seen allowing and
    refusing something."""
    seen_allow: set[tuple[str, str]] = set()
    seen_relation: set[str] = set()
    for role, state, action in itertools.product(ROLES, STATES, ACTIONS):
        actor = Actor(1, role, active=state != "deactivated", away=state == "away")
        assert actor.state == state
        for advocate, away, cover, alert, active, alerted in itertools.product(
            (None, 1, 2), (False, True), (None, 1, 3), (False, True), (False, True), ((), (1,))
        ):
            case = Case(advocate, away, cover, alert, active, frozenset(alerted))
            seen_relation |= relations(actor, case)
            decision = allowed(actor, action, case)
            assert decision == expected(actor, action, case), (role, state, action, case)
            if decision:
                seen_allow.add((role, state))
    assert seen_relation == set(RELATIONS)
    assert seen_allow == {(r, s) for r in ROLES for s in STATES if s != "deactivated"}


def test_cover_only_while_the_colleague_is_away_and_active() -> None:
    cover = Actor(2, "advocate")
    assert allowed(cover, "read_case", Case(1, advocate_away=True, cover_id=2))
    assert not allowed(cover, "read_case", Case(1, advocate_away=False, cover_id=2))
    assert not allowed(
        cover, "read_case", Case(1, advocate_away=True, cover_id=2, advocate_active=False)
    )
    assert not allowed(Actor(3, "advocate"), "read_case", Case(1, advocate_away=True, cover_id=2))


def test_self_actions() -> None:
    for role in ("advocate", "duty"):
        assert allowed_self(Actor(1, role), "list_cases")
        assert allowed_self(Actor(1, role, away=True), "set_away")
        assert not allowed_self(Actor(1, role, active=False), "list_cases")
    assert not allowed_self(Actor(1, "admin"), "list_cases")
