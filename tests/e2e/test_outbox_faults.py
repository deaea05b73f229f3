"""Fault cases for the delivery outbox, with real `python -m bot serve` processes on one Redis and
Slack's Web API stood in (answering some 429s): a bot SIGKILLed mid-broadcast, and one of two
replicas SIGKILLed mid-roll-call. Each asserts exact counts per channel."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.keys import Keys
from tests.serve_process import BotProcess, write_facility
from tests.slack_api_stub import SlackApiStub
from tests.waiting import until

CHANNELS = [f"C{n:03d}" for n in range(100)]
DEPARTMENTS = [f"unit-{n:02d}" for n in range(30)]
LEASE = "2"  # seconds: how long a killed replica's entries wait before another takes them


@pytest.fixture
async def stub() -> AsyncIterator[SlackApiStub]:
    stub = await SlackApiStub(users={"UIC": "Pat Chen", "U1": "Rx Lead", "U2": "Lab Lead"}).start()
    yield stub
    await stub.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def outbox_depth(redis: Redis, facility: str) -> object:
    return redis.xlen(Keys(FacilityConfig(facility=facility).slug).outbox)


def broadcast_copies(stub: SlackApiStub, channel: str) -> list[str]:
    return [str(m.params.get("text", "")) for m in stub.copies_in(channel, "General Message")]


async def test_a_bot_killed_mid_broadcast_leaves_every_channel_exactly_one_copy_after_restart(
    redis: Redis, redis_server: EmbeddedRedis, stub: SlackApiStub, http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:  # fmt: skip
    config = write_facility(tmp_path / "lifeline.yaml", {
        "facility": "Fault Hospital",
        "timezone": "America/New_York",
        "roles": {"commander": ["UIC"]},
        "channels": {"incident": {"slack": "C000"}, "broadcast": {"slack": CHANNELS}},
    })  # fmt: skip
    stub.delays["chat.postMessage"] = 0.15  # slow enough to kill it part-way
    stub.fail_every("chat.postMessage", 7, (429,), retry_after=1)
    bot = BotProcess(stub, redis_server.url, config, tmp_path, {"LIFELINE_OUTBOX_LEASE": LEASE})
    await bot.start(http)
    try:
        await bot.slash(http, "/incident", "start Network outage", user="UIC", channel="C000")
        await until(lambda: stub.copies_in("C000", "Network outage"))  # the board
        await bot.slash(http, "/broadcast", "Use paper orders", user="UIC", channel="C000")
        for user in ("U1", "U2"):  # acks while the copies go out
            await bot.slash(http, "/lifeline", "ack B-1", user=user, channel="C001")
        await until(lambda: sum(bool(broadcast_copies(stub, c)) for c in CHANNELS) >= 30)
        bot.kill()
        await bot.wait_dead()
        before = sum(bool(broadcast_copies(stub, c)) for c in CHANNELS)

        restarted = time.monotonic()
        await bot.start(http)
        await until(lambda: all(broadcast_copies(stub, c) for c in CHANNELS), timeout=60)
        recovered = time.monotonic() - restarted
        await until(lambda: _is_zero(outbox_depth(redis, "Fault Hospital")), timeout=30)
        await until(
            lambda: all(
                "Acknowledged by 2" in "".join(broadcast_copies(stub, c)) for c in CHANNELS
            ),
            timeout=30,
        )  # every copy converges on the store's count, the sender's (C000) included
    finally:
        await bot.stop()

    counts = {c: len(broadcast_copies(stub, c)) for c in CHANNELS}
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    lost = sum(1 for n in counts.values() if n == 0)
    found = bot.log_text().count('"event": "outbox.found_sent"')
    print(f"\nbroadcast fault: copies before kill {before}, after restart {sum(counts.values())}, "
          f"duplicated {duplicated}, lost {lost}, found already sent {found}, "
          f"recovered in {recovered:.1f}s (lease {LEASE}s)")  # fmt: skip
    assert 30 <= before < 100
    assert counts == dict.fromkeys(CHANNELS, 1)
    assert stub.invalid == []
    assert '"event": "outbox.reclaimed"' in bot.log_text()


async def _is_zero(depth: object) -> bool:
    return await depth == 0  # type: ignore[misc]


async def test_one_of_two_replicas_killed_mid_roll_call_the_survivor_asks_and_reminds_once(
    redis: Redis, redis_server: EmbeddedRedis, stub: SlackApiStub, http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:  # fmt: skip
    config = write_facility(tmp_path / "lifeline.yaml", {
        "facility": "Replica Hospital",
        "timezone": "America/New_York",
        "rollcall_interval": "12s",
        "roles": {"commander": ["UIC"]},
        "departments": [
            {"id": d, "name": f"Unit {d[-2:]}", "slack_channel": f"D{d[-2:]}"}
            for d in DEPARTMENTS
        ],
        "channels": {"incident": {"slack": "CINC"}},
    })  # fmt: skip
    env = {"LIFELINE_OUTBOX_LEASE": LEASE}
    first = BotProcess(stub, redis_server.url, config, tmp_path / "a", env)
    survivor = BotProcess(stub, redis_server.url, config, tmp_path / "b", env)
    first.data_dir.mkdir()
    survivor.data_dir.mkdir()
    await first.start(http)
    await survivor.start(http)
    try:
        await first.slash(http, "/incident", "start EHR downtime", user="UIC", channel="CINC")
        for dept in DEPARTMENTS[:4]:  # these have reported: not asked
            await survivor.slash(http, "/checkin", f"{dept} up", user="U1", channel="CINC")
        stub.delays["chat.postMessage"] = 0.3
        stub.fail_every("chat.postMessage", 6, (429,), retry_after=1)
        answer = await first.slash(http, "/rollcall", "", user="UIC", channel="CINC")
        asked = DEPARTMENTS[4:]
        # Two report after being asked; the reminder (12 s after the roll call) skips them.
        for dept in asked[:2]:
            await survivor.slash(http, "/checkin", f"{dept} partial", user="U2", channel="CINC")
        reminded = asked[2:]
        await until(lambda: sum(bool(_asks(stub, d)) for d in asked) >= 8)
        first.kill()
        await first.wait_dead()
        before = sum(bool(_asks(stub, d)) for d in asked)
        killed = time.monotonic()
        await until(lambda: all(_asks(stub, d) for d in asked), timeout=60)
        recovered = time.monotonic() - killed
        await until(lambda: all(_reminders(stub, d) for d in reminded), timeout=60)
        await until(lambda: _is_zero(outbox_depth(redis, "Replica Hospital")), timeout=30)
    finally:
        await first.stop()
        await survivor.stop()

    asks = {d: len(_asks(stub, d)) for d in DEPARTMENTS}
    reminders = {d: len(_reminders(stub, d)) for d in DEPARTMENTS}
    print(f"\nroll-call fault: asks before kill {before} of {len(asked)}, asks {sum(asks.values())}, "
          f"reminders {sum(reminders.values())} of {len(reminded)}, survivor finished the asks "
          f"in {recovered:.1f}s (lease {LEASE}s)")  # fmt: skip
    assert "Asked 26 department(s)" in str(answer) + str(stub.hooks())
    assert 8 <= before < len(asked)
    assert asks == {d: 0 if d in DEPARTMENTS[:4] else 1 for d in DEPARTMENTS}
    assert reminders == {d: 1 if d in reminded else 0 for d in DEPARTMENTS}
    assert '"event": "outbox.reclaimed"' in survivor.log_text()


def _asks(stub: SlackApiStub, dept: str) -> list[str]:
    return [t for t in _texts(stub, f"D{dept[-2:]}") if t.startswith("Roll call") and "please" in t]


def _reminders(stub: SlackApiStub, dept: str) -> list[str]:
    return [t for t in _texts(stub, f"D{dept[-2:]}") if t.startswith("Reminder — Roll call")]


def _texts(stub: SlackApiStub, channel: str) -> list[str]:
    return [str(m.params.get("text", "")) for m in stub.messages.values() if m.channel == channel]
