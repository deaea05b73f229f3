"""Assembly: one store, one router, the transports that are configured, and their lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from bot.context import Context
from bot.events import (
    BoardChanged,
    BroadcastAcked,
    BroadcastSent,
    EventBus,
    IncidentClosed,
    IncidentOpened,
    RollCallRequested,
)
from bot.facility import FacilityConfig
from bot.fanout import Broadcaster
from bot.live_board import LiveBoard
from bot.metrics import Metrics
from bot.redis_connection import RedisConnection, connect_redis
from bot.rollcall import ROLLCALL_JOB, RollCaller
from bot.router import Router
from bot.runbook_library import RunbookLibrary, default_directory
from bot.scheduler import Scheduler
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
    broadcaster: Broadcaster | None = None
    scheduler: Scheduler | None = None

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

    def attach(
        self,
        transports: dict[str, Transport],
        board: LiveBoard | None = None,
        *,
        live_board: bool = True,
        edit_interval: float = 1.0,
    ) -> None:
        """Connect transports to the services that post on their own: the live board, broadcast
        fan-out and roll calls, and start the scheduler that fires reminders. `edit_interval`
        is the least time between two edits of one message (board, broadcast counts)."""
        context = self.router.context
        self.transports = transports
        for name, transport in transports.items():
            self.readiness[name] = transport.ready
        if live_board:
            self.live_board = board or LiveBoard(context, transports, edit_interval)
            self.events.subscribe(
                self.live_board.on_event, IncidentOpened, BoardChanged, IncidentClosed
            )
        self.broadcaster = Broadcaster(context, transports, edit_interval)
        self.events.subscribe(self.broadcaster.on_event, BroadcastSent, BroadcastAcked)
        rollcaller = RollCaller(context, transports)
        self.events.subscribe(rollcaller.on_event, RollCallRequested)
        self.scheduler = Scheduler(
            self.store.schedule, context.now, {ROLLCALL_JOB: rollcaller.remind}
        )
        self.scheduler.start()

    async def ready(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self.readiness.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        return results

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.events.drain()
        if self.live_board is not None:
            await self.live_board.settle()
        if self.broadcaster is not None:
            await self.broadcaster.settle()
        await self.connection.close()
        log.info("lifeline.stopped")
