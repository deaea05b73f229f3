"""One assembly: settings + facility + transports → a fully wired Lifeline; and its lifecycle."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog
from aiohttp import web

from bot.config.settings import Settings
from bot.config.tuning import Tuning
from bot.dispatch.context import CommandSpec, Context
from bot.dispatch.router import Router
from bot.domain.clock import utc_now
from bot.domain.delivery import Transport
from bot.domain.errors import StoreUnavailable
from bot.domain.events import BroadcastSent, IncidentOpened, RollCallRequested
from bot.domain.facility import FacilityConfig
from bot.domain.outbox import BOARD, BROADCAST, ROLLCALL
from bot.domain.people import People
from bot.observability.metrics import Metrics
from bot.services import closing_report, fanout, live_board
from bot.services.board_links import BoardLinks
from bot.services.closing_report import ClosingReport
from bot.services.deliverer import Deliverer, Owner
from bot.services.event_bus import EventBus
from bot.services.fanout import Broadcaster
from bot.services.live_board import LiveBoard
from bot.services.rollcall import ROLLCALL_JOB, RollCaller
from bot.services.runbook_library import RunbookLibrary, default_directory
from bot.services.scheduler import JobRunner, Scheduler
from bot.services.wall_board import build_wall_board
from bot.storage.connection import RedisConnection, connect_redis
from bot.storage.spool import Spool
from bot.storage.spool_replay import SpoolReplayer
from bot.storage.store import Store
from bot.storage.supervisor import RedisSupervisor
from bot.web.board_page import BoardPage
from bot.web.board_stream import BoardFeed
from handlers import command_specs

log = structlog.get_logger(__name__)
ReadinessCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Core:
    """What a transport is built from: the router it hands commands to, and the store's seams
    it uses (event de-duplication, which broadcast a message carries)."""

    settings: Settings
    facility: FacilityConfig
    tuning: Tuning
    router: Router
    store: Store
    metrics: Metrics


TransportFactory = Callable[[Core], Transport]


@runtime_checkable
class ReportsDegraded(Protocol):
    """A transport that can work but slowly (rate-limited): `degraded()` says why, else None."""

    def degraded(self) -> str | None: ...


@runtime_checkable
class ServesHttp(Protocol):
    """A transport that receives over the bot's own HTTP server (Slack in HTTP mode)."""

    def routes(self) -> list[web.RouteDef]: ...


@runtime_checkable
class KnowsPeople(Protocol):
    """A transport that can say whether a user it names is a person (for handoffs)."""

    people: People


