"""Department-filtered `log` query over a 1,000,000-entry log: indexed store query vs a scan.

    make bench            # or: .venv/bin/python -m bench.log_query [--entries N]

Fills a fresh embedded redis-server (AOF off while filling: this measures reads) with entries
spread over 20 departments — one of them rare (0.1 %), as a quiet department is — then times
`Store.query_log(departments=[d], limit=50)` against the same query answered by scanning the
stream newest-first, in the same run. Target: indexed ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.facility import Department, FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, LogEntry, LogKind
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store

COMMON = [f"dept-{n:02d}" for n in range(19)]
RARE = "rare-unit"
ACTORS = [Actor(id=f"U{n:04d}", name=f"user{n}", transport="slack") for n in range(200)]
KINDS = [LogKind.CHECKIN, LogKind.CHECKIN, LogKind.NOTE, LogKind.RUNBOOK_STEP]


def facility() -> FacilityConfig:
    return FacilityConfig(departments=tuple(Department(id=d) for d in [*COMMON, RARE]))


async def fill(store: Store, entries: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    batch = 2000
    began = time.perf_counter()
    for offset in range(0, entries, batch):
        jobs = []
        for n in range(offset, min(offset + batch, entries)):
            dept = RARE if rng.random() < 0.001 else rng.choice(COMMON)
            entry = LogEntry(
                at=start + timedelta(seconds=n), kind=rng.choice(KINDS), actor=rng.choice(ACTORS),
                department=dept, text="cabinets on override, paper orders by tube",
                data={"state": "down"},
            )  # fmt: skip
            jobs.append(store.append(f"bench-{n}", entry))
        await asyncio.gather(*jobs)
        if offset % 100_000 == 0 and offset:
            print(f"  filled {offset:,} ({time.perf_counter() - began:.0f}s)", flush=True)


async def scan(store: Store, dept: str, limit: int) -> int:
    """The same query without indexes: read the stream newest-first until `limit` match."""
    found, cursor = 0, "+"
    while found < limit:
        rows = await store.redis.xrevrange(store.keys.log, cursor, "-", count=1000)
        if not rows:
            break
        for _entry_id, fields in rows:
            if LogEntry.model_validate_json(fields[b"e"]).department == dept:
                found += 1
                if found == limit:
                    break
        last_ms, last_seq = rows[-1][0].decode().split("-")
        cursor = f"({last_ms}-{last_seq}"
    return found


async def timed(runs: int, action: object) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await action()  # type: ignore[operator]
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def main(entries: int, runs: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ll-bench-", dir="/tmp"))
    server = EmbeddedRedis(directory)
    await server.start()
    client = server.client()
    try:
        await client.config_set("appendonly", "no")
        store = Store(client, facility())
        print(f"filling {entries:,} log entries over {len(COMMON) + 1} departments ...", flush=True)
        began = time.perf_counter()
        await fill(store, entries)
        print(
            f"filled in {time.perf_counter() - began:.0f}s; log length {await store.log.count():,}"
        )
        print(
            f"\n{'query (limit 50)':<34}{'indexed median':>15}{'p99':>9}{'scan median':>13}{'scan/indexed':>14}"
        )
        for label, dept in (
            ("department (1 in 19.5)", COMMON[3]),
            ("rare department (1 in 1000)", RARE),
        ):
            query = LogQuery(departments=[dept], limit=50)
            got = len(await store.query_log(query))
            indexed, p99 = await timed(runs, lambda q=query: store.query_log(q))
            scanned, _ = await timed(max(runs // 10, 3), lambda d=dept: scan(store, d, 50))
            print(
                f"{label:<34}{indexed:>12.2f} ms{p99:>6.2f} ms{scanned:>10.2f} ms{scanned / indexed:>13.1f}x  ({got} rows)"
            )
        target = "met" if indexed <= 20 else "MISSED"
        print(f"\ntarget: indexed department query <= 20 ms: {target}")
    finally:
        await client.aclose()
        await server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.runs))
