"""Engine behaviour the dialogues do not show: urgent phrases, the duress word, buttons,
stored state that is stale or malformed, and what the stored state may contain."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Bundle, Engine, Outcome
from bot.engine.effects import ChannelState, Enrol, Escalate, Relay, Say, SetProfile
from bot.engine.events import Context, SystemEvent, UserInput
from bot.engine.urgent import PhraseBank
from bot.flows.files import load_bundle

ROOT = Path(__file__).resolve().parents[2]
MENU = {"v": 1, "at": ["menu", "main"], "flags": ["onboarded"]}


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    real = load_bundle(ROOT / "flows", ROOT / "locales")
    bank = PhraseBank.from_entries(
        [("pl", "exploiter_present", "on jest tutaj"), ("en", "danger", "he is here")]
    )
    return dataclasses.replace(real, urgent_bank=bank)


def send(engine: Engine, state: dict[str, Any] | None, text: str, **ctx: Any) -> Outcome:
    context = Context(channel=ctx.pop("channel", "sms"), **ctx)
    return engine.handle(state, UserInput(text), context)


def test_urgent_phrase_escalates_replies_and_passes_the_text_on(bundle: Bundle) -> None:
    engine = Engine(bundle)
    out = send(engine, dict(MENU), "Pomocy, on jest tutaj!", language="pl", enrolled=True)
    assert out.effects == [
        Escalate("phrase:exploiter_present"),
        Say("help.now", urgent=True),
        Relay("Pomocy, on jest tutaj!"),
    ]
    assert out.state["at"] == ["menu", "main"]  # still where they were, nothing skipped


def test_urgent_first_message_answers_in_the_language_it_was_written_in(bundle: Bundle) -> None:
    out = send(Engine(bundle), None, "on jest tutaj")
    assert out.effects[:3] == [
        Escalate("phrase:exploiter_present"),
        SetProfile("language", "pl"),
        Say("help.now", urgent=True),
    ]
    # Onboarding starts after the emergency reply, in Polish, at "is it safe to talk?".
    assert out.effects[-1] == Say("onboarding.safety", choices=out.effects[-1].choices)
    assert out.state["lang"] == "pl"


def test_urgent_phrase_is_heard_even_after_stop(bundle: Bundle) -> None:
    engine = Engine(bundle)
    stopped = {**MENU, "stopped": True}
    out = send(engine, stopped, "he is here", language="en", enrolled=True)
    assert Escalate("phrase:danger") in out.effects
    # Nothing is said back after STOP, but what they write still reaches their advocate.
    assert send(engine, stopped, "hello", language="en").effects == [Relay("hello")]
    assert send(engine, stopped, "menu", language="en").effects == []


def test_duress_word_is_silent_and_leaves_no_trace(bundle: Bundle) -> None:
    engine = Engine(bundle)
    out = send(engine, dict(MENU), "Mango", language="en", enrolled=True, duress_word="mango")
    assert out.effects == [Escalate("duress", silent=True), Say("duress.reply")]
    assert out.state == engine.handle(dict(MENU), SystemEvent("noop"), Context("sms")).state


def test_duress_word_is_not_raised_while_typing_a_new_one(bundle: Bundle) -> None:
    engine = Engine(bundle)
    at_duress = {**MENU, "at": ["settings", "duress"]}
    out = send(engine, at_duress, "mango", language="en", duress_word="mango")
    assert out.effects[0] == SetProfile("duress_word", "mango")
    assert not any(isinstance(e, Escalate) for e in out.effects)


def test_button_press_uses_the_value_not_the_text(bundle: Bundle) -> None:
    engine = Engine(bundle)
    out = engine.handle(dict(MENU), UserInput("", choice="info"), Context("telegram", "en"))
    assert out.state["at"] == ["info", "topics"]
    stale = engine.handle(dict(MENU), UserInput("", choice="housing"), Context("telegram", "en"))
    assert stale.effects[0] == Say("common.reprompt")  # a button from an old message


@pytest.mark.parametrize(
    ("typed", "code"),
    [("abc-234", "ABC234"), ("JOIN abc 234", "ABC234"), ("  xyz789 ", "XYZ789")],
)
def test_enrolment_codes_are_sent_in_the_stored_form(bundle: Bundle, typed: str, code: str) -> None:
    at_code = {"v": 1, "at": ["onboarding", "code"]}
    out = send(Engine(bundle), at_code, typed, language="en")
    assert out.effects == [Enrol(code)]


def test_a_sentence_is_not_taken_for_a_code(bundle: Bundle) -> None:
    at_code = {"v": 1, "at": ["onboarding", "code"]}
    out = send(Engine(bundle), at_code, "I do not have it yet", language="en")
    assert not any(isinstance(e, Enrol) for e in out.effects)


@pytest.mark.parametrize(
    "state",
    [
        "junk",
        {"v": 99, "at": ["menu", "main"]},
        {"v": 1, "at": ["no_such_flow", "x"], "stack": "bad", "misses": -4, "lang": "xx"},
        {"v": 1, "at": ["onboarding", "privacy"]},  # a node that does not wait
        {"v": 1, "at": None, "flags": [1, None], "pending_code": "drop table"},
    ],
)
def test_malformed_or_stale_state_starts_again_safely(bundle: Bundle, state: Any) -> None:
    out = send(Engine(bundle), state, "hello")
    assert out.effects[0].key == "language.choose"  # type: ignore[union-attr]
    assert out.state["pending_code"] is None


def test_stored_state_is_json_and_never_holds_what_was_written(bundle: Bundle) -> None:
    engine = Engine(bundle)
    state: dict[str, Any] | None = None
    secret = "My address is 12 Secret Road"
    for text in ("hi", "1", "1", secret, "1", secret):
        state = send(engine, state, text, language="en", enrolled=True).state
        encoded = json.dumps(state)
        assert "Secret" not in encoded
    assert json.loads(json.dumps(state)) == state


def test_system_events_without_a_route_change_nothing(bundle: Bundle) -> None:
    engine = Engine(bundle)
    out = engine.handle(dict(MENU), SystemEvent("timeout"), Context("sms", "en"))
    assert out.effects == [] and out.state["at"] == ["menu", "main"]


def test_a_code_sent_from_the_menu_links_and_says_so(bundle: Bundle) -> None:
    engine = Engine(bundle)
    out = engine.handle(dict(MENU), SystemEvent("enrol_ok"), Context("sms", "en"))
    assert [e.key for e in out.effects if isinstance(e, Say)] == ["onboarding.welcome"]
    assert out.state["at"] == ["menu", "main"] and out.state["enrolled"] is True


def test_pause_then_any_message_wakes_up(bundle: Bundle) -> None:
    engine = Engine(bundle)
    paused = send(engine, dict(MENU), "pause", language="en").state
    assert paused["paused"] is True
    out = send(engine, paused, "zz", language="en")
    assert out.effects[0] == ChannelState("active")
    assert out.effects[1] == Relay("zz")  # at the main menu, words go to the advocate
