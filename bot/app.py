"""Assembly: one store, one router, the transports that are configured, and their lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from bot.context import Context
from bot.events import EventBus
from bot.facility import FacilityConfig
from bot.live_board import LiveBoard
from bot.metrics import Metrics
from bot.redis_connection import RedisConnection, connect_redis
from bot.router import Router
from bot.runbook_library import RunbookLibrary, default_directory
from bot.settings import Settings
from bot.store import Store
from bot.transports.base import Transport
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
    transports: dict[str, Transport] = field(default_factory=dict)
    live_board: LiveBoard | None = None

    @classmethod
    async def start(cls, settings: Settings, facility: FacilityConfig) -> Lifeline:
        connection = await connect_redis(settings)
        store = Store(connection.client, facility)
        events = EventBus()
        metrics = Metrics()
        runbooks = RunbookLibrary(default_directory())  # read on first use, not at start-up
        context = Context(store, facility, events, runbooks=runbooks)
        router = Router(context, command_specs(), metrics)
        log.info("lifeline.started", facility=facility.facility, redis=connection.description)
        app = cls(settings, facility, connection, store, events, router, metrics)
        app.readiness["redis"] = store.ping
        return app

    def attach(self, transports: dict[str, Transport], live_board: LiveBoard) -> None:
        """Connect chat transports: readiness checks, and the live board on the event bus."""
        self.transports = transports
        for name, transport in transports.items():
            self.readiness[name] = transport.ready
        self.live_board = live_board
        self.events.subscribe(live_board.on_event)

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
        if self.live_board is not None:
            await self.live_board.settle()
        await self.connection.close()
        log.info("lifeline.stopped")
