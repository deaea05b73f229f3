"""The in-process event bus: publishing never waits for subscribers (the board, fan-out)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from bot.domain.events import Event

log = structlog.get_logger(__name__)
Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    """Publishing never waits for subscribers: a reply is not held up by a slow platform."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, tuple[type, ...]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, subscriber: Subscriber, kind: type, *more: type) -> None:
        """`subscriber` hears only events of the kinds named: a check-in wakes the board and
        nothing else (each delivery is a task, and check-ins are the hot path)."""
        self._subscribers.append((subscriber, (kind, *more)))

    def publish(self, event: Event) -> None:
        for subscriber, kinds in self._subscribers:
            if not isinstance(event, kinds):
                continue
            task = asyncio.create_task(self._deliver(subscriber, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, subscriber: Subscriber, event: Event) -> None:
        try:
            await subscriber(event)
        except Exception:
            log.exception("event.subscriber_failed", event_type=type(event).__name__)

    async def drain(self) -> None:
        """Wait for deliveries in flight (used on shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
