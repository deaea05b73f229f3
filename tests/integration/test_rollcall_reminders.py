from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import Core
from bot.domain.facility import FacilityConfig
from bot.services.scheduler import Scheduler
from bot.transports.console import ConsoleTransport
from tests.conftest import Bot, BuildLifeline, Clock

ALL = [d.name for d in FacilityConfig().departments]


@dataclass
class Process:
    """One bot process's worth of objects on its own Redis connection, printing to `output`."""

    bot: Bot
    scheduler: Scheduler
    output: io.StringIO


Spawn = Callable[[], Awaitable[Process]]


@pytest.fixture
def spawn(build_bot_lifeline: BuildLifeline) -> Spawn:
    """Start "processes": each a Lifeline assembled as `python -m bot console` does, on its own
    connection to the (flushed) test Redis, its console printing to a buffer."""

    async def start() -> Process:
        output = io.StringIO()

        def console(core: Core) -> ConsoleTransport:
            return ConsoleTransport(
                core.router, "bot", frozenset(), stdin=io.StringIO(), stdout=output
            )

        lifeline = await build_bot_lifeline(transports=[console])
        return Process(Bot(lifeline), lifeline.scheduler, output)

    return start


def take(output: io.StringIO) -> str:
    """What was printed since the last call."""
    text = output.getvalue()
    output.seek(0)
    output.truncate(0)
    return text


async def start_rollcall(proc: Process) -> None:
    await proc.bot.send("incident start EHR downtime", user="dr.lee")
    await proc.bot.send("status pharmacy down cabinets on override")
    reply = await proc.bot.send("rollcall", user="dr.lee")
    assert reply.lines == [
        "Asked 10 department(s) to check in: " + ", ".join(ALL[1:]) + ".",
        "Reminders every 15m until each has checked in or the incident is closed.",
    ]
    await proc.bot.events.drain()


async def test_roll_call_asks_then_reminds_until_everyone_has_checked_in(
    spawn: Spawn, clock: Clock
) -> None:
    proc = await spawn()
    await start_rollcall(proc)
    assert (
        "Roll call for INC-20261122-1, period 1\nStill to check in: Laboratory, "
        in proc.output.getvalue()
    )
    clock.now += timedelta(minutes=14)
    assert await proc.scheduler.run_due() == 0
    for dept in [
        "lab",
        "radiology",
        "emergency",
        "icu",
        "surgery",
        "nursing",
        "blood-bank",
        "registration",
    ]:
        await proc.bot.send(f"status {dept} up")
    clock.now += timedelta(minutes=1)
    take(proc.output)
    assert await proc.scheduler.run_due() == 1
    assert take(proc.output).splitlines()[:3] == [
        "-- to console --",
        "Reminder — roll call for INC-20261122-1, period 1",
        "Still to check in: Dietary, IT.",
    ]
    await proc.bot.send("status dietary up")
    await proc.bot.send("status it partial 40 PCs in boot loop")
    clock.now += timedelta(minutes=15)
    take(proc.output)
    assert await proc.scheduler.run_due() == 1  # runs, finds nobody missing, and stops
    assert take(proc.output) == ""
    clock.now += timedelta(hours=2)
    assert await proc.scheduler.run_due() == 0


async def test_closing_the_incident_stops_the_reminders(spawn: Spawn, clock: Clock) -> None:
    proc = await spawn()
    await start_rollcall(proc)
    await proc.bot.send("incident close restored", user="dr.lee")
    clock.now += timedelta(minutes=15)
    take(proc.output)
    assert await proc.scheduler.run_due() == 1
    assert take(proc.output) == ""
    clock.now += timedelta(minutes=15)
    assert await proc.scheduler.run_due() == 0


async def test_stale_checkins_are_nudged_too(spawn: Spawn, clock: Clock) -> None:
    proc = await spawn()
    await proc.bot.send("incident start EHR downtime", user="dr.lee")
    for dept in FacilityConfig().departments:
        await proc.bot.send(f"status {dept.id} up")
    clock.now += timedelta(minutes=30)
    await proc.bot.send("status lab up")
    clock.now += timedelta(minutes=31)  # everyone but the lab is now 61 minutes old
    reply = await proc.bot.send("rollcall", user="dr.lee")
    assert (
        reply.lines[0]
        == "Asked 10 department(s) to check in: "
        + ", ".join(name for name in ALL if name != "Laboratory")
        + "."
    )


async def test_two_processes_on_one_redis_fire_each_reminder_exactly_once(
    spawn: Spawn, clock: Clock
) -> None:
    first = await spawn()
    second = await spawn()
    await start_rollcall(first)
    take(first.output)
    for _ in range(10):
        clock.now += timedelta(minutes=15)
        fired = await asyncio.gather(first.scheduler.run_due(), second.scheduler.run_due())
        assert sorted(fired) == [0, 1]
    printed = first.output.getvalue() + second.output.getvalue()
    assert printed.count("Reminder — roll call for INC-20261122-1") == 10


async def test_a_reminder_pending_across_a_restart_still_fires(spawn: Spawn, clock: Clock) -> None:
    before = await spawn()
    await start_rollcall(before)
    del before  # the process is gone; only Redis remembers
    after = await spawn()
    clock.now += timedelta(minutes=15)
    assert await after.scheduler.run_due() == 1
    assert "Reminder — roll call for INC-20261122-1, period 1\nStill to check in: Laboratory" in (
        after.output.getvalue()
    )
