"""Stopping the scheduler always ends its loop, so shutdown (SIGTERM) never waits for ever."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.services.scheduler import Scheduler
from bot.storage.schedule import Schedule


class SlowSchedule(Schedule):
    """A claim that takes `seconds`; with `swallow`, a cancellation landing inside it is lost,
    as happened inside redis-py on Python 3.11 (the bot then ignored SIGTERM about 1 time in 4)."""

    def __init__(self, seconds: float, *, swallow: bool) -> None:  # no Redis behind this one
        self.seconds = seconds
        self.swallow = swallow
        self.claims = 0
        self.finished = 0
        self.in_hand = asyncio.Event()  # set when a claim has started

    async def claim(self, now: datetime, lease: timedelta) -> list[dict[str, Any]]:
        self.claims += 1
        self.in_hand.set()
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            if not self.swallow:
                raise
            return []
        self.finished += 1
        return []


def now() -> datetime:
    return datetime.now(UTC)


async def stops_within(scheduler: Scheduler, seconds: float, grace: float) -> bool:
    """asyncio.wait, not wait_for: a stop that hangs fails the test instead of hanging it."""
    stopping = asyncio.create_task(scheduler.stop(grace=grace))
    done, _ = await asyncio.wait({stopping}, timeout=seconds)
    return bool(done)


async def test_stop_ends_the_loop_even_when_a_poll_swallows_its_cancellation() -> None:
    schedule = SlowSchedule(30, swallow=True)
    scheduler = Scheduler(schedule, now, {}, poll_seconds=0.01)
    scheduler.start()
    await asyncio.wait_for(schedule.in_hand.wait(), 2)

    try:
        assert await stops_within(scheduler, 2, grace=0.1)
        assert schedule.claims == 1
        assert asyncio.all_tasks() == {asyncio.current_task()}  # no loop left to poll again
    finally:
        schedule.swallow = False  # if stop failed, the loop's teardown cancel still ends it


async def test_stop_lets_the_poll_in_hand_finish_instead_of_cancelling_it() -> None:
    schedule = SlowSchedule(0.2, swallow=False)
    scheduler = Scheduler(schedule, now, {}, poll_seconds=0.01)
    scheduler.start()
    await asyncio.wait_for(schedule.in_hand.wait(), 2)

    assert await stops_within(scheduler, 2, grace=5)

    assert (schedule.claims, schedule.finished) == (1, 1)
