"""Per-person memory: the department someone calls theirs, and who is looking at a personal view
(a Home tab) so it can be kept current. Nothing here is part of the incident record."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.domain.log_query import LogQuery
from bot.domain.models import LogKind
from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys
from bot.storage.log_reader import LogReader
from bot.storage.unit_of_work import as_text


@speaks_domain
class People:
    def __init__(self, redis: Redis, keys: Keys, log: LogReader) -> None:
        self._redis = redis
        self._keys = keys
        self._log = log

    async def choose_department(self, actor_id: str, dept_id: str) -> None:
        await self._redis.hset(self._keys.chosen_departments, actor_id, dept_id)

    async def department_of(self, actor_id: str) -> str | None:
        """The department this person chose, else the one they last checked in for."""
        chosen = await self._redis.hget(self._keys.chosen_departments, actor_id)
        if chosen is not None:
            return as_text(chosen)
        query = LogQuery(actors=[actor_id], kinds=[LogKind.CHECKIN.value], limit=1)
        latest = await self._log.query(query)
        return latest[0].department if latest else None

    async def saw(self, surface: str, actor_id: str, at: datetime, keep: timedelta) -> None:
        """`actor_id` opened `surface` at `at`; they count as watching it for `keep`."""
        key = self._keys.viewers(surface)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {actor_id: at.timestamp()})
            pipe.zremrangebyscore(key, "-inf", (at - keep).timestamp())
            pipe.expire(key, int(keep.total_seconds()) + 1)
            await pipe.execute()

    async def viewers(self, surface: str, now: datetime, keep: timedelta, limit: int) -> list[str]:
        """Who opened `surface` within `keep` of `now`, most recent first, at most `limit`."""
        key = self._keys.viewers(surface)
        floor = (now - keep).timestamp()
        found = await self._redis.zrevrangebyscore(key, "+inf", floor, start=0, num=limit)
        return [as_text(member) for member in found if isinstance(member, bytes | str)]
