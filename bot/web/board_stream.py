"""The web board's live feed: one publisher renders the snapshot once per change and hands the
same bytes to every open page (server-sent events), however many are watching."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from bot.domain.errors import StoreUnavailable

log = structlog.get_logger(__name__)
Render = Callable[[], Awaitable[str]]  # the snapshot as JSON
WaitForChange = Callable[[str, float], Awaitable[str]]  # (last seen, seconds) → newest position
Position = Callable[[], Awaitable[str]]
Generation = Callable[[], Awaitable[int]]


def frame(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


CLOSED = frame("closed", json.dumps({"reason": "revoked"}))
SHUTDOWN = b""  # the server is stopping: end the response, the page reconnects later


@dataclass(eq=False)
class Subscription:
    """One open page: a mailbox holding only the newest frame (a snapshot replaces the last)."""

    generation: int
    expires: datetime
    _frame: bytes | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, data: bytes) -> None:
        if self._frame is not CLOSED:
            self._frame = data
            self._ready.set()

    async def next(self, timeout: float) -> bytes | None:
        """The newest frame, or None after `timeout` seconds without one."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return None
        self._ready.clear()
        data, self._frame = self._frame, None if self._frame is not CLOSED else CLOSED
        return data


class BoardFeed:
    def __init__(
        self,
        render: Render,
        position: Position,
        wait_for_change: WaitForChange,
        generation: Generation,
        *,
        min_interval: float = 0.5,
        refresh: float = 15.0,
    ) -> None:
        self._render = render
        self._position = position
        self._wait = wait_for_change
        self._generation = generation
        self._min_interval = min_interval  # at most one render per interval, whatever the load
        self._refresh = refresh  # re-render this often anyway: ages and stale marks move on
        self._subscribers: set[Subscription] = set()
        self._latest: bytes | None = None
        self._task: asyncio.Task[None] | None = None
        self.renders = 0

    @property
    def viewers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, generation: int, expires: datetime) -> Subscription:
        subscription = Subscription(generation, expires)
        self._subscribers.add(subscription)
        if self._latest is not None:
            subscription.offer(self._latest)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="board-feed")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    async def _run(self) -> None:
        position = "0-0"
        while True:
            try:
                position = await self._position()
                await self._publish()
                while True:
                    await asyncio.sleep(self._min_interval)
                    position = await self._wait(position, self._refresh)
                    await self._publish()
            except StoreUnavailable:
                self._fan_out(frame("trouble", json.dumps({"reason": "database unreachable"})))
                log.warning("board.feed_store_unreachable")
                self._latest = None
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("board.feed_failed")
                await asyncio.sleep(1.0)

    async def _publish(self) -> None:
        snapshot = await self._render()
        generation = await self._generation()
        self.renders += 1
        self._latest = frame("board", snapshot)
        for subscription in list(self._subscribers):
            if subscription.generation != generation:
                subscription.offer(CLOSED)
        self._fan_out(self._latest)

    def _fan_out(self, data: bytes) -> None:
        for subscription in self._subscribers:
            subscription.offer(data)

    async def close(self) -> None:
        """End every open stream (server shutdown) and stop publishing."""
        for subscription in self._subscribers:
            subscription.offer(SHUTDOWN)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
