"""Virtual time for code that sleeps: a FakeClock that jumps to the next sleeper's moment.

`sleep(delay)` registers a wake-up at `clock.monotonic() + delay`; `drive()` lets real work
(HTTP to the fakes, database writes) settle for a moment, then moves the clock to the earliest
wake-up and wakes that sleeper. Minutes of paced sending take a second or two of wall time.
Virtual time stands still while `busy()` says real work is in progress.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import timedelta

from tests.fakes.clock import FakeClock


class VirtualTime:
    def __init__(self, clock: FakeClock, settle: float = 0.002) -> None:
        self.clock = clock
        self.settle = settle
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.clock.monotonic()

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.monotonic() + delay, next(self._order), woken))
        await woken

    async def drive(
        self, done: Callable[[], bool], limit: float, busy: Callable[[], bool] = lambda: False
    ) -> bool:
        """Run until `done()` or `limit` virtual seconds have passed. True when done. The
        clock only moves while `busy()` is false (no database transaction or provider call
        in progress), so real work takes no virtual time."""
        end = self.monotonic() + limit
        while not done():
            await asyncio.sleep(self.settle)
            if not self._sleepers or busy():
                continue
            moment, _, woken = heapq.heappop(self._sleepers)
            if moment > end:
                heapq.heappush(self._sleepers, (moment, next(self._order), woken))
                return done()
            if moment > self.monotonic():
                self.clock.advance(timedelta(seconds=moment - self.monotonic()))
            if not woken.done():
                woken.set_result(None)
        return True
