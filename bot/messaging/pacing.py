"""Pacing outbound sends: a per-channel overall rate and a minimum gap per address.

Telegram allows about 30 messages a second overall and 1 a second to one chat; a 429 gives a
`retry_after` that holds either one chat or the whole bot. SMS has a configured rate.
This limiter lives in one process; several processes on PostgreSQL need a shared one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_second: float  # overall, for the channel
    per_address_interval: float = 0.0  # seconds between two sends to one address
    ceiling: float | None = None  # the provider's own limit a second, when above per_second


class ChannelPacer:
    """Spaces sends evenly: at most `per_second` overall and one per interval per address."""

    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep  # with `clock`, lets tests run the pacer on virtual time
        self._next_global = 0.0
        self._next_for: dict[str, float] = {}
        self._last_sent: dict[str, float] = {}
        self._held_until = 0.0
        self._lock = asyncio.Lock()
        # When the sends of the last second went out. After a stall of the event loop, sends
        # whose slots have passed would go all at once: the backlog never has more than
        # `per_second` of them in one second. Urgent sends skip the slots and may use the
        # margin up to the provider's `ceiling`, never past it.
        self._recent: deque[float] = deque()

    def hold(self, seconds: float, address: str | None = None) -> None:
        """Honour a provider's retry_after, for one address or for the whole channel."""
        until = self._clock() + seconds
        if address is None:
            self._held_until = max(self._held_until, until)
        else:
            self._next_for[address] = max(self._next_for.get(address, 0.0), until)

    async def wait_turn(self, address: str, urgent: bool = False) -> None:
        """Reserve the next slot for `address` and sleep until it comes. An urgent send does
        not queue behind reserved slots: it goes as soon as the address's own gap allows,
        using the margin kept below the provider's limit."""
        gap = self.limits.per_address_interval
        async with self._lock:
            now = self._clock()
            if urgent:
                slot = max(now, self._held_until, self._last_sent.get(address, -gap) + gap)
            else:
                slot = max(
                    now, self._next_global, self._held_until, self._next_for.get(address, 0.0)
                )
                self._next_global = slot + 1.0 / self.limits.per_second
            self._next_for[address] = max(self._next_for.get(address, 0.0), slot + gap)
            if len(self._next_for) > 10_000:  # forget addresses whose gap has long passed
                self._next_for = {a: t for a, t in self._next_for.items() if t > now}
                self._last_sent = {a: t for a, t in self._last_sent.items() if t + gap > now}
        await self._sleep_until(slot)
        # An urgent send may have used this address since the slot was reserved.
        await self._sleep_until(self._last_sent.get(address, -gap) + gap)
        ceiling = self.limits.ceiling if urgent and self.limits.ceiling else self.limits.per_second
        await self._wait_for_room(max(1, int(ceiling)))
        sent_at = self._clock()
        self._last_sent[address] = sent_at
        self._recent.append(sent_at)

    async def _wait_for_room(self, capacity: int) -> None:
        """Until fewer than `capacity` sends went out in the last second."""
        window = max(1.0, capacity / self.limits.per_second)
        while True:
            now = self._clock()
            while self._recent and self._recent[0] <= now - window:
                self._recent.popleft()
            if len(self._recent) < capacity:
                return
            await self._sleep_until(self._recent[-capacity] + window)

    async def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await self._sleep(delay)
