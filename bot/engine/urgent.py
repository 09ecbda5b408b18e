"""Urgent-message detection: does this message need a person now?

The phrase banks (locales/urgent/<lang>.po, loaded by bot.flows.phrasebank) hold short phrases per
category. A phrase matches when each of its words is found in the message, in any order,
within a short window, so inflection, word order and filler words do not hide it:

- `word` matches that word after normalize(); words of five letters or more also match
  with one typo inside the word (a letter missing, extra, wrong or two letters swapped;
  the first and last letters must be right);
- `stem*` matches any word starting with the stem (inflection: "bij*" -> bije, bił, bili);
  stems of six letters or more also match with one wrong or swapped letter before the
  stem's last letter;
- a phrase starting with `=` only matches when it is (almost) the whole message, for cries
  like "help!" or "pomocy" whose words are everyday inside a longer sentence.

Ukrainian is compared on a Latin key (normalize.cyrillic_key) so Cyrillic and Latin typing
agree. Every language's bank is checked, the survivor's own first: people switch and mix.
Matching uses dictionary look-ups and no regular expressions, so no input can make it slow.
Pure: standard library only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.engine.normalize import cyrillic_key, normalize

CATEGORIES = (
    "danger",
    "violence",
    "exploiter_present",
    "threat_family",
    "self_harm",
    "moved",
    "documents",
    "arrest",
    "medical",
)
# Languages whose bank and input are compared on the Cyrillic/Latin key.
CYRILLIC_KEYED = frozenset({"uk"})
# Languages with fixed word order, where a phrase's words must appear in order: "he is here"
# is urgent, "is he here?" is a question. Inflected languages mark roles by endings instead.
WORD_ORDER_FIXED = frozenset({"en", "vi"})

MAX_GAP = 3  # extra words allowed inside a phrase's window ("he is <right> here")
WHOLE_MESSAGE_EXTRA = 1  # words allowed around a `=` phrase ("help me please!")
TYPO_MIN_WORD = 5
TYPO_MIN_STEM = 6
TYPO_MIN_ARABIC_SCRIPT_WORD = 7
# Far beyond anything a channel delivers (Telegram 4096, SMS ~1600); longer text is read at
# both ends, where a cry for help is most likely, to bound the work.
MAX_CHARS = 64_000


@dataclass(frozen=True)
class UrgentHit:
    category: str
    language: str
    phrase: str  # the bank phrase that matched; never the survivor's text


@dataclass(frozen=True)
class Phrase:
    language: str
    category: str
    text: str  # as written in the bank
    words: tuple[str, ...]  # normalised; a stem ends with "*"
    whole_message: bool
    ordered: bool


def compile_phrase(language: str, category: str, text: str) -> Phrase | None:
    """Parse one bank line; None when nothing matchable is left after normalising."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown urgent category {category!r}")
    body = text.strip()
    whole = body.startswith("=")
    words: list[str] = []
    for raw in body.lstrip("=").split():
        is_stem = raw.endswith("*")
        parts = normalize(raw.rstrip("*")).split()
        if language in CYRILLIC_KEYED:
            parts = [cyrillic_key(part) for part in parts]
        if is_stem and parts:
            parts[-1] += "*"
        words.extend(parts)
    if not words:
        return None
    return Phrase(language, category, body, tuple(words), whole, language in WORD_ORDER_FIXED)


