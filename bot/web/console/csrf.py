"""CSRF protection: every form carries a token bound to the browser's cookie.

The token is a keyed hash of the session token (or, before sign-in, of a random pre-login
cookie), so it needs no storage and a form from another site cannot know it.
"""

from __future__ import annotations

import hmac

from bot.store.crypto import Cipher

PURPOSE = "console.csrf"
FIELD = "csrf"


def token_for(cipher: Cipher, cookie_value: str) -> str:
    return cipher.lookup_hash(cookie_value, PURPOSE)


def valid(cipher: Cipher, cookie_value: str | None, submitted: object) -> bool:
    if not cookie_value or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(token_for(cipher, cookie_value), submitted)
