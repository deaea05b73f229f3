"""The outbox in Redis: what a command owes is written with it (once, even when the command is
resent), a reminder's round is owed atomically with its reschedule, and an entry that keeps
failing is given up after the stated number of claims."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from structlog.testing import capture_logs

from bot.app import Lifeline
from bot.domain.delivery import DeliveryFailed, MessageRef
from bot.domain.outbox import OutboxMessage
from bot.observability.metrics import Metrics
from bot.services.deliverer import Deliverer, Target
from bot.storage.schedule import job_member
from tests.conftest import Bot, Clock
from tests.waiting import until


async def owed(redis: Redis, lifeline: Lifeline) -> list[tuple[str, dict[str, Any]]]:
    rows = await redis.xrange(lifeline.store.keys.outbox)
    return [(fields[b"kind"].decode(), _json(fields[b"payload"])) for _, fields in rows]


def _json(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


async def test_commands_owe_their_messages_in_the_same_write_and_a_resend_owes_nothing_more(
    bot: Bot, lifeline: Lifeline, redis: Redis
) -> None:
    await lifeline.deliverer.stop()  # nothing is sent: what is owed stays in the stream
    for _ in range(2):  # the same command twice (a retried delivery): one entry each
        await bot.send("incident start Teams outage", user="dr.lee", command_id="open-1")
        await bot.send("broadcast Use paper orders", user="dr.lee", command_id="send-1")
        await bot.send("rollcall", user="dr.lee", command_id="ask-1")

    assert await owed(redis, lifeline) == [
        ("board", {"incident": "INC-20261122-1", "transport": "console", "channel": "console"}),
        ("broadcast", {"broadcast": "B-1"}),
        ("rollcall", {
            "incident": "INC-20261122-1",
            "departments": [d.id for d in lifeline.facility.departments],
            "transport": "console", "channel": "console", "reminder": False,
        }),
    ]  # fmt: skip


async def test_a_reminder_is_owed_together_with_moving_its_job_on(
    bot: Bot, lifeline: Lifeline, redis: Redis, clock: Clock
) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    await bot.send("rollcall", user="dr.lee")
    await bot.events.drain()
    await lifeline.deliverer.stop()
    [job] = await lifeline.store.schedule.claim(clock.now + timedelta(hours=1), timedelta(0))

    clock.now += timedelta(minutes=15)
    due = await lifeline.rollcaller.remind(job)

    assert due == clock.now + lifeline.facility.rollcall_interval
    assert await redis.zscore(lifeline.store.keys.schedule, job_member(job)) == due.timestamp()
    [(kind, payload)] = await owed(redis, lifeline)
    assert (kind, payload["reminder"], len(payload["departments"])) == ("rollcall", True, 11)


class Failing:
    """An owner whose targets cannot be worked out (a bug, say): every claim raises."""

    def __init__(self) -> None:
        self.calls = 0

    async def targets(self, message: OutboxMessage) -> list[Target]:
        self.calls += 1
        raise RuntimeError("cannot work out the targets")

    async def delivered(self, message: OutboxMessage, target: Target, ref: MessageRef) -> None:
        raise AssertionError("nothing is delivered")

    async def finished(
        self, message: OutboxMessage, failures: list[DeliveryFailed], total: int
    ) -> list[Target]:
        raise AssertionError("never finished")


async def test_an_entry_that_keeps_failing_is_given_up_after_the_stated_claims(
    bot: Bot, lifeline: Lifeline, redis: Redis
) -> None:
    await lifeline.deliverer.stop()
    await bot.send("incident start Teams outage", user="dr.lee")
    await bot.send("broadcast Use paper orders", user="dr.lee")
    await redis.xtrim(lifeline.store.keys.outbox, maxlen=1)  # only the broadcast's entry
    failing = Failing()
    deliverer = Deliverer(
        lifeline.store.outbox, {}, {"broadcast": failing}, Metrics(),
        lease=timedelta(seconds=0.05), poll=0.02, attempts=3,
    )  # fmt: skip
    with capture_logs() as logs:
        await deliverer.start()
        try:
            await until(lambda: _empty(redis, lifeline.store.keys.outbox))
        finally:
            await deliverer.stop()

    assert failing.calls == 3  # the first claim and two reclaims
    assert [e["event"] for e in logs if e["event"].startswith("outbox.")] == [
        "outbox.entry_failed", "outbox.reclaimed", "outbox.entry_failed", "outbox.reclaimed",
        "outbox.entry_failed", "outbox.given_up",
    ]  # fmt: skip


async def _empty(redis: Redis, key: str) -> bool:
    return int(await redis.xlen(key)) == 0
