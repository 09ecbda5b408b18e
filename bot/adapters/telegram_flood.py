"""The last guard against Telegram's flood limits, on the moments requests actually leave.

The outbox's ChannelPacer spaces sends evenly by reserving time slots. A send that wakes late
(a busy event loop, a slow database write) still keeps its successor's slot, so two messages
to one chat can leave closer together than a second. Telegram then answers 429 and the
message waits `retry_after`. This guard measures real departures and waits out the rest:
at least `window` between two messages to one chat, at most `overall` in any `window`.
It rarely waits when the pacer is doing its job; it exists so that a late wake-up costs
milliseconds instead of a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# Departures are measured here, arrivals there: one request may open a new connection while
# the next reuses one and overtakes it, so keep a margin in proportion and in absolute time.
MARGIN = 1.01
JITTER = 0.02  # seconds


class FloodGuard:
    def __init__(
        self,
        *,
        overall: int = 30,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = overall
        self.window = window * MARGIN + JITTER if window > 0 else 0.0
        self._clock = clock
        self._departures: deque[float] = deque()
        self._last_to: dict[int, float] = {}

    def _wait_needed(self, chat_id: int, now: float) -> float:
        while self._departures and self._departures[0] <= now - self.window:
            self._departures.popleft()
        waits = [0.0]
        last = self._last_to.get(chat_id)
        if last is not None:
            waits.append(last + self.window - now)
        if len(self._departures) >= self.overall:
            waits.append(self._departures[0] + self.window - now)
        return max(waits)

    async def wait(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may leave now, and count it as left."""
        # A computed wait, not a condition another task will signal: sleeping is right here.
        while (delay := self._wait_needed(chat_id, self._clock())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)
        now = self._clock()
        self._departures.append(now)
        self._last_to[chat_id] = now
        if len(self._last_to) > 10_000:  # forget chats whose gap has long passed
            self._last_to = {c: t for c, t in self._last_to.items() if t > now - self.window}
