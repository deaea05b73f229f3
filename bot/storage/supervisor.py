"""Keeps the embedded redis-server running: restarted on the same data (its AOF is replayed) when
it dies, with a growing pause between restarts while it keeps dying — never a tight loop."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from bot.config.tuning import RestartPolicy
from bot.observability.metrics import Metrics
from bot.storage.embedded_redis import EmbeddedRedis, EmbeddedRedisError

log = structlog.get_logger(__name__)


class RedisSupervisor:
    """Watches an EmbeddedRedis this process started (or reused) and restarts it when it dies.

    The first restart after a quiet spell is immediate (within `poll` plus a start-up of tens
    of milliseconds); each crash soon after the last restart doubles the pause, up to
    `max_backoff`. Every restart is logged once and counted in `lifeline_redis_restarts`; a
    pause is logged and shown by the `lifeline_redis_restart_backoff_seconds` gauge while it
    lasts. `/readyz` asks the store, so it says false for as long as the server is gone.
    """

    def __init__(self, server: EmbeddedRedis, metrics: Metrics, policy: RestartPolicy) -> None:
        self._server = server
        self._metrics = metrics
        self._policy = policy
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._watch(), name="redis-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        crashes = 0  # in a row: each within `stable_after` of the restart before it
        restarted_at = 0.0
        while not self._stopping:
            await asyncio.sleep(self._policy.poll)
            if self._server.running():
                if crashes and time.monotonic() - restarted_at > self._policy.stable_after:
                    crashes = 0
                continue
            pause = self._pause(crashes)
            if pause:
                self._metrics.redis_restart_backoff(pause)
                log.warning("embedded_redis.backing_off", seconds=pause, crashes_in_a_row=crashes)
                await asyncio.sleep(pause)
                self._metrics.redis_restart_backoff(0.0)
            crashes += 1
            restarted_at = time.monotonic()
            await self._restart(crashes)

    def _pause(self, crashes: int) -> float:
        if crashes == 0:
            return 0.0
        return float(min(self._policy.backoff * 2.0 ** (crashes - 1), self._policy.max_backoff))

    async def _restart(self, crashes: int) -> None:
        try:
            await self._server.start()
        except EmbeddedRedisError as error:
            log.error("embedded_redis.restart_failed", error=str(error), crashes_in_a_row=crashes)
            return
        self.restarts += 1
        self._metrics.redis_restarted()
        log.warning(
            "embedded_redis.restarted",
            socket=str(self._server.socket),
            restarts=self.restarts,
            crashes_in_a_row=crashes,
        )
