"""Who may do what with a case. Deny by default. Pure: the tests check it as a matrix.

- An advocate acts on their own caseload, and on the cases of an absent colleague whose named
  cover they are.
- Duty staff act on cases with an open escalation, and on cases nobody is assigned to (the
  duty team answers those).
- Admins manage (assign, hand over, enrol); they do not read case content.
- An inactive staff member may do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["read_case", "reply", "acknowledge", "wipe", "handover", "manage"]
ACTIONS: tuple[Action, ...] = ("read_case", "reply", "acknowledge", "wipe", "handover", "manage")

_CASEWORK: frozenset[Action] = frozenset({"read_case", "reply", "acknowledge", "wipe", "handover"})
_DUTY: frozenset[Action] = frozenset({"read_case", "reply", "acknowledge"})
_ADMIN: frozenset[Action] = frozenset({"handover", "manage"})


@dataclass(frozen=True)
class Actor:
    staff_id: int
    role: str  # advocate | duty | admin
    active: bool = True


@dataclass(frozen=True)
class Case:
    advocate_id: int | None
    advocate_away: bool = False
    cover_id: int | None = None  # the assigned advocate's named cover
    escalation_open: bool = False


def allowed(actor: Actor, action: Action, case: Case) -> bool:
    if not actor.active:
        return False
    if actor.role == "admin":
        return action in _ADMIN
    if actor.role == "advocate":
        own = case.advocate_id == actor.staff_id
        covering = case.advocate_away and case.cover_id == actor.staff_id
        return action in _CASEWORK and (own or covering)
    if actor.role == "duty":
        return action in _DUTY and (case.escalation_open or case.advocate_id is None)
    return False
