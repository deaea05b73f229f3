"""Log export and the after-action report at scale, and check-in latency while an export runs.

    .venv/bin/python -m bench.export [--entries 1000000] [--report-entries 100000]

Fills a fresh embedded redis-server (AOF off: this measures reads) with `--entries` log entries,
the last `--report-entries` of them in one incident. Then, each as its own process the way IT
runs them (`REDIS_URL` pointing at that server):
  1. `python -m bot export --format csv -o FILE` of the whole log: wall time and peak RSS
     (targets ≤ 60 s, ≤ 150 MB);
  2. `python -m bot report INC --format html|md -o FILE` over the incident (target ≤ 10 s);
  3. `python -m bot serve` on the same Redis (Slack HTTP mode, Web API stood in): a burst of
     signed /checkin requests alone, then the same burst while a full CSV export runs; p50/p99
     compared in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.bare_bolt import SECRET, TOKEN
from bench.processes import ROOT, free_port, spawn, wait_ready
from bench.slack_checkin import checkin_body, load, merged, signed
from bot.domain.broadcast import Broadcast
from bot.domain.facility import FacilityConfig
from bot.domain.models import Actor, Incident, LogEntry, LogKind
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store

REPORT_INCIDENT = "INC-20261101-2"
ACTORS = [Actor(id=f"U{n:04d}", name=f"user{n}", transport="slack") for n in range(200)]
STATES = ("up", "partial", "down")
NOTES = ("cabinets on override, paper orders by tube", "=phoned criticals", "PACS read-only")


def entry_for(
    n: int, rng: random.Random, start: datetime, incident: str, depts: list[str]
) -> LogEntry:
    at = start + timedelta(seconds=n)
    actor = rng.choice(ACTORS)
    roll = rng.random()
    if roll < 0.8:
        return LogEntry(at=at, incident_id=incident, kind=LogKind.CHECKIN, actor=actor,
                        department=rng.choice(depts), text=rng.choice(NOTES),
                        data={"state": rng.choice(STATES), "period": 1})  # fmt: skip
    if roll < 0.9:
        broadcast = f"B-{rng.randint(1, 20)}"
        return LogEntry(at=at, incident_id=incident, kind=LogKind.BROADCAST_ACK, actor=actor,
                        text=f"acknowledged {broadcast}", data={"broadcast": broadcast})  # fmt: skip
    return LogEntry(at=at, incident_id=incident, kind=LogKind.NOTE, actor=actor,
                    text="generator fuel checked, 40 h left")  # fmt: skip


async def fill(store: Store, entries: int, report_entries: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    depts = [d.id for d in store.facility.departments]
    report_from = entries - report_entries
    opened = start + timedelta(seconds=report_from)
    incident = Incident(id=REPORT_INCIDENT, title="Bench outage", severity=2,
                        commander=ACTORS[0], opened_at=opened, period_started_at=opened,
                        closed_at=start + timedelta(seconds=entries + 60))  # fmt: skip
    await store.redis.set(store.keys.incident(incident.id), incident.model_dump_json())
    await store.redis.zadd(store.keys.incidents, {incident.id: opened.timestamp()})
    began = time.perf_counter()
    batch = 2000
    for offset in range(0, entries, batch):
        jobs = []
        for n in range(offset, min(offset + batch, entries)):
            incident_id = REPORT_INCIDENT if n >= report_from else "INC-20261101-1"
            if n == report_from:
                entry = LogEntry(at=opened, incident_id=incident_id, kind=LogKind.INCIDENT_OPENED,
                                 actor=ACTORS[0], text="Bench outage")  # fmt: skip
            elif report_from < n <= report_from + 20:  # the broadcasts the acks are for
                number = n - report_from
                broadcast = Broadcast(id=f"B-{number}", incident_id=incident_id, priority="normal",
                                      text=f"update {number}", sender=ACTORS[0],
                                      sender_role="Incident Commander",
                                      at=start + timedelta(seconds=n))  # fmt: skip
                await store.broadcasts.record(f"bench-{n}", broadcast)
                continue
            else:
                entry = entry_for(n, rng, start, incident_id, depts)
            jobs.append(store.append(f"bench-{n}", entry))
        await asyncio.gather(*jobs)
        if offset % 200_000 == 0 and offset:
            print(f"  filled {offset:,} ({time.perf_counter() - began:.0f}s)", flush=True)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS (MB) and exit status of `python <args>` (CPU time
    is the steadier figure on a machine shared with other work)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        assert process.stderr is not None
        print(process.stderr.read().decode()[-2000:])
    if process.stderr is not None:
        process.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, process.returncode


async def checkin_latency(env: dict[str, str], work: Path, requests: int, rounds: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.slack_api_stub import SlackApiStub

    stub = await SlackApiStub(users={f"U{n:03d}": f"Bench User {n}" for n in range(50)}).start()
    port = free_port()
    bot_env = {**env, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": stub.url, "HOST": "127.0.0.1", "PORT": str(port),
               "LOG_FORMAT": "json"}  # fmt: skip
    bot = spawn(["-m", "bot", "serve"], bot_env)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50))
    try:
        await wait_ready(http, f"http://127.0.0.1:{port}/readyz")
        url = f"http://127.0.0.1:{port}/slack/events"
        hook = stub.hook_url("bench")
        body = checkin_body(hook, "start Bench check-ins sev 2", "/incident")
        async with http.post(url, data=body, headers=signed(body)) as response:
            assert response.status == 200
        await load(http, "warm-up", url, hook, 300, 50, bot.pid)
        alones, durings, outlasted = [], [], 0
        for _ in range(rounds):  # alternating, so other load on the machine hits both alike
            alones.append(await load(http, "alone", url, hook, requests, 50, bot.pid))
            export = spawn(["-m", "bot", "export", "-o", str(work / "during.csv")], env)
            await asyncio.sleep(2.0)  # the export is past its start-up and streaming
            durings.append(await load(http, "during export", url, hook, requests, 50, bot.pid))
            outlasted += export.poll() is not None
            await asyncio.to_thread(export.wait)
        alone, during = merged(alones), merged(durings)
        still_running = outlasted == 0
        print(f"\n{requests} signed /checkin requests × {rounds} rounds, 50 concurrent, "
              "`python -m bot serve` on the same Redis")  # fmt: skip
        print(f"{'':28}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
        for result in (alone, during):
            print(f"{result.name:28}{result.throughput:8.0f}{result.percentile(0.5) * 1000:9.2f}"
                  f"{result.percentile(0.99) * 1000:9.2f}{result.failures:8d}")  # fmt: skip
        p50 = during.percentile(0.5) / alone.percentile(0.5)
        p99 = during.percentile(0.99) / alone.percentile(0.99)
        print(f"during/alone: p50 {p50:.2f}×, p99 {p99:.2f}×; export still running at the end "
              f"of every burst: {'yes' if still_running else 'NO (a burst outlasted it)'}")  # fmt: skip
    finally:
        await http.close()
        bot.send_signal(signal.SIGTERM)
        bot.wait(15)
        await stub.stop()


async def main(entries: int, report_entries: int, checkins: int, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ll-bench-export-", dir="/tmp"))
    server = EmbeddedRedis(work / "redis-data")
    await server.start()
    client = server.client()
    env = {"REDIS_URL": server.url, "LIFELINE_DATA_DIR": str(work / "var"), "LOG_LEVEL": "warning"}
    for name in ("SLACK_APP_TOKEN", "SLACK_COMMAND_PREFIX", "LIFELINE_CONFIG", "MATRIX_HOMESERVER"):
        os.environ.pop(name, None)
    try:
        await client.config_set("appendonly", "no")
        store = Store(client, FacilityConfig())
        print(f"filling {entries:,} log entries ({report_entries:,} in {REPORT_INCIDENT}) ...",
              flush=True)  # fmt: skip
        began = time.perf_counter()
        await fill(store, entries, report_entries)
        print(
            f"filled in {time.perf_counter() - began:.0f}s; log length {await store.log.count():,}"
        )

        out = work / "log.csv"
        seconds, cpu, rss, status = run_measured(["-m", "bot", "export", "-o", str(out)], env)
        rows = sum(1 for _ in out.open("rb")) - 1 if status == 0 else 0
        size = out.stat().st_size / 1e6 if status == 0 else 0
        print(f"\n{'':36}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}  target")
        print(f"{'export, whole log, CSV':36}{seconds:8.1f}{cpu:8.1f}{rss:13.0f}  ≤ 60 s, "
              f"≤ 150 MB  ({rows:,} lines, {size:.0f} MB)")  # fmt: skip
        for fmt in ("html", "md"):
            target = work / f"report.{fmt}"
            args = ["-m", "bot", "report", REPORT_INCIDENT, "--format", fmt, "-o", str(target)]
            seconds, cpu, rss, status = run_measured(args, env)
            size = target.stat().st_size / 1e6 if status == 0 else 0
            label = f"report, {report_entries:,} entries, {fmt}"
            print(f"{label:36}{seconds:8.1f}{cpu:8.1f}{rss:13.0f}  ≤ 10 s  ({size:.1f} MB)")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        await checkin_latency(env, work, checkins, rounds)
    finally:
        await client.aclose()
        await server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--report-entries", type=int, default=100_000)
    parser.add_argument("--checkins", type=int, default=3000, help="per burst")
    parser.add_argument("--rounds", type=int, default=3, help="bursts alone / during export")
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.report_entries, args.checkins, args.rounds))
