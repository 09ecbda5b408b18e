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
MARGIN = 1.02
JITTER = 0.02  # seconds
URGENT_FIRST = 0.005  # how often an ordinary send looks again while an urgent one waits


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
        self._urgent_waiting = 0

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

    def _delay(self, chat_id: int, urgent: bool) -> float:
        delay = self._wait_needed(chat_id, self._clock())
        if not urgent and self._urgent_waiting:
            return max(delay, URGENT_FIRST)
        return delay

    async def wait(self, chat_id: int, urgent: bool = False) -> None:
        """Return when a message to `chat_id` may leave now, and count it as left. An urgent
        message goes first: ordinary ones hold back while one is waiting, so a backlog sent at
        the full rate never takes the free slot from under it."""
        if urgent:
            self._urgent_waiting += 1
        try:
            # A computed wait, not a condition another task will signal: sleeping is right.
            while (delay := self._delay(chat_id, urgent)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(delay)
        finally:
            if urgent:
                self._urgent_waiting -= 1
        now = self._clock()
        self._departures.append(now)
        self._last_to[chat_id] = now
        if len(self._last_to) > 10_000:  # forget chats whose gap has long passed
            self._last_to = {c: t for c, t in self._last_to.items() if t > now - self.window}
