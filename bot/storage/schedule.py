"""Jobs due at a time, in a Redis sorted set: scheduled, cancelled, and claimed atomically with a
lease (a claimed job is pushed a lease into the future, so no other process sees it due)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 20)
for _, job in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], job)
end
return due
"""


@speaks_domain
class Schedule:
    """The Redis side: schedule, cancel, claim."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.schedule
        self._claim = redis.register_script(_CLAIM)

    async def put(self, job: dict[str, Any], due: datetime) -> None:
        """Schedule `job` (its JSON is its identity: the same job scheduled twice is one job)."""
        await self._redis.zadd(self._key, {job_member(job): due.timestamp()})

    async def cancel(self, job: dict[str, Any]) -> None:
        await self._redis.zrem(self._key, job_member(job))

    async def claim(self, now: datetime, lease: timedelta) -> list[dict[str, Any]]:
        claimed = await self._claim(
            keys=[self._key], args=[now.timestamp(), (now + lease).timestamp()]
        )
        return [json.loads(member) for member in claimed]


def job_member(job: dict[str, Any]) -> str:
    return json.dumps(job, sort_keys=True, separators=(",", ":"))
