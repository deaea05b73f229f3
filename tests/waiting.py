"""Waiting for a condition in a test: a bounded poll of the real thing, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def until(condition: Callable[[], Any], timeout: float = 15.0) -> None:
    """Return once `condition()` (sync or async) is truthy; fail the test after `timeout`
    (generous: it is only reached when the condition never comes)."""
    deadline = time.monotonic() + timeout
    while not await _value(condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


async def _value(result: Any) -> Any:
    return await result if asyncio.iscoroutine(result) else result
