"""Text normalisation shared by every matcher (choices, keywords, urgent phrases).

Real messages arrive without diacritics, in mixed case, with Arabic-Indic digits or typed
in Latin letters instead of Cyrillic. Matching always compares normalised forms.
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
        "ئ": "ي",
        "ك": "ک",  # Arabic kaf -> Persian keheh (one form for both)
        "ؤ": "و",
        "ة": "ه",
        "ۀ": "ه",
        "ـ": None,  # tatweel
    }
)
# Arabic-Indic and Extended (Persian) digits to ASCII.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalize(text: str) -> str:
    """Case-fold, strip diacritics and harakat, unify Arabic/Persian variants and digits,
    and collapse whitespace and punctuation to single spaces."""
    text = text.translate(_DIGITS).translate(_ARABIC_VARIANTS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Mn":  # combining marks: Latin diacritics, Arabic harakat
            continue
        if cat[0] in "LN":
            kept.append(ch)
        else:
            kept.append(" ")
    # Polish ł and similar letters have no decomposition.
    folded = "".join(kept).replace("ł", "l").replace("đ", "d").replace("ß", "ss")
    return " ".join(folded.split())
