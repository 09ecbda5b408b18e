"""Global intents: words that work at every step, in every language, before anything else.

A whole message is compared with the catalogue's "match.<intent>" words (never a word
inside a sentence, so a message to the advocate that mentions "stop" is just a message).
"""

from __future__ import annotations

from bot.engine.matching import matches_any
from bot.engine.run import Run

GLOBAL_INTENTS = ("help", "person", "stop", "start", "pause", "language", "menu", "back")
# Safety and carrier keywords are heard in every language, whatever the survivor chose.
HEARD_IN_EVERY_LANGUAGE = frozenset({"help", "stop", "start"})


def detect_intent(run: Run) -> str | None:
    if run.choice is not None or not run.normalized:
        return None  # a button press belongs to the node that offered it
    catalogue = run.bundle.catalogue
    for intent in GLOBAL_INTENTS:
        languages = run.listening_languages(everywhere=intent in HEARD_IN_EVERY_LANGUAGE)
        key = f"match.{intent}"
        if any(matches_any(run.normalized, catalogue.words(lang, key)) for lang in languages):
            return intent
    return None
