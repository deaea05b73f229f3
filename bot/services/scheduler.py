"""Jobs due at a time, kept in Redis so they survive restarts and fire once across processes.

A process claims due jobs with one script that pushes each claimed job a lease into the future;
no other process sees it due meanwhile. After running it, the job is rescheduled or removed. A
process that dies mid-job leaves it to fire again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.storage.schedule import Schedule

log = structlog.get_logger(__name__)
JobRunner = Callable[[dict[str, Any]], Awaitable[datetime | None]]


class Scheduler:
    """Polls the schedule and runs due jobs with the runner registered for their `kind`."""

    def __init__(
        self,
        schedule: Schedule,
        clock: Callable[[], datetime],
        runners: dict[str, JobRunner],
        *,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._schedule = schedule
        self._clock = clock
        self._runners = runners
        self._poll = poll_seconds
        self._lease = lease
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def run_due(self) -> int:
        """Claim and run every job that is due; returns how many ran."""
        jobs = await self._schedule.claim(self._clock(), self._lease)
        for job in jobs:
            runner = self._runners.get(str(job.get("kind")))
            if runner is None:
                log.error("scheduler.unknown_job", job=job)
                await self._schedule.cancel(job)
                continue
            try:
                next_due = await runner(job)
            except Exception:
                log.exception("scheduler.job_failed", job=job)
                continue  # the lease brings it back
            if next_due is None:
                await self._schedule.cancel(job)
            else:
                await self._schedule.put(job, next_due)
        return len(jobs)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_due()
            except Exception:
                log.exception("scheduler.poll_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)

    async def stop(self, grace: float = 5.0) -> None:
        """Let the poll in hand finish, then leave; cancel only if it overruns `grace`.

        Not cancel-first: a cancellation that lands inside a redis-py call can be swallowed
        there (seen on Python 3.11: the task stayed `cancelling` and polled on, and shutdown
        waited for it for ever). The flag ends the loop whatever happens to the cancel.
        """
        self._stopping.set()
        if self._task is None:
            return
        _, late = await asyncio.wait({self._task}, timeout=grace)
        if late:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