def deletions(word: str) -> set[str]:
    """Every string made by deleting one letter (symmetric-delete typo look-up)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or swap
    of two neighbouring letters."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        rest_a, rest_b = a[start + 1 :], b[start + 1 :]
        if rest_a == rest_b:
            return True  # one substitution
        swapped = a[start + 1 : start + 2] == b[start : start + 1] and a[start] == b[start + 1]
        return swapped and a[start + 2 :] == b[start + 2 :]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[start:] == longer[start + 1 :]


# Arabic and Persian attach conjunctions, prepositions, the article and verb prefixes to the
# word ("وبيضربني", "بالمخفر", "میکشن"). Message words are also tried with up to two of
# these peeled off, so the bank can list the bare form. Longest prefixes first.
_ARABIC_SCRIPT_PREFIXES = (
    "بال", "وال", "فال", "عال", "لل", "ال", "نمي", "مي", "بي", "بت", "بن", "رح", "سي", "حي",
    "و", "ف", "ب", "ل", "ي", "ت", "ن", "ع",
)  # fmt: skip
_MIN_BARE_WORD = 3


def _is_arabic_script(token: str) -> bool:
    return "\u0600" <= token[0] <= "\u06ff"


def _without_prefixes(token: str) -> list[str]:
    """The word with up to two clitic prefixes peeled off (Arabic script only)."""
    bare: list[str] = []
    layer = [token]
    for _ in range(2):
        next_layer = []
        for word in layer:
            for prefix in _ARABIC_SCRIPT_PREFIXES:
                if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_BARE_WORD:
                    next_layer.append(word[len(prefix) :])
        bare.extend(next_layer)
        layer = next_layer
    return list(dict.fromkeys(bare))


def _typo_allowed(token: str, word: str) -> bool:
    """Typo tolerance keeps the first and last letters: endings carry inflection and tell
    related languages apart ("zabrac" is not "zabrav"). Arabic-script words are short
    consonant roots where one letter makes another word (يوجعني, وجدني), so only long
    ones get it."""
    if token[0] != word[0] or token[-1] != word[-1]:
        return False
    return len(word) >= TYPO_MIN_ARABIC_SCRIPT_WORD or not _is_arabic_script(word)


Slot = tuple[int, int]  # (phrase number, word number within the phrase)


class _WordIndex:
    """Look-up tables from message words to the phrase words they can stand for."""

    def __init__(self) -> None:
        self.exact: dict[str, list[Slot]] = defaultdict(list)
        self.stems: dict[str, list[Slot]] = defaultdict(list)
        self.typo_words: dict[str, list[tuple[str, Slot]]] = defaultdict(list)
        self.typo_stems: dict[str, list[tuple[str, Slot]]] = defaultdict(list)
        self.stem_lengths: set[int] = set()
        self.typo_stem_lengths: set[int] = set()

    def add(self, word: str, slot: Slot) -> None:
        if word.endswith("*"):
            stem = word[:-1]
            self.stems[stem].append(slot)
            self.stem_lengths.add(len(stem))
            if len(stem) >= TYPO_MIN_STEM:
                self.typo_stem_lengths.add(len(stem))
                for key in {stem, *deletions(stem)}:
                    self.typo_stems[key].append((stem, slot))
        else:
            self.exact[word].append(slot)
            if len(word) >= TYPO_MIN_WORD:
                for key in {word, *deletions(word)}:
                    self.typo_words[key].append((word, slot))

    def slots_for(self, token: str) -> set[Slot]:
        found = set(self.exact.get(token, ()))
        for length in self.stem_lengths:
            if len(token) >= length:
                found.update(self.stems.get(token[:length], ()))
        if len(token) >= TYPO_MIN_WORD - 1:
            for key in {token, *deletions(token)}:
                for word, slot in self.typo_words.get(key, ()):
                    if _typo_allowed(token, word) and within_one_edit(token, word):
                        found.add(slot)
        for length in self.typo_stem_lengths:
            if len(token) >= length:
                prefix = token[:length]
                for key in {prefix, *deletions(prefix)}:
                    for stem, slot in self.typo_stems.get(key, ()):
                        # Same length and same last letter: a wrong or swapped letter inside
                        # the stem, never a different ending ("zabrac" is not "zabral*").
                        if (
                            len(stem) == length
                            and prefix[-1] == stem[-1]
                            and within_one_edit(prefix, stem)
                        ):
                            found.add(slot)
        return found


class PhraseBank:
    """Every language's urgent phrases, indexed for matching. Immutable once built."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases: tuple[Phrase, ...] = tuple(phrases)
        self.languages: tuple[str, ...] = tuple(sorted({p.language for p in self.phrases}))
        self._plain = _WordIndex()
        self._keyed = _WordIndex()
        for number, phrase in enumerate(self.phrases):
            index = self._keyed if phrase.language in CYRILLIC_KEYED else self._plain
            for position, word in enumerate(phrase.words):
                index.add(word, (number, position))

    @classmethod
    def empty(cls) -> PhraseBank:
        return cls(())

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str, str]]) -> PhraseBank:
        """Build from (language, category, bank line) triples."""
        compiled = (compile_phrase(lang, cat, text) for lang, cat, text in entries)
        return cls(p for p in compiled if p is not None)

    def matches(self, text: str) -> list[Phrase]:
        """Every phrase found in `text`."""
        if len(text) > MAX_CHARS:
            text = text[: MAX_CHARS // 2] + " " + text[-MAX_CHARS // 2 :]
        tokens = normalize(text.replace("🆘", " sos ")).split()
        if not tokens:
            return []
        positions: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._collect(self._plain, tokens, positions)
        if self._keyed.exact or self._keyed.stems:
            self._collect(self._keyed, [cyrillic_key(t) for t in tokens], positions)
        found: list[Phrase] = []
        for number, by_word in positions.items():
            phrase = self.phrases[number]
            if len(by_word) < len(phrase.words):
                continue
            if phrase.whole_message:
                if len(tokens) <= len(phrase.words) + WHOLE_MESSAGE_EXTRA:
                    found.append(phrase)
            else:
                width = len(phrase.words) + MAX_GAP
                fits = _fits_in_order if phrase.ordered else _fits_window
                if fits(by_word, width):
                    found.append(phrase)
        return found

    @staticmethod
    def _collect(
        index: _WordIndex, tokens: list[str], positions: dict[int, dict[int, list[int]]]
    ) -> None:
        seen: dict[str, set[Slot]] = {}
        for position, token in enumerate(tokens):
            slots = seen.get(token)
            if slots is None:
                slots = index.slots_for(token)
                if _is_arabic_script(token):
                    for bare in _without_prefixes(token):
                        slots |= index.slots_for(bare)
                seen[token] = slots
            for number, word in slots:
                positions[number][word].append(position)


def _fits_window(by_word: dict[int, list[int]], width: int) -> bool:
    """Is there one position per phrase word, all distinct, inside `width` tokens?"""
    events = sorted((pos, word) for word, plist in by_word.items() for pos in plist)
    need = len(by_word)
    counts: dict[int, int] = defaultdict(int)
    covered = 0
    left = 0
    for pos, word in events:
        counts[word] += 1
        if counts[word] == 1:
            covered += 1
        while covered == need:
            start, first_word = events[left]
            if pos - start + 1 <= width and _distinct(events[left:], pos, need):
                return True
            counts[first_word] -= 1
            if counts[first_word] == 0:
                covered -= 1
            left += 1
    return False


def _fits_in_order(by_word: dict[int, list[int]], width: int) -> bool:
    """Do the phrase words appear in phrase order, each after the last, inside `width`?"""
    for start in by_word[0]:
        last = start
        for word in range(1, len(by_word)):
            later = [p for p in by_word[word] if p > last]
            if not later:
                return False
            last = later[0]
        if last - start + 1 <= width:
            return True
    return False


def _distinct(events: list[tuple[int, int]], last: int, need: int) -> bool:
    """Can the phrase words be given different message positions (a word used once)?"""
    taken: set[int] = set()
    for word in sorted({w for _, w in events}, key=lambda w: sum(1 for _, x in events if x == w)):
        free = [p for p, x in events if x == word and p <= last and p not in taken]
        if not free:
            return False
        taken.add(free[0])
    return len(taken) == need


def detect(bank: PhraseBank, text: str, language: str | None) -> UrgentHit | None:
    """The strongest urgent phrase in `text`, preferring the survivor's `language`, then
    longer (more specific) phrases. `language` may be None before one is chosen."""
    if not text:
        return None
    found = bank.matches(text)
    if not found:
        return None
    best = min(found, key=lambda p: (p.language != language, -len(p.words), p.language))
    return UrgentHit(best.category, best.language, best.text)
