"""Telegram's flood limits, enforced strictly so a pacing bug in the outbox shows up.

Telegram documents about one message a second to one chat and about thirty a second overall.
The real server tolerates short bursts; this fake does not: a message that would be the second
to one chat within `window` seconds, or the 31st overall, is refused with 429 and a whole-second
`retry_after`, as Telegram does. Refused messages do not count towards the window.
Time here is real elapsed time (the client really is sending), not a test clock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable


class SendRateLimiter:
    def __init__(
        self,
        *,
        per_chat: int = 1,
        overall: int = 30,
        window: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat = per_chat
        self.overall = overall
        self.window = window
        self._monotonic = monotonic
        self._by_chat: dict[Hashable, deque[float]] = {}
        self._all: deque[float] = deque()

    def admit(self, chat: Hashable) -> int | None:
        """Record a send to `chat` and return None, or return retry_after seconds if over."""
        now = self._monotonic()
        chat_sends = self._by_chat.setdefault(chat, deque())
        self._forget_before(chat_sends, now)
        self._forget_before(self._all, now)
        waits = []
        if len(chat_sends) >= self.per_chat:
            waits.append(chat_sends[-self.per_chat] + self.window - now)
        if len(self._all) >= self.overall:
            waits.append(self._all[-self.overall] + self.window - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        chat_sends.append(now)
        self._all.append(now)
        return None

    def _forget_before(self, sends: deque[float], now: float) -> None:
        while sends and sends[0] <= now - self.window:
            sends.popleft()
