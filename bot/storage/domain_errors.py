"""The store speaks the domain: redis-py's connection and timeout errors leave storage only as
`StoreUnavailable`, so nothing above it needs to know Redis exists."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.domain.errors import StoreUnavailable

Cls = TypeVar("Cls", bound=type)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def speaks_domain(cls: Cls) -> Cls:
    """Class decorator: each public coroutine method raises StoreUnavailable where redis-py
    would raise a connection or timeout error."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translated(member))
    return cls


def _translated(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except UNREACHABLE as error:
            raise StoreUnavailable(type(error).__name__) from error

    return translated
