"""The ✅-reaction seam: a reaction on a broadcast's message runs `ack <broadcast id>` as the
person who reacted. Which message carries which broadcast is the store's to say (see below)."""

from __future__ import annotations

from structlog.testing import capture_logs

from bot.reply import Reply
from tests.e2e.matrix_fixtures import MatrixWorld


class BroadcastMessages:
    """Stands in for the store's `broadcast_for_message`, which arrives with broadcasts."""

    def __init__(self, messages: dict[tuple[str, str], str]) -> None:
        self.messages = messages
        self.lookups: list[tuple[str, str]] = []

    async def broadcast_for_message(self, transport: str, message_id: str) -> str | None:
        self.lookups.append((transport, message_id))
        return self.messages.get((transport, message_id))


async def test_a_check_mark_on_a_broadcast_runs_ack_as_the_reacting_user(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    transport = runner.transport
    assert transport is not None
    room = await matrix.room_with_bot()
    await matrix.alice.invite(room, matrix.mallory.user_id)
    await matrix.mallory.join(room)
    broadcast = await transport.post(room, Reply(lines=["Use paper downtime forms"]))
    other = await transport.post(room, Reply(lines=["Not a broadcast"]))
    directory = BroadcastMessages({("matrix", broadcast.message_id): "B-7"})
    transport.broadcasts = directory

    with capture_logs() as logs:
        await matrix.mallory.react(room, broadcast.message_id, "✅")  # not an allowed user
        await matrix.alice.react(room, broadcast.message_id, "👍")  # not an acknowledgement
        await matrix.alice.react(room, other.message_id, "✅")  # not a broadcast
        acked = await matrix.alice.react(room, broadcast.message_id, "✅\ufe0f")
        barrier = await matrix.alice.send(room, "!help")
        await matrix.alice.reply_to(room, barrier)

    assert directory.lookups == [("matrix", other.message_id), ("matrix", broadcast.message_id)]
    commands = [
        (entry["command_id"], entry["actor"]) for entry in logs if entry["event"] == "command"
    ]
    assert commands == [
        (f"matrix:{acked}", matrix.alice.user_id),
        (f"matrix:{barrier}", matrix.alice.user_id),
    ]
