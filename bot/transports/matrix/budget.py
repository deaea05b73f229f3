"""One send budget per homeserver: every message the bot sends waits its turn here, answers to
people first, then broadcast copies and roll-call asks, then board edits (a newer edit of a
message still queued replaces the older one). `M_LIMIT_EXCEEDED` pauses everything for as long
as the homeserver asks; then one send at a time probes until one goes through."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import structlog
from aiohttp import ClientConnectionError
from nio import ErrorResponse

from bot.config.tuning import RetryPolicy
from bot.domain.delivery import DeliveryFailed
from bot.observability.metrics import Metrics

log = structlog.get_logger(__name__)
LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
DEFAULT_RETRY_AFTER_MS = 1000
CONCURRENCY = 4  # sends in flight at once while the homeserver is not throttling
# Edits wait until nothing more urgent was queued for this long: a burst of check-ins arrives over a
# few syncs, and an edit sent between its answers would spend a message of the homeserver's burst
# that an answer needs (the board coalesces meanwhile, so it loses nothing but this delay).
EDIT_QUIET = 1.0
PROBE_STREAK = 3  # successes in a row, after a refusal, before sending concurrently again
THROTTLE_MEMORY = 60.0  # seconds after the last M_LIMIT_EXCEEDED that the bot counts as throttled


class Priority(IntEnum):
    ANSWER = 0  # a reply to a person's command
    MESSAGE = 1  # broadcast copies, roll-call asks, the board's first post, notices
    EDIT = 2  # board and ack-count edits, pins, confirming reactions


@dataclass(order=True)
class _Job:
    priority: int
    sequence: int
    call: Callable[[], Awaitable[Any]] = field(compare=False)
    room: str = field(compare=False)
    action: str = field(compare=False)
    accept: tuple[str, ...] = field(compare=False)
    coalesce: str | None = field(compare=False)
    futures: list[asyncio.Future[Any]] = field(compare=False, default_factory=list)
    attempts: int = field(compare=False, default=0)
    waited: float = field(compare=False, default=0.0)
    backoff: float = field(compare=False, default=0.0)


class SendBudget:
    """`send` queues a nio request and returns its response once sent; it raises
    DeliveryFailed when the request fails for good or the retry policy's bound is reached."""

    def __init__(
        self,
        policy: RetryPolicy,
        metrics: Metrics,
        *,
        concurrency: int = CONCURRENCY,
        on_throttled: Callable[[float], None] | None = None,  # on every M_LIMIT_EXCEEDED
    ) -> None:
        self._policy = policy
        self._metrics = metrics
        self._concurrency = concurrency
        self._on_throttled = on_throttled
        self._queue: list[_Job] = []
        self._queued: dict[str, _Job] = {}  # coalescing key → the job still waiting
        self._sequence = itertools.count()
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._paused_until = 0.0
        # After M_LIMIT_EXCEEDED: one send at a time until a few in a row went through (at the
        # homeserver's pace each success is followed by a refusal, which restarts the count).
        self._probing = False
        self._streak = 0
        self.last_throttled: float | None = None  # time.monotonic() of the last M_LIMIT_EXCEEDED
        self._workers: list[asyncio.Task[None]] = []
        self._retrying: set[asyncio.Task[None]] = set()
        self._sending: dict[int, _Job] = {}  # in flight, to fail if the budget closes under them
        self._backing_off: dict[int, _Job] = {}  # waiting out a network error's backoff
        self._closed = False
        self._last_urgent = -EDIT_QUIET  # time.monotonic() when an answer or post was last queued

    # Callers -----------------------------------------------------------------------------------

    async def send(
        self,
        priority: Priority,
        call: Callable[[], Awaitable[Any]],
        *,
        room: str,
        action: str,
        accept: tuple[str, ...] = (),
        coalesce: str | None = None,
    ) -> Any:
        """Queue `call`; with `coalesce`, a job with the same key still queued takes this call
        instead (the newer edit wins) and both callers get its response."""
        if self._closed:
            raise DeliveryFailed("matrix", room, f"{action}: the Matrix transport is stopped")
        self._start_workers()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        async with self._changed:
            queued = self._queued.get(coalesce) if coalesce else None
            if queued is not None:
                queued.call = call
                queued.futures.append(future)
            else:
                if priority < Priority.EDIT:
                    self._last_urgent = time.monotonic()
                job = _Job(priority, next(self._sequence), call, room, action, accept, coalesce)
                job.futures.append(future)
                job.backoff = self._policy.backoff
                self._push(job)
            self._changed.notify_all()
        return await future

    def throttled(self) -> bool:
        """Whether the homeserver rate-limited the bot within the last minute."""
        last = self.last_throttled
        return last is not None and time.monotonic() - last < THROTTLE_MEMORY

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def close(self) -> None:
        """Stops sending; whatever is queued or in flight fails with DeliveryFailed."""
        self._closed = True
        # Collected first: a cancelled worker forgets its job as it unwinds.
        stranded = [*self._queue, *self._sending.values(), *self._backing_off.values()]
        tasks = [*self._workers, *self._retrying]
        for worker in tasks:
            worker.cancel()
        for worker in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        for job in stranded:
            self._fail(job, DeliveryFailed("matrix", job.room, f"{job.action}: stopping"))
        self._queue.clear()
        self._sending.clear()
        self._backing_off.clear()
        self._queued.clear()

    # Workers -----------------------------------------------------------------------------------

    def _start_workers(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"matrix-send-{n}")
                for n in range(self._concurrency)
            ]

    def _push(self, job: _Job) -> None:
        heapq.heappush(self._queue, job)
        if job.coalesce:
            self._queued[job.coalesce] = job
        self._metrics.send_queue("matrix", len(self._queue))

    async def _take(self) -> _Job:
        async with self._changed:
            while True:
                limit = 1 if self._probing else self._concurrency
                now = time.monotonic()
                pause = self._paused_until - now
                if self._queue and self._queue[0].priority == Priority.EDIT:
                    pause = max(pause, self._last_urgent + EDIT_QUIET - now)
                if self._queue and self._in_flight < limit and pause <= 0:
                    job = heapq.heappop(self._queue)
                    if job.coalesce and self._queued.get(job.coalesce) is job:
                        del self._queued[job.coalesce]
                    self._in_flight += 1
                    self._metrics.send_queue("matrix", len(self._queue))
                    return job
                timeout = pause if pause > 0 else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)

    async def _work(self) -> None:
        while True:
            job = await self._take()
            self._sending[id(job)] = job
            try:
                outcome = await self._attempt(job)
            finally:
                self._sending.pop(id(job), None)
                async with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()
            if outcome is not None:  # back off without holding a worker
                retry = asyncio.create_task(self._later(job, outcome))
                self._retrying.add(retry)
                retry.add_done_callback(self._retrying.discard)

    async def _attempt(self, job: _Job) -> float | None:
        """Send once. None when the job is finished (sent or failed for good); else how long
        it should wait before it is queued again (a network error's backoff)."""
        job.attempts += 1
        try:
            response = await job.call()
        except (ClientConnectionError, TimeoutError) as error:
            return self._network_error(job, f"homeserver unreachable ({type(error).__name__})")
        except Exception as error:  # a bug or a nio refusal: this job fails, the others go on
            log.exception("matrix.send_failed", room=job.room, action=job.action)
            self._fail(job, DeliveryFailed("matrix", job.room, f"{job.action}: {error!r}"))
            return None
        if isinstance(response, ErrorResponse) and response.status_code == LIMIT_EXCEEDED:
            await self._rate_limited(job, response)
            return None
        if isinstance(response, ErrorResponse) and response.status_code not in job.accept:
            self._metrics.delivery("matrix", "failed")
            self._fail(
                job, DeliveryFailed("matrix", job.room, f"{job.action}: {_describe(response)}")
            )
            return None
        async with self._changed:
            self._streak += 1
            if self._streak >= PROBE_STREAK:
                self._probing = False
            self._changed.notify_all()
        self._metrics.delivery("matrix", "ok")
        if self.last_throttled is not None and not self.throttled():
            self._metrics.throttled("matrix", False)
        for future in job.futures:
            if not future.done():
                future.set_result(response)
        return None

    async def _rate_limited(self, job: _Job, response: Any) -> None:
        asked = (response.retry_after_ms or DEFAULT_RETRY_AFTER_MS) / 1000
        delay = min(asked, self._policy.max_retry_after)
        self.last_throttled = time.monotonic()
        self._metrics.throttled("matrix", True)
        if job.attempts >= self._policy.attempts or job.waited + delay > self._policy.max_wait:
            reason = (
                f"{job.action}: rate limited ({LIMIT_EXCEEDED}); gave up after {job.attempts} "
                f"attempts and {job.waited:.1f}s waiting"
            )
            self._metrics.delivery("matrix", "failed")
            self._fail(job, DeliveryFailed("matrix", job.room, reason))
        else:
            job.waited += delay
            self._metrics.retry("matrix", "rate_limited", delay)
            reason = f"rate limited ({LIMIT_EXCEEDED})"
            log.warning("matrix.retrying", action=job.action, channel=job.room, reason=reason,
                        retry_in=round(delay, 3))  # fmt: skip
        async with self._changed:
            self._paused_until = max(self._paused_until, time.monotonic() + delay)
            self._probing = True
            self._streak = 0
            if job.futures and not all(future.done() for future in job.futures):
                self._push(job)  # keeps its place: same priority and sequence
            self._changed.notify_all()
        if self._on_throttled is not None:
            self._on_throttled(delay)

    def _network_error(self, job: _Job, reason: str) -> float | None:
        delay = job.backoff
        if job.attempts >= self._policy.attempts or job.waited + delay > self._policy.max_wait:
            spent = f"gave up after {job.attempts} attempts and {job.waited:.1f}s waiting"
            self._metrics.delivery("matrix", "failed")
            self._fail(job, DeliveryFailed("matrix", job.room, f"{job.action}: {reason}; {spent}"))
            return None
        job.waited += delay
        job.backoff = min(job.backoff * 2, self._policy.max_backoff)
        self._metrics.retry("matrix", "error", delay)
        log.warning("matrix.retrying", action=job.action, channel=job.room, reason=reason,
                    retry_in=round(delay, 3))  # fmt: skip
        return delay

    async def _later(self, job: _Job, delay: float) -> None:
        self._backing_off[id(job)] = job
        try:
            await asyncio.sleep(delay)
        finally:
            self._backing_off.pop(id(job), None)
        async with self._changed:
            self._push(job)
            self._changed.notify_all()

    def _fail(self, job: _Job, failure: DeliveryFailed) -> None:
        for future in job.futures:
            if not future.done():
                future.set_exception(failure)


def _describe(response: Any) -> str:
    code = response.status_code or "error"
    return f"{code} {response.message}".strip()
