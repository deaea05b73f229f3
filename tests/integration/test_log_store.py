from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, LogEntry, LogKind
from bot.storage.store import Store

ALICE = Actor(id="U1", name="alice", transport="slack")
BOB = Actor(id="@bob:h.org", name="bob", transport="matrix")
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def entry(n: int, dept: str | None, kind: LogKind = LogKind.NOTE, actor: Actor = ALICE) -> LogEntry:
    return LogEntry(
        at=START + timedelta(minutes=n), kind=kind, actor=actor, department=dept, text=f"e{n}"
    )


async def fill(store: Store) -> None:
    for n in range(30):
        dept = ["pharmacy", "lab", "radiology"][n % 3]
        kind = LogKind.CHECKIN if n % 2 == 0 else LogKind.NOTE
        await store.append(f"cmd-{n}", entry(n, dept, kind, ALICE if n % 5 else BOB))


async def test_an_appended_entry_gets_a_stream_id_and_reads_back_intact(store: Store) -> None:
    committed = await store.append(
        "cmd-1", entry(1, "lab").model_copy(update={"text": "🧪 <!here> ok"})
    )
    [read] = await store.log.get([committed.entry_id])
    assert read.id == committed.entry_id
    assert read.text == "🧪 <!here> ok"
    assert read.actor == ALICE


async def test_the_same_idempotency_key_records_once(store: Store) -> None:
    first = await store.append("cmd-1", entry(1, "lab"))
    second = await store.append("cmd-1", entry(2, "lab"))
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.entry_id == first.entry_id
    assert await store.log.count() == 1


async def test_queries_are_newest_first_and_filter_by_each_dimension(store: Store) -> None:
    await fill(store)
    pharmacy = await store.query_log(LogQuery(departments=["pharmacy"], limit=3))
    assert [e.text for e in pharmacy] == ["e27", "e24", "e21"]
    two_depts = await store.query_log(LogQuery(departments=["pharmacy", "lab"], limit=4))
    assert [e.text for e in two_depts] == ["e28", "e27", "e25", "e24"]
    checkins_by_bob = await store.query_log(LogQuery(kinds=["checkin"], actors=[BOB.id], limit=10))
    assert [e.text for e in checkins_by_bob] == ["e20", "e10", "e0"]
    lab_notes = await store.query_log(LogQuery(departments=["lab"], kinds=["note"], limit=10))
    assert [e.text for e in lab_notes] == ["e25", "e19", "e13", "e7", "e1"]


async def test_since_bounds_the_query_by_time(store: Store, redis: Redis) -> None:
    await fill(store)
    ids = [e.id for e in await store.query_log(LogQuery(limit=30))]
    # entries carry their own `at`, but the index orders by stream id (write time): bound by that
    cutoff_ms = int(ids[4].split("-")[0])
    since = datetime.fromtimestamp(cutoff_ms / 1000, UTC)
    recent = await store.query_log(
        LogQuery(departments=["pharmacy", "lab", "radiology"], since=since, limit=50)
    )
    unfiltered_recent = await store.query_log(LogQuery(since=since, limit=50))
    assert [e.id for e in recent] == [e.id for e in unfiltered_recent]
    assert all(int(e.id.split("-")[0]) >= cutoff_ms for e in recent)


async def test_pagination_across_index_pages_returns_every_match(store: Store) -> None:
    for n in range(150):
        await store.append(f"c{n}", entry(n, "lab" if n % 10 == 0 else "pharmacy"))
    lab = await store.query_log(LogQuery(departments=["lab"], actors=[ALICE.id], limit=100))
    assert [e.text for e in lab] == [f"e{n}" for n in range(140, -1, -10)]


async def test_a_query_with_no_match_is_empty(store: Store) -> None:
    await fill(store)
    assert await store.query_log(LogQuery(departments=["dietary"])) == []
