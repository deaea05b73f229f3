"""An external redis-server stopped for 10 s during check-ins, and a bot SIGKILLed with a spool:
what was saved reaches the log once, in order."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.embedded_redis import EmbeddedRedis
from tests.fault.conftest import Serve
from tests.fault.serve_process import classify, logged_notes, tally
from tests.waiting import until

OUTAGE_SECONDS = 10.0  # the spec's outage; the rest of the test is kept short


@pytest.fixture
async def external() -> AsyncIterator[EmbeddedRedis]:
    """A redis-server the bot reaches by REDIS_URL (so nothing restarts it but the test)."""
    directory = Path(tempfile.mkdtemp(prefix="ll-ext-", dir="/tmp"))
    server = EmbeddedRedis(directory)
    await server.start()
    yield server
    if server._process is not None:  # torn down before the bots: kill, don't wait for them
        server._process.kill()
        server._process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


async def _stop(server: EmbeddedRedis) -> None:
    """SIGTERM: redis-server shuts down as an operator's `systemctl stop` would."""
    os.kill(int(server.pidfile.read_text()), signal.SIGTERM)
    await until(lambda: not server.running(), timeout=10)


async def test_an_external_redis_stopped_for_10s_gets_every_checkin_once_in_order(
    serve: Serve, external: EmbeddedRedis
) -> None:
    bot = serve(redis_url=external.url)
    await bot.start()
    sent: dict[str, str] = {}
    for n in range(3):
        sent[f"before-{n}"] = await bot.checkin(f"lab up before-{n}")
    await _stop(external)
    stopped = time.monotonic()
    during = 0
    while time.monotonic() - stopped < OUTAGE_SECONDS:  # a check-in every half second
        sent[f"during-{during:02d}"] = await bot.checkin(
            f"pharmacy down during-{during:02d}", user=f"U{during % 10 + 1}"
        )
        during += 1
        await asyncio.sleep(0.5)
    assert not await bot.ready()
    await external.start()  # the same data dir: its AOF
    back = time.monotonic()
    await until(lambda: _all_logged(external, sent), timeout=15)
    drained = time.monotonic() - back
    after = await bot.checkin("lab up after")
    assert classify(after) == "recorded", after

    notes = await logged_notes(external.url)
    counts = tally(sent, notes)
    replayed = await bot.metric('lifeline_spool_replayed_total{result="recorded"}')
    print(f"\nexternal redis stopped {OUTAGE_SECONDS:.0f} s: {counts}, replayed {replayed:.0f}, "
          f"all in the log {drained:.2f} s after it was back")  # fmt: skip
    assert [classify(sent[f"before-{n}"]) for n in range(3)] == ["recorded"] * 3
    assert counts["spooled"] == during >= 15
    assert replayed == during
    assert (counts["refused"], counts["other"], counts["lost"], counts["duplicated"]) == (0,) * 4
    assert [n for n in notes if n.startswith(("before", "during"))] == sorted(sent)  # in order


async def _all_logged(server: EmbeddedRedis, sent: dict[str, str]) -> bool:
    try:
        notes = set(await logged_notes(server.url))
    except Exception:
        return False
    return notes >= set(sent)


async def test_a_spool_left_by_a_killed_bot_is_replayed_at_the_next_start(
    serve: Serve, external: EmbeddedRedis
) -> None:
    first = serve(redis_url=external.url)
    await first.start()
    await _stop(external)
    sent = {f"left-{n}": await first.checkin(f"icu partial left-{n}") for n in range(10)}
    assert {classify(answer) for answer in sent.values()} == {"spooled"}
    first.kill()  # SIGKILL: no last replay, the journal stays in the data dir
    assert len(list((first.data_dir / "spool").glob("*.jsonl"))) == 1
    await external.start()
    second = serve(redis_url=external.url)  # the next process on the same data dir
    started = time.monotonic()
    await second.start()
    await until(lambda: _all_logged(external, sent), timeout=15)
    recovered = time.monotonic() - started
    counts = tally(sent, await logged_notes(external.url))
    print(f"\nspool of a killed bot: {counts}, replayed by the next start in {recovered:.2f} s")
    assert (counts["spooled"], counts["lost"], counts["duplicated"]) == (10, 0, 0)
    assert await logged_notes(external.url) == sorted(sent)
    assert list((first.data_dir / "spool").glob("*.jsonl")) == []
