"""The pure flow engine: (state, event, context) -> Outcome(new state, effects).

Order of listening for every message, at every step:
1. a paused conversation wakes up;
2. the survivor's duress word (silent alarm, ordinary reply, no visible trace);
3. "help", then urgent phrases in any language (alarm, emergency numbers, text passed on);
4. STOP is honoured: only START (and the help above) gets through until then;
5. a pending "talk to a person?" offer;
6. global intents (help, person, pause, STOP/START, language, settings, delete my data,
   menu/back). A word that may mean STOP ("cancel") answers the question asked if it can,
   else asks once "Stop all messages?" (bot/engine/intents.py). A code sent with a join word
   by someone who went on without one links them;
7. the current node's router. Text it does not expect: a sentence (once onboarded) goes to
   the advocate, since survivors just write; anything else gets a kind re-prompt, and two
   misses in a row an offer of a person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.engine.actions.enrol import after_join_word, extract_code
from bot.engine.actions.say import say_effect
from bot.engine.bundle import Bundle
from bot.engine.cases import (
    CASE_TYPES,
    looks_like_message,
    matched_choice,
    number_word,
    worth_passing_on,
)
from bot.engine.definitions import OTHER, Destination, Node
from bot.engine.effects import (
    ChannelState,
    Choice,
    Effect,
    Enrol,
    Escalate,
    Relay,
    Say,
    SetProfile,
)
from bot.engine.events import Context, Event, SystemEvent
from bot.engine.intents import MAYBE_STOP, detect_intent
from bot.engine.languages import SUPPORTED_LANGUAGES
from bot.engine.matching import matches_any
from bot.engine.normalize import normalize
from bot.engine.registry import (
    ACTION_TYPES,
    HOME_NODE,
    INTENT_NODES,
    ONBOARDING_FLOW,
    SYSTEM_ENTRIES,
)
from bot.engine.run import MAX_INPUT_CHARS, Run
from bot.engine.urgent import detect

log = logging.getLogger(__name__)  # never logs message text: only what went wrong

MAX_STEPS = 64  # node entries per event; flows check rejects cycles that never wait
MISSES_BEFORE_OFFER = 2
STOP_QUESTION = ("global", "stop_ask")  # "Stop all messages?" (registry INTENT_NODES)
# What a code sent after onboarding (not at the code step) gets back.
LATE_JOIN_REPLIES = {"enrol_ok": "onboarding.welcome", "enrol_failed": "onboarding.code_wrong"}


@dataclass(frozen=True)
class Outcome:
    state: dict[str, Any]  # JSON-serialisable; store it and pass it back next time
    effects: list[Effect]


class Engine:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    def handle(self, state: dict[str, Any] | None, event: Event, ctx: Context) -> Outcome:
        run = Run.load(self.bundle, state, ctx)
        if isinstance(event, SystemEvent):
            self._on_system(run, event.name)
        else:
            self._on_input(run, event.text, event.choice)
        return Outcome(run.dump(), list(run.effects))

    # -- events -----------------------------------------------------------------------
    def _on_system(self, run: Run, name: str) -> None:
        run.event_name = name
        if name == "enrol_ok":
            run.enrolled = True
        if name in SYSTEM_ENTRIES:
            self._system_entry(run, Destination.parse(SYSTEM_ENTRIES[name], ""))
            return
        node = self._current(run)
        if node is None or node.router is None:
            return
        for case in node.router.cases:
            if case.type == "event" and case.arguments[0] == name:
                self._follow(run, node, node.router.categories[case.category])
                return
        if run.onboarded and name in LATE_JOIN_REPLIES:  # a code sent from the menu
            run.effects.append(Say(LATE_JOIN_REPLIES[name]))

    def _system_entry(self, run: Run, entry: Destination) -> None:
        """A reminder or check-in: go there now, remembering where the survivor was."""
        if run.stopped:
            return  # STOP is honoured: nothing is said
        if run.position is not None and run.position[0] != entry.flow:
            run.push(run.position)
        run.offer, run.misses = False, 0
        self._goto(run, entry)

    def _on_input(self, run: Run, text: str, choice: str | None) -> None:
        run.set_input(text, choice)
        resumed = run.paused
        if resumed:
            run.paused = False
            run.effects.append(ChannelState("active"))
        node = self._current(run)
        if not (node is not None and node.private_input) and self._duress(run):
            return
        intent = detect_intent(run)
        if intent == "help":  # the survivor's own "help" outranks a phrase that matched it
            self._intent(run, intent)
            return
        if self._urgent(run):
            return
        if run.stopped:
            if intent == "start":
                self._intent(run, intent)
            elif intent is None and worth_passing_on(run):
                # Nothing is said back, but what they wrote still reaches their advocate:
                # writing after STOP may be the only sign of trouble.
                run.effects.append(Relay(run.text))
            return  # STOP is honoured: silence until START (help and urgent still heard)
        if run.offer and node is not None and self._answer_offer(run, node):
            return
        run.offer = False
        if intent == MAYBE_STOP:
            intent = self._maybe_stop(run, node)
        if intent is None and self._late_join(run):
            return
        if intent is not None:
            self._intent(run, intent)
        elif node is None:
            self._capture_join_code(run)
            self._goto(run, self._home(run))
        else:
            self._route(run, node, resumed)

    # -- safety -----------------------------------------------------------------------
    def _duress(self, run: Run) -> bool:
        word = normalize(run.ctx.duress_word or "")
        if not word or f" {word} " not in f" {run.normalized} ":
            return False
        run.effects += [Escalate("duress", silent=True), Say("duress.reply")]
        return True

    def _urgent(self, run: Run) -> bool:
        if run.choice is not None or not run.normalized:
            return False
        try:
            hit = detect(self.bundle.urgent_bank, run.text[:MAX_INPUT_CHARS], run.language)
        except Exception as exc:  # a detector bug must never silence the conversation
            log.error("urgent detection failed (%s); message handled as not urgent", type(exc))
            hit = None
        if hit is None:
            return False
        run.effects.append(Escalate(f"phrase:{hit.category}"))
        if run.language is None and hit.language in SUPPORTED_LANGUAGES:
            run.lang = hit.language  # answer in the language they wrote in
            run.effects.append(SetProfile("language", hit.language))
        run.effects += [Say("help.now", urgent=True), Relay(run.text)]
        if run.position is None and not run.stopped:
            self._goto(run, self._home(run))
        return True

    # -- global intents -----------------------------------------------------------------
    def _intent(self, run: Run, intent: str) -> None:
        if intent in INTENT_NODES and not (intent == "start" and not run.stopped):
            if intent == "start" and run.onboarded:
                # Back after STOP: the main menu, not a page that may be days old.
                run.stack.clear()
                run.position = None
            if run.position is not None:
                run.push(run.position)
            self._goto(run, Destination.parse(INTENT_NODES[intent], ""))
            return
        # "menu", "back", or START when nothing was stopped.
        node = self._current(run)
        if node is None or run.position is None:
            self._goto(run, self._home(run))
        elif intent == "start" or not run.onboarded:
            self._reprompt(run, node)  # nothing to skip to before onboarding ends
        else:
            run.stack.clear()
            flow = self.bundle.flows[run.position[0]]
            target = (node.back or flow.back or HOME_NODE) if intent == "back" else HOME_NODE
            self._goto(run, Destination.parse(target, flow.name))

    def _answer_offer(self, run: Run, node: Node) -> bool:
        """After two misses we offered "1 Talk to a person / 2 Try again"."""
        run.offer = False
        catalogue = self.bundle.catalogue
        picked = run.choice
        number = number_word(run, run.listening_languages())
        typed = str(number) if number is not None else run.normalized
        if picked is None and typed in ("1", "2"):
            picked = ("person", "retry")[int(typed) - 1]
        for value in ("person", "retry"):
            for lang in run.listening_languages():
                if matches_any(run.normalized, catalogue.words(lang, f"choice.{value}")):
                    picked = picked or value
        if picked == "person":
            self._intent(run, "person")
        elif picked == "retry":
            self._reprompt(run, node)
        return picked in ("person", "retry")

    def _capture_join_code(self, run: Run) -> None:
        """ "/start ABC234" or "JOIN ABC234" as a first message: keep the code for the join
        step, which comes after consent. Kept even for someone already linked: a code they
        were given (a new case, a new phone) is an explicit request."""
        if after_join_word(run):  # "JOIN ABC234", "tham gia ABC234", "/start ABC234"
            run.pending_code = extract_code(run)

    def _maybe_stop(self, run: Run, node: Node | None) -> str | None:
        """ "cancel", "off", "إلغاء": the answer to the question asked, if it is one;
        asked a second time, STOP; otherwise ask once whether to stop all messages."""
        if run.position == STOP_QUESTION:
            return "stop"
        if node is not None and matched_choice(node, run) is not None:
            return None
        return MAYBE_STOP

    def _late_join(self, run: Run) -> bool:
        """Someone who went on without a code sends one later ("JOIN ABC234"), anywhere."""
        if not run.onboarded or run.enrolled or run.ctx.enrolled or run.choice is not None:
            return False
        if not after_join_word(run):
            return False
        code = extract_code(run)
        if code is None:
            return False
        run.effects.append(Enrol(code))
        return True

    # -- routing ------------------------------------------------------------------------
    def _route(self, run: Run, node: Node, resumed: bool) -> None:
        router = node.router
        assert router is not None  # a position always waits at a router
        for case in router.cases:
            if CASE_TYPES[case.type].test(case.arguments, node, run):
                run.misses = 0
                self._follow(run, node, router.categories[case.category])
                return
        if OTHER in router.categories:
            run.misses = 0
            self._follow(run, node, router.categories[OTHER])
            return
        if run.onboarded and looks_like_message(run):
            run.misses = 0
            run.effects += [Relay(run.text), Say("advocate.sent")]
            return
        if resumed:
            run.effects.append(Say("global.welcome_back"))
            self._reprompt(run, node)
            return
        run.misses += 1
        if run.misses >= MISSES_BEFORE_OFFER:
            run.misses = 0
            run.offer = True
            offer = (Choice("person", "choice.person"), Choice("retry", "choice.retry"))
            run.effects.append(Say("common.offer_person", choices=offer))
            return
        run.effects.append(Say("common.reprompt"))
        self._reprompt(run, node)

    def _follow(self, run: Run, node: Node, target: str) -> None:
        assert run.position is not None
        flow = run.position[0]
        dest = Destination.parse(target, flow)
        if dest.mode == "call":
            run.push((flow, node.id))
        self._goto(run, dest)

    def _goto(self, run: Run, dest: Destination) -> None:
        for _ in range(MAX_STEPS):
            if dest.node is None:  # "return"
                if not run.stack:
                    dest = self._home(run, wait=dest.mode == "wait")
                    continue
                flow, node_id = run.stack.pop()
                back = self.bundle.node(flow, node_id)
                if back is not None and back.waits:
                    run.position = (flow, node_id)
                    if dest.mode != "wait":
                        self._reprompt(run, back)
                    return
                dest = Destination(flow, node_id)
                continue
            flow_name = dest.flow or ""
            node = self.bundle.node(flow_name, dest.node)
            if node is None:
                dest = self._home(run)  # flows check makes this unreachable
                continue
            if dest.mode == "wait" and node.waits and run.position is not None:
                run.position = (flow_name, node.id)
                return
            nxt = self._enter(run, flow_name, node)
            if nxt is None:
                return
            if nxt.mode == "call":
                run.push((flow_name, node.id))
            dest = nxt
        # A runaway flow (impossible once flows check passes) stops where it last waited.

    def _enter(self, run: Run, flow: str, node: Node) -> Destination | None:
        """Run a node's actions; the next destination, or None once it waits."""
        for action in node.actions:
            ACTION_TYPES[action.type].execute(action, run)
        router = node.router
        if router is None:
            return Destination.parse(node.exit or "return", flow)
        if router.wait:
            run.position = (flow, node.id)
            run.misses = 0
            return None
        for case in router.cases:
            if CASE_TYPES[case.type].test(case.arguments, node, run):
                return Destination.parse(router.categories[case.category], flow)
        return Destination.parse(router.categories[OTHER], flow)

    # -- helpers ------------------------------------------------------------------------
    def _reprompt(self, run: Run, node: Node) -> None:
        run.effects += [say_effect(a) for a in node.actions if a.type == "say"]

    def _current(self, run: Run) -> Node | None:
        return self.bundle.node(*run.position) if run.position else None

    def _home(self, run: Run, wait: bool = False) -> Destination:
        if run.onboarded:
            return Destination.parse(("wait:" if wait else "") + HOME_NODE, "")
        return Destination(ONBOARDING_FLOW, self.bundle.flows[ONBOARDING_FLOW].entry)
