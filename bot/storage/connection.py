"""Connecting to Redis: the URL in the settings, or an embedded server under the data dir."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel

from bot.config.settings import Settings
from bot.storage.embedded_redis import (
    CLIENT_NAME,
    MAX_CONNECTIONS,
    POOL_WAIT_SECONDS,
    EmbeddedRedis,
)


@dataclass
class RedisConnection:
    client: Redis
    embedded: EmbeddedRedis | None
    description: str
    sentinels: list[Redis] = field(default_factory=list)  # connections to the sentinels, if any

    async def close(self) -> None:
        await self.client.aclose()
        for sentinel in self.sentinels:
            await sentinel.aclose()
        if self.embedded is not None:
            await self.embedded.stop()


async def connect_redis(settings: Settings) -> RedisConnection:
    if settings.redis_url is not None and settings.redis_url.get_secret_value().startswith(
        SENTINEL_SCHEME
    ):
        url = settings.redis_url.get_secret_value()
        client, sentinels = sentinel_client(url)
        connection = RedisConnection(client, None, _redacted(url), sentinels)
        try:
            await client.ping()
        except Exception:
            await connection.close()
            raise
        return connection
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


SENTINEL_SCHEME = "redis+sentinel://"


def sentinel_client(url: str) -> tuple[Redis, list[Redis]]:
    """`redis+sentinel://[:password@]host:26379[,host:26379...]/service[/db]`: the current master
    of `service`, found through the sentinels and followed across a failover."""
    rest = url.removeprefix(SENTINEL_SCHEME)
    password: str | None = None
    if "@" in rest:
        credentials, rest = rest.rsplit("@", 1)
        password = credentials.split(":", 1)[-1] or None
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    if not hosts or not service:
        raise ValueError(
            "a sentinel URL needs hosts and a service: redis+sentinel://host:26379/name"
        )
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name or host, int(port or 26379)))
    sentinel = Sentinel(sentinels, socket_connect_timeout=5)  # type: ignore[no-untyped-call]
    # The sentinel pool cannot wait for a free connection; writes are batched per loop turn,
    # so a generous cap is enough.
    master: Redis = sentinel.master_for(
        service,
        password=password,
        db=int(db or 0),
        client_name=CLIENT_NAME,
        socket_connect_timeout=5,
        max_connections=MAX_CONNECTIONS * 8,
    )
    return master, list(sentinel.sentinels)


def _redacted(url: str) -> str:
    """Never log a password that is part of the URL."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
