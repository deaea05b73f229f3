"""Matrix check-in round trips on a real Synapse, with its default `rc_message` (0.2/s, burst 10)
and with the bot exempted (relaxed), in the same run.

    .venv/bin/python -m bench.matrix_round_trips [--sequential N]

A round trip is the homeserver's own clock: the answer's `origin_server_ts` minus the command's
(both stamped by the one Synapse), so client polling does not count. Each scenario uses a fresh
bot account, which joins its rooms while exempted (joins count against `rc_message`; a real bot
joined its rooms long before the incident) and then gets Synapse's default limit back with a full
bucket. After `incident start` (answer, board, pin: three messages) the bot is left idle 20 s,
as it would be before the first check-ins, so its bucket is full again.

  relaxed, one at a time   N check-ins in a row from one room, each after the last answer
  stock, one at a time     the same on default limits (board edits compete for the budget)
  stock, 10 at once        10 check-ins sent at once from 10 rooms (target: all within 3 s)
  stock, broadcast         one broadcast to 20 rooms + the incident room: time to each copy
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.domain.facility import BroadcastTargets, Channels, ChannelTargets, FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from tests.e2e.matrix_harness import BotRunner, Event, StaffClient
from tests.synapse import MatrixUser, SynapseServer

DEPARTMENTS = ["pharmacy", "lab", "radiology", "emergency", "icu", "surgery", "nursing",
               "blood-bank", "registration", "dietary"]  # fmt: skip
REFILL = 20.0  # seconds idle after `incident start`: Synapse's bucket refills 1 message / 5 s
WAIT = 300.0


class Scenario:
    """A fresh bot and an allowed person (exempted: people type slowly) on the one Synapse."""

    def __init__(self, synapse: SynapseServer, redis: EmbeddedRedis, root: Path, name: str):
        self.synapse = synapse
        self.redis = redis
        self.directory = root / name
        self.bot: MatrixUser = synapse.register("lifeline")
        self.person = StaffClient(synapse, synapse.register("alice"))
        self.runner: BotRunner | None = None

    async def start(self, rooms: int, *, broadcast_rooms: int = 0, stock: bool) -> list[str]:
        """Rooms the bot joined: the incident room first (bot at power level 50)."""
        await self.synapse.unlimit_messages(self.person.user_id)
        await self.synapse.unlimit_messages(self.bot.user_id)
        bot = self.bot.user_id
        incident = await self.person.create_room(invite=[bot], power={bot: 50})
        others = [
            await self.person.create_room(invite=[bot]) for _ in range(rooms + broadcast_rooms)
        ]
        facility = FacilityConfig(
            facility="General Hospital",
            timezone="America/New_York",
            channels=Channels(
                incident=ChannelTargets(matrix=incident),
                broadcast=BroadcastTargets(matrix=tuple(others[rooms:])),
            ),
        )
        await self.redis.client().flushall()
        self.runner = BotRunner(self.synapse, self.bot, self.redis.url, self.directory, facility,
                                self.person.user_id)  # fmt: skip
        await self.runner.start()
        for room in [incident, *others]:
            await self.person.wait_for(room, _joined(bot), WAIT)
        if stock:
            await self.synapse.default_limits(bot)
        opened = await self.person.send(incident, "!incident start Teams outage sev 2")
        await self.person.reply_to(incident, opened, WAIT)
        await asyncio.sleep(REFILL)  # the bot idle before the first check-ins (see above)
        return [incident, *others[:rooms]]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        await self.person.close()


def _joined(user_id: str) -> Callable[[Event], bool]:
    return lambda e: e.get("state_key") == user_id and e["content"].get("membership") == "join"


def _ts(event: Event) -> int:
    return int(event["origin_server_ts"])


async def one_at_a_time(scenario: Scenario, count: int, stock: bool) -> list[float]:
    [incident] = await scenario.start(0, stock=stock)
    trips = []
    for n in range(count):
        dept = DEPARTMENTS[n % len(DEPARTMENTS)]
        state = ("up", "partial", "down")[n % 3]
        sent = await scenario.person.send(incident, f"!status {dept} {state} round trip {n}")
        answer = await scenario.person.reply_to(incident, sent, WAIT)
        command = await scenario.person.wait_for(incident, lambda e, i=sent: e["event_id"] == i)
        trips.append((_ts(answer) - _ts(command)) / 1000)
    return trips


async def ten_at_once(scenario: Scenario) -> list[float]:
    rooms = (await scenario.start(len(DEPARTMENTS), stock=True))[1:]
    person = scenario.person
    sent = await asyncio.gather(*(person.send(room, f"!status {dept} up")
                                  for room, dept in zip(rooms, DEPARTMENTS, strict=True)))  # fmt: skip
    trips = []
    for room, event_id in zip(rooms, sent, strict=True):
        answer = await person.reply_to(room, event_id, WAIT)
        command = await person.wait_for(room, lambda e, i=event_id: e["event_id"] == i)
        trips.append((_ts(answer) - _ts(command)) / 1000)
    return trips


async def broadcast(scenario: Scenario, targets: int) -> list[float]:
    rooms = await scenario.start(0, broadcast_rooms=targets, stock=True)
    person, incident = scenario.person, rooms[0]
    sent = await person.send(incident, "!broadcast Use paper downtime forms")
    command = await person.wait_for(incident, lambda e: e["event_id"] == sent)
    assert scenario.runner is not None
    assert scenario.runner.lifeline is not None
    copies = await _copies(scenario, targets + 1)
    delays = []
    for ref in copies:
        copy = await person.wait_for(ref.channel, lambda e, i=ref.message_id: e["event_id"] == i)
        delays.append((_ts(copy) - _ts(command)) / 1000)
    return delays


async def _copies(scenario: Scenario, expected: int) -> list[Any]:
    assert scenario.runner is not None
    assert scenario.runner.lifeline is not None
    store = scenario.runner.lifeline.store.broadcasts
    for _ in range(int(WAIT * 10)):
        copies = await store.copies("B-1")
        if len(copies) >= expected:
            return list(copies)
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {len(await store.copies('B-1'))} of {expected} copies sent")


def line(label: str, seconds: list[float]) -> str:
    return (f"{label:<30} {len(seconds):>3}  {min(seconds):8.3f}  {statistics.median(seconds):8.3f}"
            f"  {max(seconds):8.3f}")  # fmt: skip


async def run(sequential: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="ll-bench-matrix-"))
    synapse = SynapseServer(root / "synapse")
    synapse.directory.mkdir()
    redis = EmbeddedRedis(root / "redis")
    synapse.start()
    await redis.start()
    try:
        synapse.admin = synapse.register("admin", admin=True)

        async def scenario(
            name: str, work: Callable[[Scenario], Awaitable[list[float]]]
        ) -> list[float]:
            current = Scenario(synapse, redis, root, name)
            try:
                return await work(current)
            finally:
                await current.stop()

        results = [
            ("relaxed, one at a time", await scenario("relaxed", lambda s: one_at_a_time(s, sequential, False))),
            ("stock, one at a time", await scenario("stock", lambda s: one_at_a_time(s, sequential, True))),
            ("stock, 10 at once (10 rooms)", await scenario("burst", ten_at_once)),
            ("stock, broadcast to 20 rooms", await scenario("broadcast", lambda s: broadcast(s, 20))),
        ]  # fmt: skip
    finally:
        await redis.stop()
        synapse.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(
        "Matrix round trips on Synapse (homeserver clock, seconds); stock = rc_message 0.2/s, burst 10"
    )
    print(f"{'scenario':<30} {'n':>3}  {'min':>8}  {'median':>8}  {'max':>8}")
    for label, seconds in results:
        print(line(label, seconds))
    burst = max(results[2][1])
    print(f"10 at once: all answered within {burst:.2f} s (target <= 3 s): "
          f"{'met' if burst <= 3 else 'NOT MET'}")  # fmt: skip
    print(f"broadcast: last of 21 copies after {max(results[3][1]):.1f} s, none dropped")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", type=int, default=15, help="check-ins in a row")
    asyncio.run(run(parser.parse_args().sequential))
