"""Broadcasts (HICS 213 General Messages) and their acknowledgements, in Redis.

A broadcast and its log entry land together; an acknowledgement is guarded per person, so a
double click or an ack on two transports counts once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn, cast

from redis.asyncio import Redis

from bot.domain.broadcast import Ack, Broadcast
from bot.domain.delivery import MessageRef
from bot.domain.errors import AlreadyAcknowledged, Spooled, StoreUnavailable
from bot.domain.models import LogEntry, LogKind
from bot.domain.outbox import broadcast_copies
from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys
from bot.storage.spool import Spool
from bot.storage.unit_of_work import Committer, GuardFailed, UnitOfWork, as_text


@speaks_domain
class Broadcasts:
    def __init__(
        self, redis: Redis, keys: Keys, committer: Committer, spool: Spool | None = None
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._committer = committer
        self._spool = spool

    async def next_id(self) -> str:
        return f"B-{await self._redis.incr(self._keys.broadcast_sequence)}"

    async def record(self, command_id: str, broadcast: Broadcast) -> None:
        entry = LogEntry(
            at=broadcast.at,
            incident_id=broadcast.incident_id,
            kind=LogKind.BROADCAST,
            actor=broadcast.sender,
            text=broadcast.text,
            data={"broadcast": broadcast.id, "priority": broadcast.priority},
        )
        work = UnitOfWork(entry, command_id)
        work.set(self._keys.broadcast(broadcast.id), broadcast.model_dump_json())
        work.zadd(self._keys.broadcasts, broadcast.at.timestamp(), broadcast.id)
        work.xadd(self._keys.outbox, broadcast_copies(broadcast.id).fields())  # owed, same write
        await self._committer.commit(work)

    async def get(self, broadcast_id: str) -> Broadcast | None:
        raw = await self._redis.get(self._keys.broadcast(broadcast_id))
        return Broadcast.model_validate_json(raw) if raw else None

    async def recent(self, limit: int = 10) -> list[Broadcast]:
        ids = cast(list[bytes], await self._redis.zrevrange(self._keys.broadcasts, 0, limit - 1))
        found = [await self.get(as_text(i)) for i in ids]
        return [b for b in found if b is not None]

    async def acknowledge(self, command_id: str, broadcast: Broadcast, ack: Ack) -> None:
        """Raises AlreadyAcknowledged when this person has acknowledged before."""
        entry = LogEntry(
            at=ack.at,
            incident_id=broadcast.incident_id,
            kind=LogKind.BROADCAST_ACK,
            actor=ack.actor,
            text=f"acknowledged {broadcast.id}",
            data={"broadcast": broadcast.id, "channel": ack.channel},
        )
        work = UnitOfWork(entry, command_id)
        work.require_absent(self._keys.broadcast_ack(broadcast.id, ack.actor.id))
        work.set(self._keys.broadcast_ack(broadcast.id, ack.actor.id), "1")
        work.hset(self._keys.broadcast_acks(broadcast.id), {ack.actor.id: ack.model_dump_json()})
        try:
            await self._committer.commit(work)
        except GuardFailed:
            earlier = (await self.acks(broadcast.id)).get(ack.actor.id, ack)
            raise AlreadyAcknowledged(earlier) from None

    async def spool_ack(self, command_id: str, broadcast_id: str | None, ack: Ack) -> NoReturn:
        """Keep an ack in the local spool (Redis is unreachable): raises Spooled(ref), or
        StoreUnavailable when there is no spool or it is full. `broadcast_id` None means the
        latest broadcast sent before the ack, as `ack` with no id means."""
        if self._spool is None:
            raise StoreUnavailable("no spool")
        payload = {"broadcast": broadcast_id, "ack": ack.model_dump(mode="json")}
        raise Spooled(await self._spool.append("ack", command_id, ack.at, payload))

    async def replay_ack(self, command_id: str, payload: dict[str, Any]) -> str | None:
        """Replay a spooled ack; the broadcast it counted for, None if it had counted before.
        Raises LookupError when there is no such broadcast."""
        ack = Ack.model_validate(payload["ack"])
        wanted = payload["broadcast"]
        broadcast = await (self.get(wanted) if wanted else self._latest_before(ack.at))
        if broadcast is None:
            raise LookupError(f"no broadcast {wanted or 'before the ack'}")
        try:
            await self.acknowledge(command_id, broadcast, ack)
        except AlreadyAcknowledged:
            return None
        return broadcast.id

    async def _latest_before(self, at: datetime) -> Broadcast | None:
        ids = cast(
            list[bytes],
            await self._redis.zrevrangebyscore(
                self._keys.broadcasts, at.timestamp(), "-inf", start=0, num=1
            ),
        )
        return await self.get(as_text(ids[0])) if ids else None

    async def acks(self, broadcast_id: str) -> dict[str, Ack]:
        rows = await self._redis.hgetall(self._keys.broadcast_acks(broadcast_id))
        return {as_text(k): Ack.model_validate_json(v) for k, v in rows.items()}

    async def ack_count(self, broadcast_id: str) -> int:
        return int(await self._redis.hlen(self._keys.broadcast_acks(broadcast_id)))

    async def save_copy(self, broadcast_id: str, ref: MessageRef) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._keys.broadcast_copies(broadcast_id),
                f"{ref.transport} {ref.channel}",
                ref.message_id,
            )
            pipe.set(self._keys.broadcast_by_message(ref.transport, ref.message_id), broadcast_id)
            await pipe.execute()

    async def save_failure(
        self, broadcast_id: str, transport: str, channel: str, reason: str
    ) -> None:
        """A copy that could not be delivered, for the after-action report."""
        await self._redis.hset(
            self._keys.broadcast_failures(broadcast_id), f"{transport} {channel}", reason
        )

    async def failures(self, broadcast_id: str) -> dict[str, str]:
        rows = await self._redis.hgetall(self._keys.broadcast_failures(broadcast_id))
        return {as_text(k): as_text(v) for k, v in rows.items()}

    async def copies(self, broadcast_id: str) -> list[MessageRef]:
        rows = await self._redis.hgetall(self._keys.broadcast_copies(broadcast_id))
        refs = []
        for where, message_id in rows.items():
            transport, channel = as_text(where).split(" ", 1)
            refs.append(MessageRef(transport, channel, as_text(message_id)))
        return refs

    async def for_message(self, transport: str, message_id: str) -> str | None:
        """The broadcast a posted message is a copy of (a ✅ reaction on it is an ack)."""
        found = await self._redis.get(self._keys.broadcast_by_message(transport, message_id))
        return as_text(found) if found else None
