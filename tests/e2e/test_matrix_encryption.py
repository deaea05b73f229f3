"""End-to-end encrypted rooms, as Element makes them: a person on an e2e-capable client (its own
device keys) talks to the bot in an encrypted DM and an encrypted incident room; the bot reads,
answers, posts the board and broadcasts encrypted, and after a restart it is the same device and
still decrypts and answers."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from bot.domain.facility import Roles
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.e2e.matrix_harness import Event, StaffClient


def _from_bot(matrix: MatrixWorld) -> Any:
    return lambda event: event["sender"] == matrix.bot.user_id


async def _devices(matrix: MatrixWorld) -> list[str]:
    data = await matrix.synapse.request("GET", "/_matrix/client/v3/devices", matrix.bot)
    return [device["device_id"] for device in data["devices"]]


async def _answer(person: StaffClient, room: str, text: str) -> Event:
    """Sends `text` (encrypted: the room is) and returns the bot's decrypted answer."""
    sent = await person.send(room, text)
    raw = await person.synapse.request(
        "GET", f"/_matrix/client/v3/rooms/{room}/event/{sent}", person.user
    )
    assert raw["type"] == "m.room.encrypted"  # what the homeserver holds: ciphertext
    answer = await person.reply_to(room, sent)
    assert answer["event_id"] in person.decrypted  # it arrived encrypted
    return answer


async def test_an_encrypted_dm_is_read_and_answered_encrypted_across_a_restart(
    matrix: MatrixWorld,
) -> None:
    bob = await matrix.e2e_staff()
    with capture_logs() as logs:
        first = await matrix.started_bot()
        dm = await bob.client.room_create(
            invite=[matrix.bot.user_id],
            is_direct=True,
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )  # fmt: skip
        room = dm.room_id
        await bob.wait_for(room, lambda e: e.get("state_key") == matrix.bot.user_id
                           and e["content"].get("membership") == "join")  # fmt: skip
        answer = await _answer(bob, room, "!status lab up generators on")
        device = first.transport.device_id if first.transport else None
        devices = await _devices(matrix)
        await first.stop()

        second = await matrix.started_bot()
        after = await _answer(bob, room, "!status lab")

    assert answer["content"]["msgtype"] == "m.notice"
    assert answer["content"]["body"].startswith("Recorded: Laboratory is UP")
    assert after["content"]["body"].startswith("Laboratory")
    assert "UP" in after["content"]["body"]
    assert second.transport is not None and second.transport.device_id == device
    assert device in devices
    assert await _devices(matrix) == devices  # the restart made no new device
    trusted = [e for e in logs if e["event"] == "matrix.device_trusted"]
    # Trust on first use: bob's device once, logged once, remembered across the restart.
    assert [(e["user_id"], e["device_id"]) for e in trusted] == [(bob.user_id, bob.user.device_id)]
    assert not [e for e in logs if e["event"] == "matrix.undecryptable"]
    checkins = await matrix.store.latest_checkins(["lab"])
    assert checkins["lab"].note == "generators on"


async def test_an_encrypted_incident_room_gets_its_board_and_broadcasts_encrypted(
    matrix: MatrixWorld,
) -> None:
    bob = await matrix.e2e_staff()
    # Bob sends an urgent broadcast below, which needs the commander role (issue 12's policy).
    matrix.facility = matrix.facility.model_copy(update={"roles": Roles(commander=(bob.user_id,))})
    await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await bob.create_room(invite=[bot], encrypted=True, power={bot: 50})
    await bob.wait_for(room, lambda e: e.get("state_key") == bot
                       and e["content"].get("membership") == "join")  # fmt: skip

    opened = await _answer(bob, room, "!incident start Teams outage sev 2")
    board = await bob.wait_for(
        room, lambda e: _from_bot(matrix)(e)
        and e["content"].get("body", "").startswith("Status board")
    )  # fmt: skip
    checkin = await _answer(bob, room, "!status pharmacy down cabinets on override")
    edit = await bob.wait_for(
        room,
        lambda e: "cabinets on override" in e["content"].get("m.new_content", {}).get("body", ""),
    )
    sent = await _answer(bob, room, "!broadcast urgent Use paper downtime forms")
    copy = await bob.wait_for(
        room,
        lambda e: _from_bot(matrix)(e) and e["content"].get("body", "").startswith("@room B-1"),
    )

    assert opened["content"]["body"].startswith("Opened INC-")
    assert checkin["content"]["body"].startswith("Recorded: Pharmacy is DOWN")
    assert edit["content"]["m.relates_to"]["event_id"] == board["event_id"]
    for event in (board, edit, copy):
        assert event["event_id"] in bob.decrypted
    assert copy["content"]["m.mentions"] == {"room": True}
    assert sent["content"]["msgtype"] == "m.notice"
    # Nothing the bot sent here is in the clear on the homeserver.
    for event in bob.events_from(room, bot):
        if event["type"] == "m.room.message":
            assert event["event_id"] in bob.decrypted, event
