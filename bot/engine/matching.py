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


class WordIndex:
    """The words listened for at one place, arranged so that a typed text is compared only
    with the words it could match: the exact set, the words near its length, the four-letter
    words with its letters, the Latin/Cyrillic keys. Same answers as `same_word` on each word
    (a property test holds them equal); one message is checked against ~60 of these a turn."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.exact = frozenset(words)
        self.by_length: dict[int, list[tuple[str, int]]] = {}
        for word in words:
            self.by_length.setdefault(len(word), []).append((word, allowed_typos(word)))
        self.four_letters: dict[str, list[str]] = {}
        for word in words:
            if len(word) == 4:
                self.four_letters.setdefault("".join(sorted(word)), []).append(word)
        self.keys = frozenset(_wanted_key(w) for w in words)
        self.cyrillic_keys = frozenset(_wanted_key(w) for w in words if _wanted_is_cyrillic(w))

    def heard(self, typed: str, fuzzy: bool, typed_cyrillic: bool) -> bool:
        if typed in self.exact:
            return True
        if not fuzzy:
            return False
        length = len(typed)
        if length == 4:
            for word in self.four_letters.get("".join(sorted(typed)), ()):
                diffs = [i for i in range(4) if typed[i] != word[i]]
                if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
                    return True
        for near in range(length - 2, length + 3):
            for word, typos in self.by_length.get(near, ()):
                if typos and within_edits(typed, word, typos):
                    return True
        if typed_cyrillic:
            return cyrillic_key(typed) in self.keys
        return bool(self.cyrillic_keys) and cyrillic_key(typed) in self.cyrillic_keys


# One index per set of catalogue words (a small, fixed number); typed text is never cached.
_index = lru_cache(maxsize=4096)(WordIndex)


def matches_any(typed: str, words: Iterable[str], fuzzy: bool = True) -> bool:
    if not typed or len(typed) > MAX_MATCH_CHARS:
        return False  # a message, not a menu answer: no word to compare
    index = _index(words if isinstance(words, tuple) else tuple(words))
    return index.heard(typed, fuzzy, _is_cyrillic(typed))
