"""Text normalisation shared by every matcher (choices, keywords, urgent phrases).

Real messages arrive without diacritics, in mixed case, with Arabic-Indic digits, with
stretched letters ("heeelp") or typed in Latin letters instead of Cyrillic. Matching always
compares normalised forms, so both sides of a comparison must go through the same function.
Pure: standard library only.
"""

from __future__ import annotations

import unicodedata

# Arabic and Persian letters that people type interchangeably.
_ARABIC_VARIANTS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",  # Persian yeh
        "ې": "ي",
        "ئ": "ي",
        "ك": "ک",  # Arabic kaf -> Persian keheh (one form for both)
        "ڪ": "ک",
        "ؤ": "و",
        "ة": "ه",
        "ۀ": "ه",
        "ھ": "ه",  # heh doachashmee, common on Urdu/Persian keyboards
        "ہ": "ه",
        "ـ": None,  # tatweel (kashida), pure decoration
    }
)
# Arabic-Indic and Extended (Persian) digits to ASCII.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Letters with no Unicode decomposition to a base letter.
_UNDECOMPOSED = str.maketrans({"ł": "l", "đ": "d", "ß": "ss", "ı": "i", "ø": "o", "æ": "ae"})
# Apostrophes inside a word are dropped, so "don't" and "dont", "м'ясо" and "мясо" agree.
_APOSTROPHES = frozenset("'’ʼ`´ʻ")


def normalize(text: str) -> str:
    """Case-fold, strip diacritics and harakat, unify Arabic/Persian variants and digits,
    drop zero-width and in-word apostrophes, shorten letters repeated three or more times,
    and collapse whitespace and punctuation to single spaces."""
    text = text.translate(_DIGITS).translate(_ARABIC_VARIANTS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    previous = ""
    for index, ch in enumerate(decomposed):
        cat = unicodedata.category(ch)
        if cat == "Mn" or cat == "Cf":
            # Combining marks (Latin diacritics, Arabic harakat) and format characters
            # (zero-width joiners, the Persian half-space, bidi marks) carry no letter.
            continue
        if cat[0] in "LN":
            kept.append(ch)
        elif ch in _APOSTROPHES and previous.isalpha() and _next_is_letter(decomposed, index):
            continue
        else:
            kept.append(" ")
        previous = ch
    folded = "".join(kept).translate(_UNDECOMPOSED)
    return " ".join(_shorten_stretched(word) for word in folded.split())


def _next_is_letter(text: str, index: int) -> bool:
    for ch in text[index + 1 :]:
        if unicodedata.category(ch) != "Mn":
            return ch.isalpha()
    return False


def _shorten_stretched(word: str) -> str:
    """ "heeeelp" -> "help", "pomocyyy" -> "pomocy": a run of three or more of the same
    letter is emphasis, not spelling. Doubled letters are left alone ("need", "bitti")."""
    if len(word) < 3:
        return word
    out: list[str] = []
    run = 0
    for index, ch in enumerate(word):
        run = run + 1 if index and ch == word[index - 1] and ch.isalpha() else 1
        out.append(ch)
        if run == 3:
            del out[-3:-1]
        elif run > 3:
            out.pop()
    return "".join(out)


# Ukrainian Cyrillic -> Latin as people type it on a Latin keyboard. Applied to normalised
# text, where й, ї and ё have already lost their marks (й -> и, ї -> і).
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ye",
        "ж": "zh", "з": "z", "и": "y", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n",
        "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
        "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "yu", "я": "ya",
        "ы": "y", "э": "e", "ъ": "",
    }
)  # fmt: skip
# Spellings of the same Cyrillic sound, longest first, folded to one key letter.
_LATIN_SOUND_FOLDS = (
    ("shch", "s"), ("sch", "s"), ("zh", "z"), ("kh", "h"), ("ch", "c"), ("sh", "s"),
    ("ts", "c"), ("tz", "c"), ("ya", "a"), ("ia", "a"), ("ja", "a"), ("yu", "u"),
    ("iu", "u"), ("ju", "u"), ("ye", "e"), ("ie", "e"), ("je", "e"), ("yi", "i"),
    ("y", "i"), ("j", "i"), ("g", "h"), ("x", "h"), ("w", "v"), ("q", "k"),
)  # fmt: skip


def cyrillic_key(normalized: str) -> str:
    """Fold normalised Ukrainian text, written in Cyrillic or transliterated into Latin
    letters ("допоможіть", "dopomozhit", "dopomozhyt"), to one Latin matching key.

    The key is lossy on purpose: it only has to make the spellings people actually use
    agree, and it is only ever compared with keys made the same way."""
    latin = normalized.translate(_CYRILLIC_TO_LATIN)
    # A second pass settles folds that create new pairs ("згвалт" -> "zhvalt" -> "zvalt").
    for _ in range(2):
        for spelling, key in _LATIN_SOUND_FOLDS:
            if spelling in latin:
                latin = latin.replace(spelling, key)
    return latin
