"""Running the periodic jobs: APScheduler sets the pace, the database says what is due.

Each ticker is run on a fixed interval (a safety net) and, in addition, at the exact moment it
says it next has something due, so a reminder goes out on time without polling every second.
A restart loses nothing: the due rows are in the database, and the first tick finds them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.ports import Clock, Ticker

log = logging.getLogger(__name__)

SAFETY_INTERVAL_SECONDS = 60


class Pacemaker:
    def __init__(self, tickers: Sequence[Ticker], clock: Clock) -> None:
        self.tickers = list(tickers)
        self.clock = clock

    async def tick_all(self) -> datetime | None:
        """Run every ticker once now; the earliest next due time among them."""
        soonest: datetime | None = None
        for ticker in self.tickers:
            try:
                due = await ticker.tick(self.clock.now())
            except Exception:
                log.exception("%s failed; it runs again shortly", type(ticker).__name__)
                due = self.clock.now() + timedelta(seconds=SAFETY_INTERVAL_SECONDS)
            if due is not None and (soonest is None or due < soonest):
                soonest = due
        return soonest

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(self._tick_and_plan, "interval", seconds=SAFETY_INTERVAL_SECONDS,
                          args=[scheduler], id="pacemaker", max_instances=1, coalesce=True,
                          next_run_time=datetime.now().astimezone())  # fmt: skip

    async def _tick_and_plan(self, scheduler: AsyncIOScheduler) -> None:
        due = await self.tick_all()
        if due is None:
            return
        # One precise wake-up at the next due time (replacing any earlier plan).
        scheduler.add_job(self._tick_and_plan, "date", run_date=max(due, self.clock.now()),
                          args=[scheduler], id="pacemaker-next", replace_existing=True)  # fmt: skip
