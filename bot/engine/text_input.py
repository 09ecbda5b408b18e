"""Making raw inbound text safe to handle: no control characters, no surrogates, bounded."""

from __future__ import annotations

import unicodedata

# Longer than any real message (an SMS caps at 1,600 characters, Telegram at 4,096), but it
# bounds the work done on hostile input. Nothing is dropped silently: the cut is marked.
MAX_CHARS = 10_000


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping newlines and tabs as spaces), lone
    surrogates from bad UTF-8, and trim; keep every printable character, emoji included."""
    kept = []
    for ch in text[: MAX_CHARS * 2]:
        if ch in "\n\t":
            kept.append(ch)
            continue
        category = unicodedata.category(ch)
        # Keep the zero-width (non-)joiners: Persian spelling and emoji sequences need them.
        if category in ("Cc", "Cs") or (category == "Cf" and ch not in "\u200c\u200d"):
            continue
        kept.append(ch)
    cleaned = "".join(kept).strip()
    if len(cleaned) > MAX_CHARS:
        cleaned = cleaned[:MAX_CHARS] + " […]"
    return cleaned
