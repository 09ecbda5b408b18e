"""Global intents: words that work at every step, in every language, before anything else.

A whole message is compared with the catalogue's "match.<intent>" words (never a word
inside a sentence, so a message to the advocate that mentions "stop" is just a message).

STOP is only STOP. "match.stop" holds the words that can only mean "stop all messages"
(STOP, UNSUBSCRIBE and each language's own word); they are compared exactly, as carriers do.
"match.stop_maybe" holds everyday words that may mean it ("cancel", "end", Arabic "إلغاء"):
in the middle of a question they answer that question, elsewhere the survivor is asked once
"Stop all messages?". On SMS the carriers' own single-word keywords always opt out, because
the carrier has already stopped the number whatever Harbour does.
"""

from __future__ import annotations

from bot.engine.cases import number_word
from bot.engine.matching import matches_any
from bot.engine.run import Run

GLOBAL_INTENTS = (
    "help", "person", "stop", "start", "pause", "language", "settings", "delete", "menu", "back",
)  # fmt: skip
# Safety and carrier keywords are heard in every language, whatever the survivor chose.
HEARD_IN_EVERY_LANGUAGE = frozenset({"help", "stop", "start"})
# Compared exactly: a typo must never switch everything off.
EXACT_INTENTS = frozenset({"stop"})
# Only once the survivor has a menu to come back to.
AFTER_ONBOARDING = frozenset({"settings", "delete"})
MAYBE_STOP = "stop_maybe"
MAYBE_STOP_KEY = "match.stop_maybe"
# The single-word opt-out keywords of UK and US carriers and Twilio (CTIA). On SMS each of
# them opts the number out at the carrier, so Harbour honours them as STOP there.
CARRIER_STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
# Those that can mean nothing else: never an ordinary answer in any flow (flows check).
DEFINITE_CARRIER_STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "revoke", "optout"})


def detect_intent(run: Run) -> str | None:
    if run.choice is not None or not run.normalized:
        return None  # a button press belongs to the node that offered it
    catalogue = run.bundle.catalogue
    # A number word ("katër", four) is not a typo of an intent word ("later").
    exact_only = number_word(run, run.listening_languages()) is not None
    for intent in GLOBAL_INTENTS:
        if intent in AFTER_ONBOARDING and not run.onboarded:
            continue
        if intent == "stop" and run.ctx.channel == "sms" and run.normalized in CARRIER_STOP_WORDS:
            return "stop"
        languages = run.listening_languages(everywhere=intent in HEARD_IN_EVERY_LANGUAGE)
        key, fuzzy = f"match.{intent}", intent not in EXACT_INTENTS and not exact_only
        if any(_heard(run, lang, key, fuzzy) for lang in languages):
            return intent
    if any(_heard(run, lang, MAYBE_STOP_KEY, False) for lang in catalogue.languages()):
        return MAYBE_STOP
    return None


def _heard(run: Run, language: str, key: str, fuzzy: bool) -> bool:
    return matches_any(run.normalized, run.bundle.catalogue.words(language, key), fuzzy)
