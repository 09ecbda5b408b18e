"""enrol: ask the service to check an enrolment code; it answers with a SystemEvent
"enrol_ok" or "enrol_failed". The code is sent in the form the store compares:
upper-case letters and digits, separators and a leading "join"/"start" word removed."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import Enrol
from bot.engine.run import Run

JOIN_WORDS_KEY = "match.join"
MIN_CODE, MAX_CODE = 4, 16


def after_join_word(run: Run) -> list[str] | None:
    """The words after a leading join word ("JOIN", "tham gia", "/start"), or None."""
    typed = run.normalized + " "
    for lang in run.listening_languages(everywhere=True):
        for word in run.bundle.catalogue.words(lang, JOIN_WORDS_KEY):
            if typed.startswith(word + " "):
                return typed[len(word) :].split()
    return None


def extract_code(run: Run) -> str | None:
    """The code in what was typed ("JOIN abc-234", "/start ABC234"), or None."""
    words = after_join_word(run)
    if words is None:
        words = run.normalized.split()
    if not words or len(words) > 3:
        return None
    code = "".join(words).upper()
    if not (MIN_CODE <= len(code) <= MAX_CODE and code.isascii() and code.isalnum()):
        return None
    return code


def execute(action: Action, run: Run) -> None:
    code = run.pending_code or extract_code(run)
    run.pending_code = None
    if code is not None:
        run.effects.append(Enrol(code))


ACTION = ActionType("enrol", execute)
