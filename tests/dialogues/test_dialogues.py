"""Every dialogue under tests/dialogues/, in every supported language, against the real
flows and catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import SUPPORTED_LANGUAGES, Bundle, Engine, render
from bot.engine.effects import Say
from bot.engine.events import Context, UserInput
from bot.engine.survivor_checks import RTL_LANGUAGES, unisolated
from bot.flows.files import load_bundle
from tests.dialogues.script import Dialogue, describe, event_for, expected, load_dialogues

ROOT = Path(__file__).resolve().parents[2]
DIALOGUES = load_dialogues()


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle(ROOT / "flows", ROOT / "locales")


def test_there_are_dialogues_for_every_flow() -> None:
    names = {d.name.split("_")[0] for d in DIALOGUES}
    assert {"onboarding", "menu", "info", "settings", "global", "reprompt"} <= names


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("dialogue", DIALOGUES, ids=lambda d: d.name)
def test_dialogue(bundle: Bundle, dialogue: Dialogue, language: str) -> None:
    engine = Engine(bundle)
    ctx_fields = dialogue.context
    if language not in ctx_fields.get("languages", SUPPORTED_LANGUAGES):
        pytest.skip(f"{dialogue.name} is about words of {ctx_fields['languages']} only")
    ctx = Context(
        channel=ctx_fields.get("channel", "sms"),
        language=language if ctx_fields.get("language_known", True) else None,
        enrolled=ctx_fields.get("enrolled", True),
        duress_word=ctx_fields.get("duress_word"),
    )
    state = None
    if dialogue.context.get("onboarded"):
        # Known language and enrolled: safe to talk, consent, then the main menu.
        for text in ("hi", "1", "1"):
            state = engine.handle(state, UserInput(text), ctx).state
        assert state["at"] == ["menu", "main"]
    for number, step in enumerate(dialogue.steps, 1):
        outcome = engine.handle(state, event_for(bundle, step, language), ctx)
        got = [describe(e) for e in outcome.effects]
        where = f"{dialogue.name} [{language}] step {number} ({step.get('send', step)!r})"
        assert got == expected(step, language), where
        if "at" in step:
            assert outcome.state["at"] == step["at"].split("."), where
        for effect in outcome.effects:
            if isinstance(effect, Say):
                rendered = render(bundle, effect, language, ctx.channel)
                # Every reply is real text in the survivor's language, never a bare key.
                assert rendered.text and rendered.text != effect.key, where
                if language != "en" and not effect.key.startswith(("language.", "lang.")):
                    assert bundle.catalogue.has(language, effect.key), where
                if language in RTL_LANGUAGES and effect.key != "language.choose":
                    # Numbers, codes and Latin words in right-to-left text are isolated.
                    text = render(bundle, effect, language, "telegram").text
                    assert unisolated(text) == [], where
        state = outcome.state
