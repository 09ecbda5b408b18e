"""The pacer after a stall of the event loop: sends whose slots passed meanwhile must not all go
at once, and an urgent send may use the margin up to the provider's ceiling, never past it."""

from __future__ import annotations

import asyncio
import time

from bot.messaging.pacing import ChannelPacer, Limits


def most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + 1.0) for start in ordered)


async def test_a_stall_does_not_let_the_backlog_burst_past_the_rate() -> None:
    pacer = ChannelPacer(Limits(per_second=10.0, per_address_interval=1.0, ceiling=11))
    sent: list[float] = []

    async def send(n: int) -> None:
        await pacer.wait_turn(f"chat{n}")
        sent.append(time.monotonic())

    tasks = [asyncio.create_task(send(n)) for n in range(25)]
    await asyncio.sleep(0)  # every send has reserved its slot
    time.sleep(0.8)  # the event loop is blocked: eight slots pass meanwhile  # noqa: ASYNC251
    await asyncio.gather(*tasks)
    assert len(sent) == 25
    assert most_in_one_second(sent) <= 10


async def test_urgent_sends_use_the_margin_but_never_pass_the_ceiling() -> None:
    pacer = ChannelPacer(Limits(per_second=10.0, per_address_interval=1.0, ceiling=11))
    sent: list[tuple[float, bool]] = []

    async def send(n: int, urgent: bool) -> None:
        await pacer.wait_turn(f"{'urgent' if urgent else 'chat'}{n}", urgent=urgent)
        sent.append((time.monotonic(), urgent))

    backlog = [asyncio.create_task(send(n, False)) for n in range(20)]
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await asyncio.gather(*(send(n, True) for n in range(3)))
    urgent_wait = time.monotonic() - started
    await asyncio.gather(*backlog)
    assert urgent_wait < 1.0  # never queued behind the backlog's two seconds of slots
    assert most_in_one_second([t for t, _ in sent]) <= 11
