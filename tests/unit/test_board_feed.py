"""The board feed's publisher: a store outage reaches open pages as `trouble` (so they mark the
data stale), the next good render brings them back, and a revoked page is closed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain.errors import StoreUnavailable
from bot.web.board_stream import CLOSED, BoardFeed, frame

LATER = datetime.now(UTC) + timedelta(hours=1)


class Source:
    """The feed's inputs: a render that can fail, a log position that moves when told."""

    def __init__(self) -> None:
        self.failures = 0
        self.renders = 0
        self.generation = 0
        self.changed = asyncio.Event()

    async def render(self) -> str:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("ConnectionError")
        self.renders += 1
        return f'{{"render": {self.renders}}}'

    async def position(self) -> str:
        return f"{self.renders}-0"

    async def wait(self, last: str, seconds: float) -> str:
        await self.changed.wait()
        self.changed.clear()
        return f"{self.renders + 1}-0"

    async def current_generation(self) -> int:
        return self.generation


def feed_of(source: Source) -> BoardFeed:
    return BoardFeed(
        source.render, source.position, source.wait, source.current_generation,
        min_interval=0.01, refresh=5,
    )  # fmt: skip


async def test_a_store_outage_reaches_pages_as_trouble_then_recovers() -> None:
    source = Source()
    source.failures = 1
    feed = feed_of(source)
    page = feed.subscribe(0, LATER)
    assert await page.next(5) == frame("trouble", '{"reason": "database unreachable"}')
    assert await page.next(5) == frame("board", '{"render": 1}')
    await feed.close()


async def test_a_revoked_page_is_closed_and_the_others_keep_the_stream() -> None:
    source = Source()
    feed = feed_of(source)
    old = feed.subscribe(0, LATER)
    assert await old.next(5) == frame("board", '{"render": 1}')
    source.generation = 1
    fresh = feed.subscribe(1, LATER)
    assert await fresh.next(5) == frame("board", '{"render": 1}')
    source.changed.set()
    assert await old.next(5) is CLOSED
    assert await fresh.next(5) == frame("board", '{"render": 2}')
    await feed.close()


async def test_a_page_that_joins_late_gets_the_latest_frame_at_once() -> None:
    source = Source()
    feed = feed_of(source)
    first = feed.subscribe(0, LATER)
    assert await first.next(5) == frame("board", '{"render": 1}')
    late = feed.subscribe(0, LATER)
    assert await late.next(0.01) == frame("board", '{"render": 1}')
    assert source.renders == 1 and feed.viewers == 2
    await feed.close()
