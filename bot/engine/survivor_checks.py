"""Checks of `harbour flows check` that protect the survivor's side of the conversation:

- "stop": no ordinary answer of any flow may be a word that only means STOP, in any language
  (a survivor answering a question must never switch everything off);
- "bidi": in right-to-left catalogues (ar, fa) every number, code, placeholder and Latin word
  sits inside a Unicode isolate (U+2066..U+2069), so "08000 121 700" is not shown reversed;
- "sms" (in validation.py): the language picker and every menu fit in MAX_MENU_SEGMENTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.engine.bundle import Bundle
from bot.engine.intents import DEFINITE_CARRIER_STOP_WORDS

RTL_LANGUAGES = ("ar", "fa")
# Left-to-right isolate, first-strong isolate, right-to-left isolate ... pop directional isolate.
ISOLATE_OPEN = "\u2066\u2067\u2068"
ISOLATE_CLOSE = "\u2069"
# What must be isolated in right-to-left text: a run of Latin letters and digits (with the
# spaces, dots, dashes and + of a phone number, a time or a code between them), or a
# {placeholder}, which is filled with a number, a time or a name.
_LTR = "[0-9A-Za-z\u00c0-\u024f\u1e00-\u1eff]"  # digits and Latin letters, with accents
LTR_RUN = re.compile(
    rf"\{{[A-Za-z_][A-Za-z0-9_]*\}}|[+]?{_LTR}"
    rf"(?:(?:{_LTR}|[.:/@+'\-]|[ ](?=[+]?{_LTR})|[ ]&[ ](?={_LTR}))*{_LTR})?"
)

_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


@dataclass(frozen=True)
class Finding:
    language: str
    key: str
    line: int
    message: str


def stop_words_in_answers(bundle: Bundle) -> Iterator[tuple[str, int, str]]:
    """(file, line, message) for each choice that a STOP-only word would answer."""
    catalogue = bundle.catalogue
    stop_words = set(DEFINITE_CARRIER_STOP_WORDS)
    for language in catalogue.languages():
        stop_words |= set(catalogue.words(language, "match.stop"))
    for flow in bundle.flows.values():
        for node in flow.nodes.values():
            for choice in node.choices:
                if choice.value == "stop":
                    continue  # "Stop messages" in settings, and "Yes, stop"
                for language in catalogue.languages():
                    heard = set(catalogue.words(language, choice.label))
                    if choice.words:
                        heard |= set(catalogue.words(language, choice.words))
                    for word in sorted(heard & stop_words):
                        msg = f"choice {choice.label!r} in {language}: {word!r} is a STOP word"
                        yield flow.file, node.line, msg


def number_word_problems(bundle: Bundle) -> Iterator[Finding]:
    """ "match.numbers" is one to ten, in order, in every language: a position lost to a
    duplicate would shift every number after it."""
    for language, entries in bundle.catalogue.entries.items():
        entry = entries.get("match.numbers")
        if entry is None:
            continue  # a missing key is reported as such
        found = len(bundle.catalogue.words(language, "match.numbers"))
        if found != 10:
            msg = f"match.numbers in {language}: {found} numbers, not one to ten"
            yield Finding(language, "match.numbers", entry.line, msg)


def isolate(text: str) -> str:
    """Wrap every left-to-right run of right-to-left `text` in an isolate (idempotent)."""
    out: list[str] = []
    depth = 0
    last = 0
    for match in LTR_RUN.finditer(text):
        start, end = match.span()
        before = text[last:start]
        depth += sum(ch in ISOLATE_OPEN for ch in before) - before.count(ISOLATE_CLOSE)
        out.append(before)
        run = match.group(0).rstrip()
        tail = match.group(0)[len(run) :]
        # A placeholder may be filled with right-to-left words: first-strong isolate (U+2068).
        opener = "\u2068" if run.startswith("{") else "\u2066"
        out.append(run if depth > 0 else f"{opener}{run}\u2069")
        out.append(tail)
        last = end
    out.append(text[last:])
    return "".join(out)


def unisolated(text: str) -> list[str]:
    """The left-to-right runs of `text` that are not inside an isolate."""
    found: list[str] = []
    depth = 0
    last = 0
    for match in LTR_RUN.finditer(text):
        before = text[last : match.start()]
        depth += sum(ch in ISOLATE_OPEN for ch in before) - before.count(ISOLATE_CLOSE)
        if depth <= 0:
            found.append(match.group(0).strip())
        last = match.end()
    return found


def bidi_problems(bundle: Bundle) -> Iterator[Finding]:
    catalogue = bundle.catalogue
    for language in RTL_LANGUAGES:
        for key, entry in catalogue.entries.get(language, {}).items():
            if key.startswith(("match.", "lang.")) or key == "language.choose":
                continue  # words listened for, and each language's name in its own script
            if not _RTL_LETTER.search(entry.text):
                continue  # nothing right-to-left for it to be mixed with
            for run in unisolated(entry.text):
                msg = f"{key} in {language}: {run!r} needs a bidi isolate (U+2066..U+2069)"
                yield Finding(language, key, entry.line, msg)
