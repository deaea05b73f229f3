"""Matrix sends an outbox-owed message at most once per login: a resend after a crash carries the
transaction id derived from the outbox key, and Synapse answers it with the event it has."""

from __future__ import annotations

from bot.domain.reply import Reply
from tests.e2e.matrix_fixtures import MatrixWorld


async def test_a_resend_with_the_same_outbox_key_is_one_message_even_after_a_restart(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    room = await matrix.room_with_bot()
    assert runner.transport is not None
    copy = Reply(title="B-7 · NORMAL · General Message", lines=["Use paper orders"])
    key = f"1700000000000-0 matrix {room}"

    first = await runner.transport.post(room, copy, key=key)
    again = await runner.transport.post(room, copy, key=key)
    await runner.stop()
    restarted = await matrix.started_bot()  # the saved login: same access token
    assert restarted.transport is not None
    after_restart = await restarted.transport.post(room, copy, key=key)
    other = await restarted.transport.post(room, copy, key=f"1700000000001-0 matrix {room}")

    assert again.message_id == first.message_id
    assert after_restart.message_id == first.message_id
    assert other.message_id != first.message_id
    await matrix.alice.wait_for(room, lambda e: e["event_id"] == other.message_id)
    bodies = [
        e["event_id"]
        for e in matrix.alice.events_from(room, matrix.bot.user_id)
        if e["content"].get("body", "").startswith("B-7")
    ]
    assert bodies == [first.message_id, other.message_id]
