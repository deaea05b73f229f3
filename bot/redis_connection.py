"""Connecting to Redis: the URL in the settings, or an embedded server under the data dir."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from bot.embedded_redis import CLIENT_NAME, MAX_CONNECTIONS, POOL_WAIT_SECONDS, EmbeddedRedis
from bot.settings import Settings


@dataclass
class RedisConnection:
    client: Redis
    embedded: EmbeddedRedis | None
    description: str

    async def close(self) -> None:
        await self.client.aclose()
        if self.embedded is not None:
            await self.embedded.stop()


async def connect_redis(settings: Settings) -> RedisConnection:
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        pool = BlockingConnectionPool.from_url(
            url,
            client_name=CLIENT_NAME,
            socket_connect_timeout=5,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
        )
        client = Redis.from_pool(pool)
        await client.ping()
        return RedisConnection(client, None, _redacted(url))
    embedded = EmbeddedRedis(settings.data_dir)
    await embedded.start()
    return RedisConnection(embedded.client(), embedded, f"embedded {embedded.url}")


def _redacted(url: str) -> str:
    """Never log a password that is part of the URL."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
