"""Which rooms the bot joins and whom it listens to (encrypted rooms: test_matrix_encryption.py)."""

from __future__ import annotations

import json

from tests.e2e.matrix_fixtures import MatrixWorld
from tests.e2e.matrix_harness import is_membership, replied_to


async def _joined_rooms(matrix: MatrixWorld) -> list[str]:
    data = await matrix.synapse.request("GET", "/_matrix/client/v3/joined_rooms", matrix.bot)
    return list(data["joined_rooms"])


async def test_joins_on_invite_from_an_allowed_user_and_declines_others(
    matrix: MatrixWorld,
) -> None:
    await matrix.started_bot()
    theirs = await matrix.mallory.create_room(invite=[matrix.bot.user_id])
    ours = await matrix.bob.create_room(invite=[matrix.bot.user_id])  # @bob*:localhost glob

    await matrix.bob.wait_for(ours, is_membership(matrix.bot.user_id, "join"))
    await matrix.mallory.wait_for(theirs, is_membership(matrix.bot.user_id, "leave"))

    assert await _joined_rooms(matrix) == [ours]


async def test_commands_from_users_not_allowed_are_ignored(matrix: MatrixWorld) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()
    await matrix.alice.invite(room, matrix.mallory.user_id)
    await matrix.mallory.join(room)

    ignored = await matrix.mallory.send(room, "!status pharmacy down")
    # The control: the bot handles a room's events in order, queueing each answer before the
    # next, so once alice's answer is here any answer to mallory's would already be here too.
    command = await matrix.alice.send(room, "!status lab up")
    await matrix.alice.reply_to(room, command)

    from_bot = matrix.alice.events_from(room, matrix.bot.user_id)
    replies = [e for e in from_bot if e["type"] == "m.room.message"]
    assert [replied_to(e) for e in replies] == [command]
    assert [e for e in from_bot if ignored in json.dumps(e["content"])] == []  # nor a reaction
    assert list(await matrix.store.latest_checkins(["pharmacy", "lab"])) == ["lab"]
    assert await matrix.store.log.count() == 1  # alice's check-in; nothing of mallory's


async def test_commands_sent_before_the_bot_joined_are_not_run(matrix: MatrixWorld) -> None:
    await matrix.started_bot()
    room = await matrix.alice.create_room()
    await matrix.alice.send(room, "!status pharmacy down said before the bot was here")
    await matrix.alice.invite(room, matrix.bot.user_id)
    await matrix.alice.wait_for(room, is_membership(matrix.bot.user_id, "join"))

    command = await matrix.alice.send(room, "!status lab up")
    await matrix.alice.reply_to(room, command)

    assert list(await matrix.store.latest_checkins(["pharmacy", "lab"])) == ["lab"]
