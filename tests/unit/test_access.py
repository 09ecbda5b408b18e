"""The access policy as a generated matrix: role x action x ownership x cover x escalation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.staff.access import ACTIONS, Actor, Case, allowed

staff_ids = st.integers(min_value=1, max_value=4)
actors = st.builds(Actor, staff_ids, st.sampled_from(["advocate", "duty", "admin", "volunteer"]),
                   st.booleans())  # fmt: skip
cases = st.builds(Case, st.one_of(st.none(), staff_ids), st.booleans(),
                  st.one_of(st.none(), staff_ids), st.booleans())  # fmt: skip
actions = st.sampled_from(ACTIONS)


def responsible(actor: Actor, case: Case) -> bool:
    """Stated independently of the implementation: who has any business with this case."""
    own = case.advocate_id == actor.staff_id
    cover = case.advocate_away and case.cover_id == actor.staff_id
    return own or cover


@given(actors, actions, cases)
def test_no_content_leaks(actor: Actor, action: str, case: Case) -> None:
    granted = allowed(actor, action, case)  # type: ignore[arg-type]
    if not actor.active or actor.role not in ("advocate", "duty", "admin"):
        assert not granted
    if action in ("read_case", "reply", "wipe") and granted:
        if actor.role == "advocate":
            assert responsible(actor, case)
        else:
            assert actor.role == "duty" and action != "wipe"
            assert case.escalation_open or case.advocate_id is None
    if actor.role == "admin" and action in ("read_case", "reply", "acknowledge", "wipe"):
        assert not granted


@given(actors, cases)
def test_an_advocate_can_always_work_their_own_case(actor: Actor, case: Case) -> None:
    mine = Case(actor.staff_id, case.advocate_away, case.cover_id, case.escalation_open)
    if actor.active and actor.role == "advocate":
        assert all(allowed(actor, a, mine) for a in ("read_case", "reply", "acknowledge"))


def test_cover_only_while_the_colleague_is_away() -> None:
    cover = Actor(2, "advocate")
    assert allowed(cover, "read_case", Case(1, advocate_away=True, cover_id=2))
    assert not allowed(cover, "read_case", Case(1, advocate_away=False, cover_id=2))
    assert not allowed(Actor(3, "advocate"), "read_case", Case(1, advocate_away=True, cover_id=2))
