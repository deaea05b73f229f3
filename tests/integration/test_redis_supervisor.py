"""The embedded redis-server is restarted on its data when it dies, with back-off when it keeps
dying; /readyz (the store's ping) is false meanwhile."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.app import Lifeline, build_lifeline
from bot.config.settings import Settings
from bot.config.tuning import RestartPolicy, Tuning
from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from tests.conftest import Bot
from tests.waiting import until

FAST = RestartPolicy(poll=0.05, backoff=1.0, max_backoff=4.0, stable_after=60.0)


@pytest.fixture
async def embedded_bot(facility: FacilityConfig) -> AsyncIterator[Bot]:
    """A started Lifeline with no REDIS_URL: it runs (and supervises) its own redis-server."""
    directory = Path(tempfile.mkdtemp(prefix="ll-sup-", dir="/tmp"))
    settings = Settings(_env_file=None, LIFELINE_DATA_DIR=directory)
    tuning = Tuning(edit_interval=0.01, live_board=False, redis_restart=FAST)
    lifeline = await build_lifeline(settings, facility, [], tuning=tuning)
    await lifeline.start()
    yield Bot(lifeline)
    await lifeline.close()
    shutil.rmtree(directory, ignore_errors=True)


def _server(lifeline: Lifeline) -> EmbeddedRedis:
    assert lifeline.connection.embedded is not None
    return lifeline.connection.embedded


def _kill(server: EmbeddedRedis) -> int:
    pid = int(server.pidfile.read_text())
    os.kill(pid, signal.SIGKILL)
    return pid


def _metric(lifeline: Lifeline, name: str) -> float:
    for line in lifeline.metrics.render().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


async def _ready(lifeline: Lifeline) -> bool:
    return (await lifeline.ready())["redis"]


def _new_pid(server: EmbeddedRedis, old: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return int(server.pidfile.read_text()) != old and server.running()
        except (OSError, ValueError):
            return False

    return check


async def test_a_killed_server_is_restarted_on_its_data_and_counted(embedded_bot: Bot) -> None:
    lifeline = embedded_bot.lifeline
    server = _server(lifeline)
    assert (await embedded_bot.send("status lab up analyser back")).outcome == "recorded"
    with capture_logs() as logs:
        old = _kill(server)
        started = time.monotonic()
        await until(_new_pid(server, old), timeout=10)
        await until(lambda: _ready(lifeline), timeout=10)
        recovered = time.monotonic() - started
        await until(lambda: _metric(lifeline, "lifeline_redis_restarts_total") == 1.0)
    print(f"embedded redis back after {recovered:.2f} s")
    restarted = [e for e in logs if e["event"] == "embedded_redis.restarted"]
    assert [(e["restarts"], e["crashes_in_a_row"]) for e in restarted] == [(1, 1)]
    assert _metric(lifeline, "lifeline_redis_restarts_total") == 1.0
    # The same data: what was recorded before the crash is there (AOF, appendfsync always).
    [entry] = await embedded_bot.store.query_log(LogQuery(departments=["lab"]))
    assert entry.text == "analyser back"
    reply = await embedded_bot.send("status lab down analyser offline")
    assert reply.lines[0] == "Recorded: Laboratory is DOWN — Non-functional (no incident open)"


async def test_a_server_that_keeps_dying_is_restarted_with_growing_pauses(
    embedded_bot: Bot,
) -> None:
    lifeline = embedded_bot.lifeline
    server = _server(lifeline)
    pauses = []
    with capture_logs() as logs:
        for crash in range(1, 4):
            old = _kill(server)
            await until(lambda: not server.running(), timeout=5)
            if crash > 1:
                # Backing off: the server stays down for the pause, and /readyz says so.
                await until(lambda: _metric(lifeline, "lifeline_redis_restart_backoff_seconds") > 0)
                assert not await _ready(lifeline)
                pauses.append(_metric(lifeline, "lifeline_redis_restart_backoff_seconds"))
            await until(_new_pid(server, old), timeout=15)
            await until(lambda: _ready(lifeline), timeout=10)
            await until(lambda n=crash: _metric(lifeline, "lifeline_redis_restarts_total") == n)
    assert pauses == [1.0, 2.0]
    backing_off = [e["seconds"] for e in logs if e["event"] == "embedded_redis.backing_off"]
    assert backing_off == [1.0, 2.0]
    assert _metric(lifeline, "lifeline_redis_restarts_total") == 3.0


async def test_with_redis_url_there_is_no_supervisor(bot: Bot) -> None:
    assert bot.lifeline.supervisor is None
