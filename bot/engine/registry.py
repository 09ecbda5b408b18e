"""The closed vocabulary of flow files: every action, router and case type, in one place.

A type missing here is rejected when flows are loaded and by `harbour flows check`.
"""

from __future__ import annotations

from bot.engine.actions import (
    ActionType,
    channel_state,
    enrol,
    escalate,
    record,
    relay,
    say,
    set_flag,
    set_profile,
)
from bot.engine.cases import CASE_TYPES, CaseType

ACTION_TYPES: dict[str, ActionType] = {
    module.ACTION.name: module.ACTION
    for module in (say, escalate, relay, set_profile, enrol, channel_state, record, set_flag)
}
ROUTER_TYPES = ("switch", "menu")  # menu: one case per offered choice, always waits

# Nodes the engine itself jumps to for the global intents (see bot.engine.intents).
INTENT_NODES: dict[str, str] = {
    "help": "global.help",
    "person": "global.person",
    "stop": "global.stop",
    "stop_maybe": "global.stop_ask",
    "start": "global.start",
    "pause": "global.pause",
    "language": "language.choose",
    "settings": "settings.main",
    "delete": "settings.delete",
}
HOME_NODE = "menu.main"

# Nodes a SystemEvent of that name enters from wherever the conversation is (a reminder, a
# check-in); the survivor's answer is heard there, and "return" goes back to where they were.
SYSTEM_ENTRIES: dict[str, str] = {
    "reminder": "appointments.reminder",
    "checkin": "checkin.ask",
}
ONBOARDING_FLOW = "onboarding"

# Catalogue keys the engine uses directly (not named in any flow file).
ENGINE_KEYS = (
    "common.reprompt",
    "common.offer_person",
    "choice.person",
    "choice.retry",
    "global.welcome_back",
    "duress.reply",
    "help.now",
    "match.stop_maybe",
    "match.numbers",
)
# Catalogue keys the services say directly (never named in a flow file); flows check
# requires them in every language like any other.
SERVICE_KEYS = (
    "flood.notice",
    "appointments.list",
    "appointments.item",
    "appointments.none",
    "relay.untranslated",
    "relay.from",
    "relay.role.advocate",
    "relay.role.team",
    "handover.intro",
)

__all__ = [
    "ACTION_TYPES",
    "CASE_TYPES",
    "ENGINE_KEYS",
    "HOME_NODE",
    "INTENT_NODES",
    "ONBOARDING_FLOW",
    "ROUTER_TYPES",
    "SERVICE_KEYS",
    "SYSTEM_ENTRIES",
    "ActionType",
    "CaseType",
]
