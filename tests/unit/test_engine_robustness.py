"""For any text at any node the engine neither crashes nor loops, and always replies or
waits at a real node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import SUPPORTED_LANGUAGES, Bundle, Engine
from bot.engine.events import Context, UserInput
from bot.flows.files import load_bundle

ROOT = Path(__file__).resolve().parents[2]
BUNDLE: Bundle = load_bundle(ROOT / "flows", ROOT / "locales")
ENGINE = Engine(BUNDLE)
WAITING = sorted(
    (flow.name, node.id)
    for flow in BUNDLE.flows.values()
    for node in flow.nodes.values()
    if node.waits
)
MIXED = ["", " ", "\x00\x07\x1b\r\n", "1", "9999999999", "stop", "СТОП", "توقف", "🆘😀👍🏽",
         "Tak, jest bezpiecznie", "ا" * 50, "\u202e\u200f\u200d", "a\u0301" * 30, "x" * 10_000,
         "help " * 2000, "٣", "JOIN ABC234", "/start ABC234"]  # fmt: skip

texts = st.one_of(
    st.sampled_from(MIXED),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=10_000),
)
states = st.fixed_dictionaries(
    {
        "v": st.just(1),
        "at": st.sampled_from([list(p) for p in WAITING]),
        "lang": st.sampled_from([None, *SUPPORTED_LANGUAGES]),
        "flags": st.sampled_from([[], ["onboarded"]]),
        "misses": st.integers(0, 3),
        "offer": st.booleans(),
        "stopped": st.booleans(),
        "paused": st.booleans(),
        "stack": st.lists(st.sampled_from([list(p) for p in WAITING]), max_size=5),
    }
)
contexts = st.builds(
    Context,
    channel=st.sampled_from(["sms", "telegram", "local"]),
    language=st.sampled_from([None, *SUPPORTED_LANGUAGES]),
    enrolled=st.booleans(),
    duress_word=st.sampled_from([None, "", "mango", "🆘"]),
)


def check(state: dict[str, Any] | None, text: str, ctx: Context) -> None:
    outcome = ENGINE.handle(state, UserInput(text), ctx)
    new = outcome.state
    assert json.loads(json.dumps(new)) == new
    assert len(outcome.effects) < 30  # no runaway
    if new["at"] is not None:
        assert tuple(new["at"]) in WAITING
    replied = bool(outcome.effects)
    waiting = new["at"] is not None or new["stopped"] or new["paused"]
    assert replied or waiting


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=states, text=texts, ctx=contexts)
def test_any_text_at_any_node(state: dict[str, Any], text: str, ctx: Context) -> None:
    check(state, text, ctx)


@settings(max_examples=100, deadline=None)
@given(text=texts, ctx=contexts)
def test_any_first_message(text: str, ctx: Context) -> None:
    check(None, text, ctx)


@pytest.mark.parametrize("where", WAITING, ids=lambda p: ".".join(p))
def test_every_waiting_node_survives_the_awkward_inputs(where: tuple[str, str]) -> None:
    for text in MIXED:
        for lang in ("en", "ar"):
            state = {"v": 1, "at": list(where), "flags": ["onboarded"], "lang": lang}
            check(state, text, Context("sms", lang, enrolled=True, duress_word="mango"))


def test_a_long_conversation_of_noise_never_gets_stuck() -> None:
    state: dict[str, Any] | None = None
    ctx = Context("sms", "en", enrolled=True)
    seen_offer = False
    for number in range(200):
        text = MIXED[number % len(MIXED)] if number % 3 else "?!"
        outcome = ENGINE.handle(state, UserInput(text), ctx)
        seen_offer |= any(getattr(e, "key", "") == "common.offer_person" for e in outcome.effects)
        state = outcome.state
    assert seen_offer  # noise really was treated as misses, and a person was offered
