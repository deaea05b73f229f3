"""Assembly: one store, one router, the transports that are configured, and their lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from bot.context import Context
from bot.events import EventBus
from bot.facility import FacilityConfig
from bot.metrics import Metrics
from bot.redis_connection import RedisConnection, connect_redis
from bot.router import Router
from bot.settings import Settings
from bot.store import Store
from handlers import command_specs

log = structlog.get_logger(__name__)
ReadinessCheck = Callable[[], Awaitable[bool]]


@dataclass
class Lifeline:
    settings: Settings
    facility: FacilityConfig
    connection: RedisConnection
    store: Store
    events: EventBus
    router: Router
    metrics: Metrics
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings, facility: FacilityConfig) -> Lifeline:
        connection = await connect_redis(settings)
        store = Store(connection.client, facility)
        events = EventBus()
        metrics = Metrics()
        router = Router(Context(store, facility, events), command_specs(), metrics)
        log.info("lifeline.started", facility=facility.facility, redis=connection.description)
        app = cls(settings, facility, connection, store, events, router, metrics)
        app.readiness["redis"] = store.ping
        return app

    async def ready(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self.readiness.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        return results

    async def close(self) -> None:
        await self.events.drain()
        await self.connection.close()
        log.info("lifeline.stopped")
