"""Who may do what with a case: the one access policy for chat, command line and console.

Deny by default, and table-driven. A decision looks at four things:

- the actor's role (advocate, duty, admin);
- the actor's state (active, away, deactivated): deactivated staff may do nothing at all;
- the actor's relation to the case: their own, one they cover (its advocate is away, still
  active, and named them), one with an open alert, one nobody is responsible for
  ("unassigned": no advocate, or an advocate who has been deactivated), one whose open alert
  reached them (the escalation chase: cover, rota, manager), or none of these;
- the action.

The tables below are the whole policy; `allowed` only looks things up. Pure: no I/O, so
tests/unit/test_access.py checks it as a generated matrix. `bot/staff/case_access.py` builds
the Actor and Case views from the database for every surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal[
    "read_case",  # /case, the console's timeline
    "reply",  # #CASE text, a Telegram reply, the console's reply box
    "acknowledge",  # ACK and RESOLVE of an alert on the case
    "wipe",  # /wipe: delete the bot's chat on a lost phone
    "handover",  # /handover: give the case to another advocate
    "issue_code",  # /code: a new one-time joining code for the survivor
    "manage",  # administration: assign, close, reopen, export, erase
]
ACTIONS: tuple[Action, ...] = (
    "read_case",
    "reply",
    "acknowledge",
    "wipe",
    "handover",
    "issue_code",
    "manage",
)
# Things a staff member does for themselves, with no case involved.
SelfAction = Literal["list_cases", "set_away"]
SELF_ACTIONS: tuple[SelfAction, ...] = ("list_cases", "set_away")

Role = Literal["advocate", "duty", "admin"]
ROLES: tuple[Role, ...] = ("advocate", "duty", "admin")
State = Literal["active", "away", "deactivated"]
STATES: tuple[State, ...] = ("active", "away", "deactivated")
Relation = Literal["own", "covered", "open_alert", "alerted", "unassigned", "none"]
RELATIONS: tuple[Relation, ...] = ("own", "covered", "open_alert", "alerted", "unassigned", "none")

_CASEWORK: frozenset[Action] = frozenset(
    {"read_case", "reply", "acknowledge", "wipe", "handover", "issue_code"}
)
_DUTY_WORK: frozenset[Action] = frozenset({"read_case", "reply", "acknowledge"})
_NOTHING: frozenset[Action] = frozenset()

# (role, relation) -> what that relation lets the role do. A relation missing here gives
# nothing. Admins manage every case and read none of them.
CASE_RULES: dict[tuple[Role, Relation], frozenset[Action]] = {
    ("advocate", "own"): _CASEWORK,
    ("advocate", "covered"): _CASEWORK,
    # Whoever an alert reached (the rota, the manager) may acknowledge it, and nothing more.
    ("advocate", "alerted"): frozenset({"acknowledge"}),
    ("duty", "open_alert"): _DUTY_WORK,
    ("duty", "alerted"): _DUTY_WORK,
    ("duty", "unassigned"): _DUTY_WORK,
    ("admin", "own"): frozenset({"manage"}),
    ("admin", "covered"): frozenset({"manage"}),
    ("admin", "open_alert"): frozenset({"manage"}),
    ("admin", "alerted"): frozenset({"manage", "acknowledge"}),
    ("admin", "unassigned"): frozenset({"manage"}),
    ("admin", "none"): frozenset({"manage"}),
}
# Which states may act at all. An away member of staff who writes in is present: they keep
# their own cases (their cover works alongside them until they say /back).
STATE_RULES: dict[State, bool] = {"active": True, "away": True, "deactivated": False}
SELF_RULES: dict[Role, frozenset[SelfAction]] = {
    "advocate": frozenset({"list_cases", "set_away"}),
    "duty": frozenset({"list_cases", "set_away"}),
    "admin": frozenset(),
}


@dataclass(frozen=True)
class Actor:
    staff_id: int
    role: str  # advocate | duty | admin (anything else may do nothing)
    active: bool = True
    away: bool = False

    @property
    def state(self) -> State:
        if not self.active:
            return "deactivated"
        return "away" if self.away else "active"


@dataclass(frozen=True)
class Case:
    advocate_id: int | None
    advocate_away: bool = False  # the advocate is active and away now
    cover_id: int | None = None  # the assigned advocate's named cover
    escalation_open: bool = False  # an alert on this case is open or acknowledged
    advocate_active: bool = True  # False: the advocate was deactivated (nobody answers)
    alerted: frozenset[int] = frozenset()  # staff the open alert has reached so far


def relations(actor: Actor, case: Case) -> frozenset[Relation]:
    """Every relation the actor has to the case ("none" when there is no other)."""
    found: set[Relation] = set()
    if case.advocate_id is not None and case.advocate_id == actor.staff_id:
        found.add("own")
    if (
        case.advocate_active
        and case.advocate_away
        and case.cover_id is not None
        and case.cover_id == actor.staff_id
        and case.advocate_id != actor.staff_id
    ):
        found.add("covered")
    if case.escalation_open:
        found.add("open_alert")
        if actor.staff_id in case.alerted:
            found.add("alerted")
    if case.advocate_id is None or not case.advocate_active:
        found.add("unassigned")
    return frozenset(found or {"none"})


def may_act(actor: Actor) -> bool:
    """Whether this member of staff may do anything at all."""
    return actor.role in ROLES and STATE_RULES[actor.state]


def allowed(actor: Actor, action: Action, case: Case) -> bool:
    if not may_act(actor):
        return False
    role: Role = actor.role  # type: ignore[assignment]  # checked by may_act
    return any(action in CASE_RULES.get((role, r), _NOTHING) for r in relations(actor, case))


def allowed_self(actor: Actor, action: SelfAction) -> bool:
    if not may_act(actor):
        return False
    role: Role = actor.role  # type: ignore[assignment]
    return action in SELF_RULES[role]