@dataclass
class Lifeline:
    settings: Settings
    facility: FacilityConfig
    tuning: Tuning
    connection: RedisConnection
    store: Store
    events: EventBus
    router: Router
    metrics: Metrics
    transports: dict[str, Transport]
    broadcaster: Broadcaster
    rollcaller: RollCaller
    scheduler: Scheduler
    deliverer: Deliverer
    live_board: LiveBoard | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    board_page: BoardPage | None = None
    supervisor: RedisSupervisor | None = None  # the embedded redis-server's; None with REDIS_URL
    replayer: SpoolReplayer | None = None

    def http_routes(self) -> list[web.RouteDef]:
        routes = [
            route
            for transport in self.transports.values()
            if isinstance(transport, ServesHttp)
            for route in transport.routes()
        ]
        return routes + (self.board_page.routes() if self.board_page else [])

    async def start(self) -> None:
        """Start the embedded Redis's supervisor, the transports, the deliverer of what the
        outbox owes, and the scheduler that fires reminders."""
        if self.supervisor is not None:
            self.supervisor.start()
        if self.replayer is not None:  # a spool left by a killed bot goes in before new writes
            await self.replayer.start()
        for transport in self.transports.values():
            await transport.start()
        await self.deliverer.start()
        self.scheduler.start()

    async def ready(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self.readiness.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        self.metrics.redis_reachable(results.get("redis", False))
        if results.get("redis"):  # the outbox gauges, as of this probe or scrape
            with contextlib.suppress(StoreUnavailable):
                self.metrics.outbox(*await self.store.outbox.depth())
        return results

    def degraded(self) -> dict[str, str]:
        """What works, but not as it should (shown by /readyz without making it fail)."""
        found: dict[str, str] = {}
        for name, transport in self.transports.items():
            if isinstance(transport, ReportsDegraded):
                reason = transport.degraded()
                if reason:
                    found[name] = reason
        return found

    async def close(self) -> None:
        if self.board_page is not None:
            await self.board_page.close()
        if self.supervisor is not None:
            await self.supervisor.stop()
        await self.scheduler.stop()
        await self.deliverer.stop()  # what it has not sent stays owed, for the next process
        if self.replayer is not None:
            await self.replayer.stop()
        for transport in self.transports.values():
            await transport.stop()
        await self.events.drain()
        if self.live_board is not None:
            await self.live_board.settle()
        await self.broadcaster.settle()
        await self.connection.close()
        log.info("lifeline.stopped")


async def build_lifeline(
    settings: Settings,
    facility: FacilityConfig,
    transports: Sequence[TransportFactory] | None = None,
    *,
    tuning: Tuning | None = None,
    clock: Callable[[], datetime] = utc_now,
    runbooks_dir: Path | None = None,
    commands: Sequence[CommandSpec] | None = None,
) -> Lifeline:
    """Connect to Redis and wire every part. `transports` defaults to those the settings
    configure (Slack, Matrix); `commands` to every handler's. Nothing is started yet:
    `await lifeline.start()` does that."""
    tuning = tuning or Tuning(outbox_lease=timedelta(seconds=settings.outbox_lease_seconds))
    connection = await connect_redis(settings)
    spool = Spool(settings.data_dir.resolve() / "spool", tuning.spool, clock)
    store = Store(connection.client, facility, resend_window=tuning.resend_window, spool=spool)
    events = EventBus()
    metrics = Metrics()
    runbooks = RunbookLibrary(runbooks_dir or default_directory())  # read on first use
    specs = tuple(command_specs() if commands is None else commands)
    links = BoardLinks(store, settings.base_url, facility.board_link_expiry)
    context = Context(
        store, facility, events, specs, clock, runbooks, links,
        files=settings.data_dir / "exports",
    )  # fmt: skip
    router = Router(context, metrics)
    core = Core(settings, facility, tuning, router, store, metrics)
    factories = configured_transports(settings) if transports is None else transports
    built = [factory(core) for factory in factories]
    wired = {transport.name: transport for transport in built}
    context.people.update(
        {name: t.people for name, t in wired.items() if isinstance(t, KnowsPeople)}
    )

    board = None
    if tuning.live_board:
        board = LiveBoard(store, facility, clock, wired, tuning.edit_interval)
        events.subscribe(board.on_event, *live_board.EVENTS)
    broadcaster = Broadcaster(store, facility, clock, wired, tuning.edit_interval)
    events.subscribe(broadcaster.on_event, *fanout.EVENTS)
    reporter = ClosingReport(store, facility, clock, wired, context.files)
    events.subscribe(reporter.on_event, *closing_report.EVENTS)
    rollcaller = RollCaller(store, facility, clock, wired)
    owners: dict[str, Owner] = {BROADCAST: broadcaster, ROLLCALL: rollcaller}
    if board is not None:
        owners[BOARD] = board
    deliverer = Deliverer(
        store.outbox, wired, owners, metrics, lease=tuning.outbox_lease,
        poll=tuning.outbox_poll, attempts=tuning.outbox_attempts,
    )  # fmt: skip
    # What a command owes is in the outbox already; its event only says "deliver now".
    events.subscribe(deliverer.on_event, BroadcastSent, RollCallRequested, IncidentOpened)
    scheduler = Scheduler(
        store.schedule,
        clock,
        {ROLLCALL_JOB: delivering(rollcaller.remind, deliverer)},
        poll_seconds=tuning.scheduler_poll,
        lease=tuning.scheduler_lease,
    )
    board_page = _web_board(store, facility, runbooks, clock, links, tuning)
    readiness: dict[str, ReadinessCheck] = {"redis": store.ping}
    readiness.update({name: transport.ready for name, transport in wired.items()})
    supervisor = None
    if connection.embedded is not None:
        supervisor = RedisSupervisor(connection.embedded, metrics, tuning.redis_restart)
    replayer = SpoolReplayer(
        spool,
        store,
        metrics,
        events.publish,
        tuning.spool.replay_poll,
    )
    log.info("lifeline.built", facility=facility.facility, redis=connection.description,
             transports=list(wired))  # fmt: skip
    return Lifeline(
        settings, facility, tuning, connection, store, events, router, metrics, wired,
        broadcaster, rollcaller, scheduler, deliverer, board, readiness, board_page, supervisor,
        replayer,
    )  # fmt: skip


def _web_board(
    store: Store,
    facility: FacilityConfig,
    runbooks: RunbookLibrary,
    clock: Callable[[], datetime],
    links: BoardLinks,
    tuning: Tuning,
) -> BoardPage:
    """The command-center page: one feed, woken by any process's write to the log."""

    async def snapshot() -> str:
        return (await build_wall_board(store, facility, runbooks, clock())).model_dump_json()

    feed = BoardFeed(
        snapshot, store.log.newest_id, store.log.wait_after, links.generation,
        min_interval=tuning.board_min_interval, refresh=tuning.board_refresh,
    )  # fmt: skip
    return BoardPage(links, feed, snapshot, facility, clock)


def delivering(runner: JobRunner, deliverer: Deliverer) -> JobRunner:
    """A job that owes messages (a reminder), then delivers them at once."""

    async def run(job: dict[str, Any]) -> datetime | None:
        due = await runner(job)
        await deliverer.deliver_pending()
        return due

    return run


def configured_transports(settings: Settings) -> list[TransportFactory]:
    """Each chat transport whose settings are present."""
    factories: list[TransportFactory] = []
    if settings.slack_enabled:
        factories.append(slack_transport)
    if settings.matrix_enabled:
        factories.append(matrix_transport)
    return factories


def slack_transport(core: Core) -> Transport:
    from bot.transports.slack import SlackConfig, SlackTransport

    config = SlackConfig.from_settings(core.settings, core.tuning)
    return SlackTransport(config, core.router, core.store, core.metrics)


def matrix_transport(core: Core) -> Transport:
    from bot.transports.matrix import MatrixConfig, MatrixTransport

    config = MatrixConfig.from_settings(core.settings, core.tuning)
    # A ✅ reaction on a broadcast's copy acknowledges it: the store says which broadcast; the
    # commander hears about rate limits and missing power levels in the incident room.
    return MatrixTransport(
        config,
        core.router,
        core.metrics,
        broadcasts=core.store,
        incidents=core.store,
        incident_room=core.facility.channels.incident_on("matrix"),
    )
