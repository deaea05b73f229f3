"""One retry policy for every platform: rate limits waited out as the platform asks (capped),
server and network errors retried with doubling backoff, attempts and total waiting bounded, and
each retry and rate-limit wait counted in metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from bot.config.tuning import RetryPolicy
from bot.observability.metrics import Metrics

__all__ = ["Exhausted", "Retry", "RetryPolicy", "with_retries"]

log = structlog.get_logger(__name__)
T = TypeVar("T")


class Retry(Exception):
    """An answer worth waiting out. `wait` is what the platform asked for (rate limits); None
    means back off."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class Exhausted(Exception):
    """The policy's bound was reached; `reason` is the last thing that went wrong."""

    def __init__(self, reason: str, attempts: int, waited: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.waited = waited


async def with_retries(
    once: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    metrics: Metrics,
    *,
    transport: str,
    action: str,
    channel: str,
) -> T:
    """Call `once` until it returns. It raises Retry for what waiting can fix; anything else it
    raises passes through at once. Raises Exhausted when the policy's bound is reached."""
    backoff = policy.backoff
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return await once()
        except Retry as retry:
            pending = retry
        rate_limited = pending.wait is not None
        delay = min(pending.wait, policy.max_retry_after) if pending.wait is not None else backoff
        if attempt >= policy.attempts or waited + delay > policy.max_wait:
            raise Exhausted(pending.reason, attempt, waited)
        if not rate_limited:
            backoff = min(backoff * 2, policy.max_backoff)
        metrics.retry(transport, "rate_limited" if rate_limited else "error", delay)
        log.warning(
            f"{transport}.retrying",
            action=action,
            channel=channel,
            reason=pending.reason,
            retry_in=round(delay, 3),
        )
        await asyncio.sleep(delay)
        waited += delay
