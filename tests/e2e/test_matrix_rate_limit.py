"""`M_LIMIT_EXCEEDED` from Synapse itself (a per-user override) is waited out, within a bound."""

from __future__ import annotations

import asyncio
import time

import pytest
from structlog.testing import capture_logs

from bot.config.tuning import RetryPolicy
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Reply
from bot.transports.matrix import MatrixTransport
from bot.transports.matrix.render import render_content
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.waiting import until


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


async def test_the_send_budget_serves_answers_first_then_posts_then_edits_coalesced(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    transport = runner.transport
    assert transport is not None
    room = await matrix.room_with_bot()
    board = await transport.post(room, Reply(lines=["board v0"]))
    # 2 per second, burst 1 (not the default 0.2/s, burst 10): the same queueing, 10× faster.
    await matrix.synapse.limit_messages(matrix.bot.user_id, per_second=2, burst_count=1)

    posts = [
        asyncio.create_task(transport.post(room, Reply(lines=[f"post {n}"]))) for n in range(4)
    ]
    await until(lambda: transport.budget.throttled())  # the homeserver said M_LIMIT_EXCEEDED
    edits = [asyncio.create_task(transport.update(board, Reply(lines=[f"board v{n}"])))
             for n in range(1, 4)]  # fmt: skip
    answer = asyncio.create_task(transport.answer(room, render_content(Reply(lines=["answer"]))))
    await asyncio.gather(*posts, *edits, answer)
    await matrix.alice.wait_for(
        room, lambda e: e["content"].get("m.new_content", {}).get("body") == "board v3"
    )

    bodies = [
        e["content"]["body"]
        for e in matrix.alice.events_from(room, matrix.bot.user_id)
        if e["type"] == "m.room.message"
    ]
    # One post was in flight when the limit hit; the answer overtakes the posts still queued;
    # the three edits of the board, queued behind them, went as one: the newest.
    assert bodies[0] == "board v0"
    assert bodies[-1] == "* board v3"
    assert bodies.index("answer") < bodies.index("post 3")
    assert sorted(bodies[1:-1]) == sorted(["answer", "post 0", "post 1", "post 2", "post 3"])
    assert [b for b in bodies if b.startswith("post")] == ["post 0", "post 1", "post 2", "post 3"]
