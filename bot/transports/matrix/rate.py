"""Sending with patience: `M_LIMIT_EXCEEDED` is waited out as the homeserver asks, and an
unreachable homeserver is retried with backoff — both within the shared retry policy's bounds
(bot/transports/retry.py), then `DeliveryFailed`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientConnectionError
from nio import ErrorResponse

from bot.domain.delivery import DeliveryFailed
from bot.observability.metrics import Metrics
from bot.transports.retry import Exhausted, Retry, RetryPolicy, with_retries

LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
DEFAULT_RETRY_AFTER_MS = 1000


async def send_patiently(
    call: Callable[[], Awaitable[Any]],
    policy: RetryPolicy,
    metrics: Metrics,
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

    async def once() -> Any:
        try:
            response = await call()
        except (ClientConnectionError, TimeoutError) as error:
            raise Retry(f"homeserver unreachable ({type(error).__name__})") from None
        if not isinstance(response, ErrorResponse) or response.status_code in accept:
            return response
        if response.status_code != LIMIT_EXCEEDED:
            raise DeliveryFailed("matrix", room, f"{action}: {_describe(response)}")
        wait = (response.retry_after_ms or DEFAULT_RETRY_AFTER_MS) / 1000
        raise Retry(f"rate limited ({LIMIT_EXCEEDED})", wait)

    try:
        return await with_retries(
            once, policy, metrics, transport="matrix", action=action, channel=room
        )
    except Exhausted as spent:
        raise DeliveryFailed(
            "matrix",
            room,
            f"{action}: {spent.reason}; gave up after {spent.attempts} attempts and "
            f"{spent.waited:.1f}s waiting",
        ) from None


def _describe(response: Any) -> str:
    code = response.status_code or "error"
    return f"{code} {response.message}".strip()
