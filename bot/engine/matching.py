"""Forgiving comparison of what the survivor typed with the words the bot listens for.

Both sides are normalised first (case, diacritics, Arabic/Persian letter variants, digits).
On top of that a small typo is forgiven in longer words, and Ukrainian typed in Latin
letters is compared on a shared key. Whole messages are compared, never substrings, so
"stop" inside a sentence to the advocate is not a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot.engine.normalize import cyrillic_key

MAX_MATCH_CHARS = 60  # anything longer is a message, not a menu answer


def allowed_typos(word: str) -> int:
    """Short words must be exact ("no" vs "so"); longer ones forgive one or two slips."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def within_edits(a: str, b: str, limit: int) -> bool:
    """Optimal string alignment distance (insert, delete, substitute, swap) <= limit."""
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def _is_cyrillic(text: str) -> bool:
    if text.isascii():  # the common case, answered in C
        return False
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


# The words listened for are a small, fixed set: remember their properties. What the survivor
# typed is never cached.
_wanted_is_cyrillic = lru_cache(maxsize=8192)(_is_cyrillic)
_wanted_key = lru_cache(maxsize=8192)(cyrillic_key)


def same_word(
    typed: str, wanted: str, fuzzy: bool = True, typed_cyrillic: bool | None = None
) -> bool:
    """Is the normalised `typed` text the normalised `wanted` word or phrase?"""
    if not typed or len(typed) > MAX_MATCH_CHARS:
        return False
    if typed == wanted:
        return True
    if not fuzzy:
        return False
    if len(wanted) == 4 and len(typed) == 4 and sorted(typed) == sorted(wanted):
        # One swap of neighbours in a four-letter word ("stpo") is still that word.
        diffs = [i for i in range(4) if typed[i] != wanted[i]]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            return True
    if within_edits(typed, wanted, allowed_typos(wanted)):
        return True
    if typed_cyrillic is None:
        typed_cyrillic = _is_cyrillic(typed)
    if _wanted_is_cyrillic(wanted) or typed_cyrillic:
        return cyrillic_key(typed) == _wanted_key(wanted)
    return False


def matches_any(typed: str, words: Iterable[str], fuzzy: bool = True) -> bool:
    if not typed or len(typed) > MAX_MATCH_CHARS:
        return False  # a message, not a menu answer: no word to compare
    cyrillic = _is_cyrillic(typed)
    return any(same_word(typed, word, fuzzy, cyrillic) for word in words)
