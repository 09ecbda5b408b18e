"""The languages Harbour speaks. Every catalogue and every dialogue test covers all of them."""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("en", "pl", "ro", "sq", "vi", "uk", "ar", "fa")
SOURCE_LANGUAGE = "en"  # msgid language; the fallback when a translation is missing
RIGHT_TO_LEFT = frozenset({"ar", "fa"})
