"""Display names from `users.info`, cached, so the log says "Dr. Rivera" and not "U04ABC"."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)


class DisplayNames:
    """One lookup per user at a time, however many of their commands arrive at once. A lookup
    that fails or is slow gives the fallback (a command is never held up past `timeout`)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 3600.0,
        failure_ttl: float = 60.0,
        timeout: float = 1.0,
        max_entries: int = 10_000,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self.timeout = timeout
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._pending: dict[str, asyncio.Task[str | None]] = {}

    async def name(self, user_id: str, fallback: str = "") -> str:
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1] or fallback or user_id
        task = self._pending.get(user_id)
        if task is None:
            task = asyncio.create_task(self._lookup(user_id))
            self._pending[user_id] = task
            task.add_done_callback(lambda _: self._pending.pop(user_id, None))
        try:
            found = await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except TimeoutError:
            found = None
        return found or fallback or user_id

    async def _lookup(self, user_id: str) -> str | None:
        try:
            response = await self._client.users_info(user=user_id)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("slack.user_name_unavailable", user=user_id, error=type(error).__name__)
            self._remember(user_id, None, self._failure_ttl)
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
        )
        found = str(name) if name else None
        self._remember(user_id, found, self._ttl if found else self._failure_ttl)
        return found

    def _remember(self, user_id: str, name: str | None, ttl: float) -> None:
        self._cache[user_id] = (time.monotonic() + ttl, name)
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)

    async def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
