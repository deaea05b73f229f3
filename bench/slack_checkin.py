"""Signed `/checkin` load against the whole bot and against bare slack-bolt apps, in one run.

    python -m bench.slack_checkin [--requests 3000] [--concurrency 50] [--rounds 3]

The bot runs as `python -m bot serve` (its embedded redis-server, AOF with appendfsync always,
an incident open so every check-in schedules a board edit). The baselines (bench/bare_bolt.py)
are slack-bolt AsyncApps on the same aiohttp adapter whose only listener acks: one with bolt's
defaults, one with `process_before_response=True` (how Lifeline runs bolt), and one that also
SETs the text in the bot's Redis before it acks (what recording before answering costs any bolt
app). Each runs in its own process; the load generator and the Slack Web API stand-in share this
one. Loopback only; the request count is bounded. The targets (throughput ≥ 0.7×, p99 ≤ 1.5×)
are judged against the faster ack-only app; the other ratios are printed for comparison, with
each server's CPU time per request."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.bare_bolt import SECRET, TOKEN
from bench.processes import ROOT, cpu_seconds, free_port, spawn, wait_ready
from bot.storage.embedded_redis import EmbeddedRedis

DEPARTMENTS = ("pharmacy", "lab", "radiology", "emergency", "icu", "surgery", "nursing")
STATES = ("up", "partial", "down")
SIGNER = SignatureVerifier(SECRET)


# The router alone ---------------------------------------------------------------------------


def router_only(requests: int, concurrency: int) -> None:
    """The same check-ins straight into the router (no HTTP, no Slack): prints check-ins/s."""
    from datetime import UTC, datetime

    from bot.app import build_lifeline
    from bot.config.settings import Settings
    from bot.domain.command import Command
    from bot.domain.facility import FacilityConfig
    from bot.domain.models import Actor
    from bot.observability.logging_setup import configure_logging

    async def main() -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="ll-bench-", dir="/tmp"))
        settings = Settings(_env_file=None, LIFELINE_DATA_DIR=data_dir)
        lifeline = await build_lifeline(settings, FacilityConfig(), transports=[])
        numbers = itertools.count()

        def command(text: str) -> Command:
            n = next(numbers)
            actor = Actor(id=f"U{n % 50:03d}", name=f"Bench User {n % 50}", transport="slack")
            now = datetime.now(UTC)
            return Command(id=f"r{n}", actor=actor, text=text, channel="C1", received_at=now)

        await lifeline.router.handle(command("incident start Bench incident sev 2"))
        remaining = itertools.count()

        async def worker() -> None:
            while (n := next(remaining)) < requests:
                dept = DEPARTMENTS[n % len(DEPARTMENTS)]
                await lifeline.router.handle(command(f"status {dept} {STATES[n % 3]} note {n}"))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        print(f"{requests / (time.perf_counter() - started):.0f}")
        await lifeline.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    with open(os.devnull, "w") as sink:  # like serve: a JSON log line per command, thrown away
        configure_logging("json", "info", sink)
        asyncio.run(main())


def router_rate(requests: int) -> float:
    alone = subprocess.run(
        [sys.executable, "-m", "bench.slack_checkin", "--router-only", str(requests)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(alone.stdout.split()[-1])


# Load -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    failures: int
    cpu_seconds: float = 0.0  # the server process's CPU time (user + system) during the load

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_seconds / len(self.latencies)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SIGNER.generate_signature(timestamp=stamp, body=body)
    assert signature is not None  # None only when there is no timestamp
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


_ids = itertools.count(1)


def checkin_body(hook_url: str, text: str | None = None, command: str = "/checkin") -> str:
    n = next(_ids)
    if text is None:
        text = f"{DEPARTMENTS[n % len(DEPARTMENTS)]} {STATES[n % 3]} bench note {n}"
    return urlencode(
        {
            "team_id": "T1", "channel_id": "C1", "user_id": f"U{n % 50:03d}",
            "user_name": f"user{n % 50}", "command": command, "text": text,
            "response_url": hook_url, "trigger_id": f"{n}.bench",
        }
    )  # fmt: skip


async def load(
    http: aiohttp.ClientSession,
    name: str,
    url: str,
    hook: str,
    requests: int,
    concurrency: int,
    pid: int,
) -> Result:
    latencies: list[float] = []
    failures = 0
    remaining = itertools.count()

    async def worker() -> None:
        nonlocal failures
        while next(remaining) < requests:
            body = checkin_body(hook)
            started = time.perf_counter()
            async with http.post(url, data=body, headers=signed(body)) as response:
                await response.read()
                ok = response.status == 200
            latencies.append(time.perf_counter() - started)
            failures += 0 if ok else 1

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return Result(name, seconds, latencies, failures, cpu_seconds(pid) - cpu_before)


async def run(requests: int, concurrency: int, rounds: int) -> int:
    sys.path.insert(0, str(ROOT))
    from tests.slack_api_stub import SlackApiStub

    stub = await SlackApiStub(users={f"U{n:03d}": f"Bench User {n}" for n in range(50)}).start()
    data_dir = Path(tempfile.mkdtemp(prefix="ll-bench-", dir="/tmp"))
    ports = {name: free_port() for name in ("bot", "bare", "bare-pbr", "bare-write")}
    bot_env = {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": stub.url,
        "LIFELINE_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(ports["bot"]),
        "LOG_LEVEL": "info", "LOG_FORMAT": "json",
    }  # fmt: skip
    for name in ("REDIS_URL", "SLACK_APP_TOKEN", "SLACK_COMMAND_PREFIX", "LIFELINE_CONFIG"):
        os.environ.pop(name, None)
    redis_socket = str(EmbeddedRedis(data_dir).socket)
    baselines = {
        "bare": [],
        "bare-pbr": ["--pbr"],
        "bare-write": ["--pbr", "--redis-socket", redis_socket],
    }
    processes = [spawn(["-m", "bot", "serve"], bot_env)]
    for name, options in baselines.items():
        bare_app = ["-m", "bench.bare_bolt", str(ports[name]), stub.url, *options]
        processes.append(spawn(bare_app, {}))
    connector = aiohttp.TCPConnector(limit=concurrency)
    http = aiohttp.ClientSession(connector=connector)
    try:
        for port in ports.values():
            await wait_ready(http, f"http://127.0.0.1:{port}/readyz")
        hook = stub.hook_url("bench")
        bot_url = f"http://127.0.0.1:{ports['bot']}/slack/events"
        body = checkin_body(hook, "start Bench incident sev 2", "/incident")
        async with http.post(bot_url, data=body, headers=signed(body)) as response:
            assert response.status == 200, await response.text()
        results: dict[str, list[Result]] = {name: [] for name in ports}
        pids = {name: process.pid for name, process in zip(ports, processes, strict=True)}
        for name, port in ports.items():  # warm-up: connections, name cache, JIT-free but fair
            url = f"http://127.0.0.1:{port}/slack/events"
            await load(http, name, url, hook, 300, concurrency, pids[name])
        for _ in range(rounds):
            for name, port in ports.items():
                url = f"http://127.0.0.1:{port}/slack/events"
                result = await load(http, name, url, hook, requests, concurrency, pids[name])
                results[name].append(result)
        await asyncio.sleep(1.5)  # let the last board edit land
        alone = await asyncio.to_thread(router_rate, requests)
        return report(results, requests, concurrency, stub, alone)
    finally:
        await http.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(15)
        await stub.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def merged(parts: list[Result]) -> Result:
    return Result(
        parts[0].name,
        sum(p.seconds for p in parts),
        [x for p in parts for x in p.latencies],
        sum(p.failures for p in parts),
        sum(p.cpu_seconds for p in parts),
    )


def report(
    results: dict[str, list[Result]],
    requests: int,
    concurrency: int,
    stub: object,
    router_rate: float,
) -> int:
    rows = {name: merged(parts) for name, parts in results.items()}
    labels = {
        "bot": "Lifeline /checkin (full)",
        "bare": "bare bolt, defaults",
        "bare-pbr": "bare bolt, process_before_response",
        "bare-write": "bare bolt, pbr + one Redis SET",
    }
    print(f"{requests} signed /checkin requests × {len(results['bot'])} rounds, "
          f"{concurrency} concurrent, loopback, {os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"{'target':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7} {'CPU µs/req':>11}"
    )
    for name, row in rows.items():
        print(
            f"{labels[name]:38} {row.throughput:8.0f} {row.percentile(0.5) * 1000:8.2f} "
            f"{row.percentile(0.99) * 1000:8.2f} {row.failures:7d} "
            f"{row.cpu_per_request * 1e6:11.0f}"
        )
    bot = rows["bot"]
    ok = bot.failures == 0
    for name in ("bare", "bare-pbr", "bare-write"):
        bare = rows[name]
        ratio_t = bot.throughput / bare.throughput
        ratio_p = bot.percentile(0.99) / bare.percentile(0.99)
        print(
            f"vs {labels[name]:35} throughput {ratio_t:.2f}× (target ≥ 0.70), "
            f"p99 {ratio_p:.2f}× (target ≤ 1.50)"
        )
    strict = max(("bare", "bare-pbr"), key=lambda name: rows[name].throughput)
    ok = ok and bot.throughput / rows[strict].throughput >= 0.7
    ok = ok and bot.percentile(0.99) / rows[strict].percentile(0.99) <= 1.5
    print(f"{'the router alone (no HTTP, no Slack)':38} {router_rate:8.0f}")
    updates = len(stub.calls_to("chat.update"))  # type: ignore[attr-defined]
    print(f"board edits received by the Web API stand-in: {updates}")
    print("targets met against the faster bare app" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per target per round")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--router-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.router_only:
        router_only(args.router_only, args.concurrency)
        return 0
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000")
    return asyncio.run(run(args.requests, args.concurrency, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
