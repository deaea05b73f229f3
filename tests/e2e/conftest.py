"""Fixtures for the end-to-end tests; the Matrix ones live in tests/e2e/matrix_fixtures.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from tests.e2e.matrix_fixtures import matrix, synapse
from tests.slack_harness import STAFF_NAMES, SlackBot, running_bot

__all__ = ["matrix", "slack", "synapse"]


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    """The whole bot on Slack (HTTP mode) with named staff; modules may override it."""
    async with running_bot(redis_server, facility, users=STAFF_NAMES) as bot:
        yield bot
