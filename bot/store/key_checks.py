"""Refusing key material that is too weak, and key files that others can read.

Strength is estimated from the text itself, the way the key was most likely made: the smallest
usual alphabet that holds every character (hex, base32, base64, printable ASCII) gives the
bits per character. A random string of that length shows many different characters and no
repeated runs; key material that does not (`aaaa...`, `abcdabcd...`, a sentence) is
judged by what it really varies in and falls short. 256 bits are needed: `openssl rand -hex 32`
or `python -c "import secrets; print(secrets.token_urlsafe(32))"` give that.
"""

from __future__ import annotations

import math
import stat
import string
from pathlib import Path

MIN_BITS = 256
_HEX = frozenset(string.hexdigits.lower()), frozenset(string.hexdigits.upper())
_BASE32 = frozenset(string.ascii_uppercase + "234567")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_")
_PRINTABLE = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")


def _alphabet(chars: set[str]) -> int:
    if any(chars <= hexdigits for hexdigits in _HEX):
        return 16
    if chars <= _BASE32:
        return 32
    if chars <= _BASE64:
        return 64
    return len(_PRINTABLE) if chars <= _PRINTABLE else 256


def _repeats(text: str, size: int) -> bool:
    seen: set[str] = set()
    for start in range(len(text) - size + 1):
        piece = text[start : start + size]
        if piece in seen:
            return True
        seen.add(piece)
    return False


def estimated_bits(secret: str) -> int:
    """About how many bits of randomness this key material holds (0 when it is a pattern)."""
    text = secret.strip().rstrip("=")
    if not text:
        return 0
    size = _alphabet(set(text))
    per_char = math.log2(size)
    capacity = len(text) * per_char
    distinct = len(set(text))
    expected = size * (1 - (1 - 1 / size) ** len(text))
    # A run long enough that a random string repeats it about once in 16 million tries.
    run = math.ceil(24 / per_char)
    if distinct < expected / 2 or _repeats(text, run):
        return int(len(text) * math.log2(distinct)) // 2 if distinct > 1 else 0
    return int(capacity)


def check_strength(secret: str, source: str) -> str | None:
    """A one-line reason to refuse this key material, or None when it is strong enough."""
    bits = estimated_bits(secret)
    if bits >= MIN_BITS:
        return None
    return (
        f"{source}: the key is too weak (about {bits} bits, {MIN_BITS} needed); make one with "
        "`openssl rand -hex 32`"
    )


def check_private(path: Path, source: str) -> str | None:
    """A one-line reason to refuse a key file readable by group or others, or None."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return (
            f"{source}: {path} can be read by other users (mode {mode:o}); "
            f"run `chmod 600 {path}` first"
        )
    return None
