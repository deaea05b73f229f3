"""Edits of one message, coalesced: a burst of changes becomes a few edits, the last one exact.

Each key (an incident's board, a broadcast's copies) has at most one worker. A change marks the
key dirty; the worker clears the mark, edits from the current state, waits `min_interval`, and
goes again while the key was marked meanwhile — so the final edit always reads the final state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class CoalescedEdits:
    def __init__(self, edit: Callable[[str], Awaitable[None]], min_interval: float) -> None:
        self._edit = edit
        self._min_interval = min_interval
        self._dirty: set[str] = set()
        self._workers: dict[str, asyncio.Task[None]] = {}

    def request(self, key: str) -> None:
        self._dirty.add(key)
        worker = self._workers.get(key)
        if worker is None or worker.done():
            self._workers[key] = asyncio.create_task(self._work(key))

    async def _work(self, key: str) -> None:
        while key in self._dirty:
            self._dirty.discard(key)
            await self._edit(key)
            await asyncio.sleep(self._min_interval)

    async def settle(self) -> None:
        """Wait until every pending edit is done (shutdown and tests)."""
        while any(not worker.done() for worker in self._workers.values()):
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
