"""How soon a `/checkin` with no text reaches `views.open` (Slack's trigger_id lasts 3 s),
idle and under the load of bench/slack_checkin.py, against the whole bot.

    python -m bench.slack_forms [--requests 3000] [--concurrency 50]

The bot runs as `python -m bot serve` (embedded redis-server, an incident open); the Web API
stand-in and the load generator share this process, and the stand-in notes when each views.open
arrives. Loopback only; the request count is bounded."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.bare_bolt import SECRET, TOKEN
from bench.processes import ROOT, free_port, spawn, wait_ready
from bench.slack_checkin import checkin_body, load, signed


async def probe_forms(
    http: aiohttp.ClientSession, url: str, hook: str, stub: object, count: int
) -> tuple[list[float], list[float]]:
    """`count` form-opening `/checkin`s, one every 20 ms: seconds from sending each to its
    views.open arriving at the stand-in, and to its ack."""
    to_view: list[float] = []
    to_ack: list[float] = []

    async def one() -> None:
        body = checkin_body(hook, "")
        trigger = dict(pair.split("=", 1) for pair in body.split("&"))["trigger_id"]
        started = time.perf_counter()
        async with http.post(url, data=body, headers=signed(body)) as response:
            await response.read()
            assert response.status == 200
        to_ack.append(time.perf_counter() - started)

        def opened() -> bool:
            return any(c.params.get("trigger_id") == trigger for c in stub.calls_to("views.open"))  # type: ignore[attr-defined]

        await stub.wait_for(opened, timeout=30)  # type: ignore[attr-defined]
        call = next(c for c in stub.calls_to("views.open") if c.params.get("trigger_id") == trigger)  # type: ignore[attr-defined]
        to_view.append(call.at - started)

    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    return to_view, to_ack


async def run_forms(requests: int, concurrency: int) -> int:
    sys.path.insert(0, str(ROOT))
    from tests.slack_api_stub import SlackApiStub

    stub = await SlackApiStub(users={f"U{n:03d}": f"Bench User {n}" for n in range(50)}).start()
    data_dir = Path(tempfile.mkdtemp(prefix="ll-bench-", dir="/tmp"))
    port = free_port()
    bot_env = {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": stub.url,
        "LIFELINE_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port),
        "LOG_LEVEL": "info", "LOG_FORMAT": "json",
    }  # fmt: skip
    for name in ("REDIS_URL", "SLACK_APP_TOKEN", "SLACK_COMMAND_PREFIX", "LIFELINE_CONFIG"):
        os.environ.pop(name, None)
    process = spawn(["-m", "bot", "serve"], bot_env)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency + 20))
    try:
        await wait_ready(http, f"http://127.0.0.1:{port}/readyz")
        hook = stub.hook_url("bench")
        url = f"http://127.0.0.1:{port}/slack/events"
        body = checkin_body(hook, "start Bench incident sev 2", "/incident")
        async with http.post(url, data=body, headers=signed(body)) as response:
            assert response.status == 200, await response.text()
        await load(http, "bot", url, hook, 300, concurrency, process.pid)  # warm-up
        idle = await probe_forms(http, url, hook, stub, 100)
        loaded_task = asyncio.create_task(
            load(http, "bot", url, hook, requests, concurrency, process.pid)
        )
        await asyncio.sleep(0.2)  # the load is under way
        busy = await probe_forms(http, url, hook, stub, 100)
        loaded = await loaded_task
        await asyncio.sleep(1.5)  # let the last board edit land
    finally:
        await http.close()
        process.send_signal(signal.SIGTERM)
        stopping = time.perf_counter()
        process.wait(60)
        print(f"bot stopped in {time.perf_counter() - stopping:.1f} s")
        await stub.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"/checkin with no text → views.open at the stand-in (100 probes each, one per 20 ms); "
          f"load: {requests} check-ins, {concurrency} concurrent, {loaded.throughput:.0f} req/s")  # fmt: skip
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  ack p99 ms")
    worst = 0.0
    for name, (view, ack) in (("idle", idle), ("under check-in load", busy)):
        ordered = sorted(view)
        worst = max(worst, ordered[-1])
        print(
            f"{name:28} {ordered[len(ordered) // 2] * 1000:8.1f} "
            f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000:8.1f} "
            f"{ordered[-1] * 1000:8.1f}  {sorted(ack)[int(0.99 * len(ack))] * 1000:9.1f}"
        )
    ok = worst < 3.0 and loaded.failures == 0
    print("every form opened well inside the 3 s trigger" if ok else "A TRIGGER WOULD HAVE EXPIRED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="check-ins of the load")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000")
    return asyncio.run(run_forms(args.requests, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
