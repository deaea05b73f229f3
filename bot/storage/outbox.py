"""The delivery outbox: every message Lifeline owes a channel, as an entry of a Redis Stream read
through one consumer group, so any replica's deliverer can send it and a dead one's entries are
reclaimed after a lease.

An entry is written in the same unit of work as the command that owes it (a broadcast, a roll
call, an incident's opening), or atomically with the reschedule of the job that owes it (a
reminder). Per target it keeps a mark — sending, sent (with the message id), failed — so a
reclaimed entry resumes where the dead process stopped. A finished entry is acknowledged and
deleted: the stream's length is the number of entries not yet delivered (it is never trimmed,
which would drop messages still owed).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.domain.models import LogEntry
from bot.domain.outbox import OutboxMessage
from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys
from bot.storage.schedule import job_member
from bot.storage.unit_of_work import Committed, Committer, UnitOfWork, as_text

GROUP = "deliverers"
MARKS_KEPT_SECONDS = 24 * 3600  # a finished entry's marks, for a straggler that still holds it


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    message: OutboxMessage

    @property
    def enqueued_at(self) -> float:
        """Seconds since the epoch when it was written (the stream id's milliseconds)."""
        return int(self.id.split("-")[0]) / 1000


@dataclass(frozen=True)
class Mark:
    """How far an entry got at one target."""

    state: str  # sending | sent | failed
    by: str  # the consumer that wrote it
    message_id: str = ""
    channel: str = ""  # where the platform says it went (sent only)
    reason: str = ""  # failed only


@speaks_domain
class Outbox:
    def __init__(self, redis: Redis, keys: Keys, committer: Committer) -> None:
        self._redis = redis
        self._keys = keys
        self._committer = committer
        self.key = keys.outbox

    # Writing ---------------------------------------------------------------------------------

    def add_to(self, work: UnitOfWork, message: OutboxMessage) -> None:
        """Owe `message` in the same atomic write as the rest of `work`."""
        work.xadd(self.key, message.fields())

    async def record(self, command_id: str, entry: LogEntry, message: OutboxMessage) -> Committed:
        """A log entry and the message it owes, together or not at all."""
        work = UnitOfWork(entry, command_id)
        self.add_to(work, message)
        return await self._committer.commit(work)

    async def enqueue_rescheduled(
        self, message: OutboxMessage, job: dict[str, Any], next_due: datetime
    ) -> None:
        """Owe `message` and move the scheduled job that owes it to `next_due`, in one
        transaction: a crash before leaves the job due again; after it, nothing repeats."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.key, message.fields())  # type: ignore[arg-type]
            pipe.zadd(self._keys.schedule, {job_member(job): next_due.timestamp()})
            await pipe.execute()

    # Claiming --------------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def claim_new(self, consumer: str, count: int) -> list[OutboxEntry]:
        """Entries no consumer has read yet; they are this consumer's until acknowledged."""
        try:
            answer: Any = await self._redis.xreadgroup(
                GROUP, consumer, {self.key: ">"}, count=count
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.ensure_group()  # a server that lost its data, or a fresh one
            return []
        return [_entry(i, f) for _, rows in answer for i, f in rows if f]

    async def reclaim(self, consumer: str, lease: timedelta, count: int) -> list[OutboxEntry]:
        """Entries whose consumer has not renewed them for `lease` (it died or stalled)."""
        try:
            answer = await self._redis.xautoclaim(
                self.key, GROUP, consumer, int(lease.total_seconds() * 1000), "0-0", count=count
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.ensure_group()
            return []
        return [_entry(i, f) for i, f in answer[1] if f]

    async def times_delivered(self, entry_id: str) -> int:
        rows = await self._redis.xpending_range(self.key, GROUP, entry_id, entry_id, 1)
        return int(rows[0]["times_delivered"]) if rows else 0

    async def renew(self, consumer: str, entry_ids: list[str]) -> None:
        """The lease heartbeat: reset the entries' idle time (JUSTID: no delivery is counted)."""
        if entry_ids:
            ids: list[Any] = list(entry_ids)
            await self._redis.xclaim(self.key, GROUP, consumer, 0, ids, justid=True)

    async def finish(self, entry_id: str) -> None:
        """Acknowledge and delete the entry; its marks stay a day for a straggler."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.key, GROUP, entry_id)
            pipe.xdel(self.key, entry_id)
            pipe.expire(self._keys.outbox_targets(entry_id), MARKS_KEPT_SECONDS)
            await pipe.execute()

    async def depth(self) -> tuple[int, float]:
        """Entries not yet delivered, and the age in seconds of the oldest (0 when none)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self.key)
            pipe.xrange(self.key, "-", "+", count=1)
            length, first = await pipe.execute()
        if not first:
            return int(length), 0.0
        oldest = int(as_text(first[0][0]).split("-")[0]) / 1000
        return int(length), max(0.0, time.time() - oldest)

    # Per-target marks ------------------------------------------------------------------------

    async def marks(self, entry_id: str) -> dict[str, Mark]:
        rows = await self._redis.hgetall(self._keys.outbox_targets(entry_id))
        return {as_text(k): Mark(**json.loads(v)) for k, v in rows.items()}

    async def mark_sending(self, entry_id: str, target: str, consumer: str) -> bool:
        """Written before the send; False when another consumer's mark is already there."""
        mark = json.dumps({"state": "sending", "by": consumer})
        key = self._keys.outbox_targets(entry_id)
        return bool(await self._redis.hsetnx(key, target, mark))

    async def mark(self, entry_id: str, target: str, mark: Mark) -> None:
        value = json.dumps(asdict(mark))
        await self._redis.hset(self._keys.outbox_targets(entry_id), target, value)


def _entry(entry_id: bytes | str, fields: dict[bytes, bytes]) -> OutboxEntry:
    kind = as_text(fields[b"kind"])
    payload = json.loads(fields[b"payload"])
    return OutboxEntry(as_text(entry_id), OutboxMessage(kind, payload))
