from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.context import Context
from bot.embedded_redis import EmbeddedRedis
from bot.events import EventBus
from bot.facility import FacilityConfig
from bot.metrics import Metrics
from bot.router import Router
from bot.store import Store
from handlers import command_specs
from tests.conftest import Bot, Clock


@pytest.fixture
async def doomed() -> AsyncIterator[EmbeddedRedis]:
    """A redis-server of this test's own, so the test can stop it."""
    directory = Path(tempfile.mkdtemp(prefix="ll-down-", dir="/tmp"))
    server = EmbeddedRedis(directory)
    await server.start()
    yield server
    await server.stop()
    shutil.rmtree(directory, ignore_errors=True)


async def test_with_redis_gone_a_checkin_is_not_called_recorded(
    doomed: EmbeddedRedis, facility: FacilityConfig, clock: Clock
) -> None:
    client = doomed.client()
    store = Store(client, facility)
    bot = Bot(
        Router(Context(store, facility, EventBus(), clock=clock), command_specs(), Metrics()),
        store,
        EventBus(),
    )
    assert (await bot.send("status lab up")).outcome == "recorded"
    os.kill(int(doomed.pidfile.read_text()), signal.SIGKILL)  # the server dies, as in an outage
    await asyncio.sleep(0.2)
    reply = await bot.send("status lab down analyser offline")
    assert (reply.outcome, reply.ephemeral) == ("error", True)
    [line] = reply.lines
    assert line.startswith(
        "Lifeline cannot reach its database right now, so nothing was recorded. Try again in a "
        "minute; if it keeps happening, tell IT (error ref E-"
    )
    assert "Recorded" not in line
    await client.aclose()
    await doomed.start()  # AOF: what was recorded before is still there, the failed one is not
    again = Store(doomed.client(), facility)
    latest = await again.latest_checkins(["lab"])
    assert latest["lab"].state.value == "up"
    await again.redis.aclose()
