"""Sending with patience: `M_LIMIT_EXCEEDED` is waited out as the homeserver asks, and an
unreachable homeserver is retried with backoff — both within a bound, then `DeliveryFailed`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import ClientConnectionError
from nio import ErrorResponse

from bot.transports.base import DeliveryFailed
from bot.transports.matrix.config import RetryPolicy

log = structlog.get_logger(__name__)
LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
DEFAULT_RETRY_AFTER_MS = 1000


async def with_retries(
    call: Callable[[], Awaitable[Any]],
    policy: RetryPolicy,
    *,
    room: str,
    action: str,
    accept: tuple[str, ...] = (),
) -> Any:
    """Run `call` (a nio request) until it succeeds; raise DeliveryFailed with the reason once
    the policy's bound is reached, or at once for an error that waiting cannot fix. Errors whose
    code is in `accept` are answers, returned as they are.

    Callers pass a fixed transaction id, so a retry after a lost answer cannot post twice.
    """
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await call()
        except (ClientConnectionError, TimeoutError) as error:
            delay = min(policy.first_backoff * 2 ** (attempt - 1), policy.max_backoff)
            reason = f"homeserver unreachable ({type(error).__name__})"
        else:
            if not isinstance(response, ErrorResponse) or response.status_code in accept:
                return response
            if response.status_code != LIMIT_EXCEEDED:
                raise DeliveryFailed("matrix", room, f"{action}: {_describe(response)}")
            delay = (response.retry_after_ms or DEFAULT_RETRY_AFTER_MS) / 1000
            reason = f"rate limited ({LIMIT_EXCEEDED})"
        if attempt >= policy.max_attempts or waited + delay > policy.max_wait:
            raise DeliveryFailed(
                "matrix",
                room,
                f"{action}: {reason}; gave up after {attempt} attempts and {waited:.1f}s waiting",
            )
        log.warning(
            "matrix.retrying", action=action, room=room, reason=reason, retry_in=round(delay, 3)
        )
        await asyncio.sleep(delay)
        waited += delay


def _describe(response: Any) -> str:
    code = response.status_code or "error"
    return f"{code} {response.message}".strip()
