"""`M_LIMIT_EXCEEDED` from Synapse itself (a per-user override) is waited out, within a bound."""

from __future__ import annotations

import time

import pytest
from structlog.testing import capture_logs

from bot.config.tuning import RetryPolicy
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Reply
from bot.transports.matrix import MatrixTransport
from tests.e2e.matrix_fixtures import MatrixWorld


async def test_rate_limited_messages_wait_as_told_and_are_all_delivered_once(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    transport = runner.transport
    assert transport is not None
    room = await matrix.room_with_bot()
    await matrix.synapse.limit_messages(matrix.bot.user_id, per_second=2, burst_count=1)

    started = time.monotonic()
    with capture_logs() as logs:
        refs = [await transport.post(room, Reply(lines=[f"update {n}"])) for n in range(4)]
    elapsed = time.monotonic() - started
    await matrix.alice.wait_for(room, lambda e: e["event_id"] == refs[-1].message_id)

    bodies = [
        e["content"]["body"]
        for e in matrix.alice.events_from(room, matrix.bot.user_id)
        if e["type"] == "m.room.message"
    ]
    assert bodies == ["update 0", "update 1", "update 2", "update 3"]
    retries = [entry for entry in logs if entry["event"] == "matrix.retrying"]
    assert retries, "Synapse should have rate-limited the bot"
    assert {entry["reason"] for entry in retries} == {"rate limited (M_LIMIT_EXCEEDED)"}
    assert all(0 < entry["retry_in"] <= 0.5 for entry in retries)  # Synapse's retry_after_ms
    assert elapsed >= 1.0  # 3 messages beyond the burst at 2 per second: really waited


async def test_waiting_is_bounded_and_then_delivery_fails_with_the_reason(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot(matrix_retry=RetryPolicy(max_wait=0.05, attempts=3))
    transport = runner.transport
    assert transport is not None
    room = await matrix.room_with_bot()
    await matrix.synapse.limit_messages(matrix.bot.user_id, per_second=1, burst_count=1)

    # Burst 1 at 1 per second: of two posts in a row, one at most gets through.
    with pytest.raises(DeliveryFailed) as failure:
        await _post_twice(transport, room)

    assert failure.value.channel == room
    assert failure.value.reason.startswith(
        "post: rate limited (M_LIMIT_EXCEEDED); gave up after 1 attempts"
    )


async def _post_twice(transport: MatrixTransport, room: str) -> None:
    for n in range(2):
        await transport.post(room, Reply(lines=[f"post {n}"]))
