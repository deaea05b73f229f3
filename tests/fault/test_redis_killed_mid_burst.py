"""The embedded redis-server SIGKILLed during a burst of 300 signed Slack check-ins."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from bot.storage.embedded_redis import EmbeddedRedis
from tests.fault.conftest import Serve
from tests.fault.serve_process import classify, logged_notes, tally
from tests.waiting import until

BURST = 300
DEPARTMENTS = ("pharmacy", "lab", "radiology", "emergency", "icu", "surgery")


async def test_every_answered_checkin_is_logged_once_and_writes_resume_within_3s(
    serve: Serve, data_dir: object
) -> None:
    bot = serve()
    await bot.start()
    server = EmbeddedRedis(bot.data_dir)
    sent: dict[str, str] = {}
    gate = asyncio.Semaphore(25)

    async def one(n: int) -> None:
        note = f"burst-{n:03d}"
        async with gate:
            sent[note] = await bot.checkin(
                f"{DEPARTMENTS[n % len(DEPARTMENTS)]} down {note}", user=f"U{n % 10 + 1}"
            )

    tasks = [asyncio.create_task(one(n)) for n in range(BURST)]
    await until(lambda: len(sent) >= 100, timeout=60)
    os.kill(int(server.pidfile.read_text()), signal.SIGKILL)
    killed = time.monotonic()
    await asyncio.gather(*tasks)

    # Writes succeed again (a check-in answered "Recorded") without restarting the bot.
    probes = 0
    while True:
        probes += 1
        answer = await bot.checkin(f"it up probe {probes}")
        if classify(answer) == "recorded":
            break
        assert time.monotonic() - killed < 10, answer
        await asyncio.sleep(0.05)  # a person retrying, not a flood
    recovered = time.monotonic() - killed
    assert bot.process is not None and bot.process.poll() is None  # the same bot process
    await until(bot.ready, timeout=5)

    counts = tally(sent, await logged_notes(server.url))
    replayed = await bot.metric('lifeline_spool_replayed_total{result="recorded"}')
    restarts = await bot.metric("lifeline_redis_restarts_total")
    print(
        f"\nredis killed mid-burst: {counts}, replayed {replayed:.0f} (probes included), "
        f"restarts {restarts:.0f}, writes recorded again {recovered:.2f} s after the kill"
    )
    assert restarts == 1
    assert counts["other"] == counts["refused"] == 0, counts
    assert counts["accepted"] + counts["spooled"] == BURST
    assert (counts["lost"], counts["duplicated"]) == (0, 0)
    assert counts["logged"] == BURST
    assert recovered < 3.0
