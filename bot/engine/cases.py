"""Case types: the tests a router applies, in order, to pick a category.

Each takes the case's arguments, the node and the Run (which holds the event being handled).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.actions.enrol import extract_code
from bot.engine.definitions import ChoiceDef, Node
from bot.engine.matching import matches_any
from bot.engine.run import Run
from bot.engine.time_range import parse_time_range

NUMBERS_KEY = "match.numbers"
MAX_NUMBER_WORD = 12


@dataclass(frozen=True)
class CaseType:
    name: str
    test: Callable[[tuple[str, ...], Node, Run], bool]
    arity: int  # number of arguments
    needs_input: bool  # only meaningful in a router that waits


def matched_choice(node: Node, run: Run) -> str | None:
    """The value of the node's choice the survivor picked: a button, its number, its
    label or one of its match words, in the languages the bot is listening in."""
    choices = node.choices
    if run.choice is not None:
        return run.choice if any(c.value == run.choice for c in choices) else None
    typed = run.normalized
    if not typed:
        return None
    if typed.isdigit():
        number = int(typed) if len(typed) < 4 else 0
        return choices[number - 1].value if 1 <= number <= len(choices) else None
    languages = run.listening_languages(everywhere=node.listen_all)
    # Exact words first: "Wyłącz" (off) is one typo away from "Włącz" (on).
    for lang in languages:
        for choice in choices:
            if _choice_heard(choice, typed, lang, run, fuzzy=False):
                return choice.value
    spelled = number_word(run, languages)  # "two", "dwa", "اثنين" where "2" would do
    if spelled is not None:
        return choices[spelled - 1].value if spelled <= len(choices) else None
    if any(ch.isdigit() for ch in typed):
        return None  # "22:30-06:00" is not a typo of "22:00-08:00": numbers are exact
    near = {c.value for lang in languages for c in choices if _choice_heard(c, typed, lang, run)}
    return near.pop() if len(near) == 1 else None  # a typo close to two choices is a miss


def number_word(run: Run, languages: tuple[str, ...]) -> int | None:
    """1 to 10 for a number typed as a word ("one", "jeden", "واحد"), else None. The
    catalogue's "match.numbers" lists one to ten in order, each with its variants after "/"
    ("jeden/jedna/jedno"); flows check keeps it at exactly ten."""
    typed = run.normalized
    if " " in typed or len(typed) > MAX_NUMBER_WORD:
        return None
    for lang in languages:
        for number, variants in enumerate(run.bundle.catalogue.words(lang, NUMBERS_KEY), 1):
            if typed in variants.split():
                return number
    return None


def _choice_heard(choice: ChoiceDef, typed: str, lang: str, run: Run, fuzzy: bool = True) -> bool:
    """The label itself ("Settings") or any of the choice's match words."""
    catalogue = run.bundle.catalogue
    if matches_any(typed, catalogue.words(lang, choice.label), fuzzy):
        return True
    words = catalogue.words(lang, choice.words) if choice.words else ()
    return matches_any(typed, words, fuzzy)


def _choice(args: tuple[str, ...], node: Node, run: Run) -> bool:
    picked = matched_choice(node, run)
    if picked == args[0]:
        run.chosen = picked
        return True
    return False


def _words(args: tuple[str, ...], node: Node, run: Run) -> bool:
    catalogue = run.bundle.catalogue
    return any(
        matches_any(run.normalized, catalogue.words(lang, args[0]))
        for lang in run.listening_languages(everywhere=node.listen_all)
    )


def _has_text(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return bool(run.normalized) and run.choice is None


def _free_text(args: tuple[str, ...], node: Node, run: Run) -> bool:
    """Something worth passing to an advocate: not a bare number or a stray letter. Emoji
    alone are a message too (a crying face says a lot), though matching never sees them."""
    typed = run.normalized
    if run.choice is None and emoji_only(run.text):
        return True
    return run.choice is None and len(typed) >= 2 and not typed.replace(" ", "").isdigit()


def emoji_only(text: str) -> bool:
    """Pictographs and symbols (😢, ❤️, 🙏🏽) with no letters or digits among them."""
    if not text.strip():
        return False
    return all(
        unicodedata.category(char)[0] in "SZC" or unicodedata.category(char) == "Mn"
        for char in text
    ) and any(unicodedata.category(char) == "So" for char in text)


def looks_like_message(run: Run) -> bool:
    """A sentence, not a slip on a menu: three words or more. Once onboarded, such text
    typed anywhere reaches the advocate rather than being answered with a re-prompt.
    (Emoji alone reach the advocate where a message is asked for: the main menu.)"""
    return _free_text((), Node(""), run) and len(run.normalized.split()) >= 3


def worth_passing_on(run: Run) -> bool:
    """Words or emoji for an advocate, not a bare number or stray letter (after STOP)."""
    return _free_text((), Node(""), run)


def _code(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return run.choice is None and extract_code(run) is not None


def _time_range(args: tuple[str, ...], node: Node, run: Run) -> bool:
    """Hours typed as a range ("23:00-07:00", "11pm-7am", "23-7"); "@choice" is the range."""
    if run.choice is not None:
        return False
    typed = parse_time_range(run.text)
    if typed is None:
        return False
    run.chosen = typed
    return True


def _event(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return run.event_name == args[0]


def _has_language(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return run.language is not None


def _enrolled(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return run.enrolled or run.ctx.enrolled


def _pending_code(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return run.pending_code is not None


def _flag(args: tuple[str, ...], node: Node, run: Run) -> bool:
    return args[0] in run.flags


CASE_TYPES: dict[str, CaseType] = {
    case.name: case
    for case in (
        CaseType("choice", _choice, 1, True),
        CaseType("words", _words, 1, True),
        CaseType("has_text", _has_text, 0, True),
        CaseType("free_text", _free_text, 0, True),
        CaseType("code", _code, 0, True),
        CaseType("time_range", _time_range, 0, True),
        CaseType("event", _event, 1, True),
        CaseType("has_language", _has_language, 0, False),
        CaseType("enrolled", _enrolled, 0, False),
        CaseType("pending_code", _pending_code, 0, False),
        CaseType("flag", _flag, 1, False),
    )
}
