"""Streaming the log oldest first in pages: whole, by incident (a span of the stream), by an
index, and between times — what exports and reports read."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, LogEntry, LogKind
from bot.storage.store import Store
from tests.waiting import until

ALICE = Actor(id="alice", name="alice", transport="console")


async def append(store: Store, n: int, incident: str | None, dept: str | None = None) -> str:
    entry = LogEntry(
        at=datetime(2026, 11, 22, 15, tzinfo=UTC) + timedelta(minutes=n), incident_id=incident,
        kind=LogKind.NOTE, actor=ALICE, department=dept, text=f"note {n}",
    )  # fmt: skip
    entry_id = (await store.append(f"stream-{n}", entry)).entry_id
    # The next entry gets a later millisecond, so time bounds can tell them apart.
    stamp = int(entry_id.split("-")[0])
    await until(lambda: int(time.time() * 1000) > stamp)
    return entry_id


async def streamed(store: Store, query: LogQuery, page: int) -> list[list[str]]:
    return [[e.text for e in entries] async for entries in store.log.stream(query, page)]


async def test_pages_are_oldest_first_and_filters_hold_across_pages(store: Store) -> None:
    ids = [
        await append(store, 0, "INC-1", "lab"),
        await append(store, 1, None, "lab"),  # between two of INC-1's: not INC-1's
        await append(store, 2, "INC-1", "pharmacy"),
        await append(store, 3, "INC-1", "lab"),
        await append(store, 4, "INC-2", "lab"),
    ]
    assert await streamed(store, LogQuery(), 2) == [
        ["note 0", "note 1"], ["note 2", "note 3"], ["note 4"],
    ]  # fmt: skip
    assert await streamed(store, LogQuery(incident_id="INC-1"), 2) == [
        ["note 0"], ["note 2", "note 3"],
    ]  # fmt: skip
    assert await streamed(store, LogQuery(departments=["lab"]), 3) == [
        ["note 0", "note 1", "note 3"], ["note 4"],
    ]  # fmt: skip
    both = LogQuery(departments=["lab"], incident_id="INC-1")
    assert await streamed(store, both, 1000) == [["note 0", "note 3"]]
    assert await streamed(store, LogQuery(incident_id="INC-3"), 10) == []
    # since/until are bounds on the stream ids' times (as `log since` is): [since, until).
    second = datetime.fromtimestamp(int(ids[2].split("-")[0]) / 1000, UTC)
    fourth = datetime.fromtimestamp(int(ids[4].split("-")[0]) / 1000, UTC)
    window = LogQuery(since=second, until=fourth)
    texts = [t for page in await streamed(store, window, 10) for t in page]
    assert texts[0] == "note 2" and "note 4" not in texts
    incident_window = LogQuery(incident_id="INC-1", since=second)
    texts = [t for page in await streamed(store, incident_window, 10) for t in page]
    assert texts[0] == "note 2" and texts[-1] == "note 3"
