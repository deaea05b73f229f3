"""Which rooms the bot joins and whom it listens to; encrypted rooms get one plain explanation."""

from __future__ import annotations

import json

from bot.transports.matrix.rooms import ENCRYPTED_NOTICE
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
    # The control: the bot handles a room's events in order, answering each before the next,
    # so once alice's answer is here any answer to mallory's would already be here too.
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


async def test_an_encrypted_room_is_told_once_that_the_bot_cannot_read_it(
    matrix: MatrixWorld,
) -> None:
    first = await matrix.started_bot()
    room = await matrix.room_with_bot(encrypted=True)

    notice = await matrix.alice.wait_for(
        room, lambda e: e["sender"] == matrix.bot.user_id and e["type"] == "m.room.message"
    )
    # An encrypted message from a client that encrypts, then a plain one as a barrier.
    await matrix.alice.send_event(room, "m.room.encrypted", MEGOLM_MESSAGE)
    barrier = await matrix.alice.send(room, "!help status")
    await matrix.alice.reply_to(room, barrier)
    # Once means once: not again after a restart either.
    await first.stop()
    await matrix.alice.send_event(room, "m.room.encrypted", MEGOLM_MESSAGE)
    await matrix.started_bot()
    after_restart = await matrix.alice.send(room, "!help status")
    await matrix.alice.reply_to(room, after_restart)

    assert notice["content"]["msgtype"] == "m.notice"
    assert notice["content"]["body"] == ENCRYPTED_NOTICE
    said = [
        e
        for e in matrix.alice.events_from(room, matrix.bot.user_id)
        if e["type"] == "m.room.message"
    ]
    answered = [e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}) for e in said]
    assert [e["event_id"] for e in said][:1] == [notice["event_id"]]
    assert answered == [{}, {"event_id": barrier}, {"event_id": after_restart}]


MEGOLM_MESSAGE = {
    "algorithm": "m.megolm.v1.aes-sha2",
    "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3",
    "device_id": "ALICEDEVICE",
    "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
    "session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
}
